"""What a drag (or a paste) carries, turned into one item per download.

A drop holds up to three flavours, and which one is the truth depends on
where it came from:

* a file manager, or a browser dragging one link: ``text/uri-list``
  (local files arrive as ``file://`` URLs);
* a browser dragging a selection: ``text/html`` with the anchors, while
  the plain text holds only their captions;
* an editor, a terminal or a chat: ``text/plain``, maybe prose with links
  in it, maybe one link per line.

:func:`items_from_payload` picks in that order and returns strings for
:func:`aria2_core.links.parse_many`, which then says per item what is wrong.
Pure functions, no Qt: the desktop layer reads the mime data and calls in.
"""

from __future__ import annotations

import re

from .links import FILE_SUFFIXES, extract_hrefs, extract_links, parse_uri_list

_WHITESPACE = re.compile(r"\s")


def _looks_like_item(line: str) -> bool:
    """A line meant as one link or path, rather than prose that may mention links.

    Such lines are kept whole, so a typo ("htps://…", "ftp2://…") or a
    missing file gets its own message instead of vanishing; a word such as
    "Downloads:" is prose and ignored.
    """
    lowered = line.lower()
    if lowered.endswith(tuple(FILE_SUFFIXES)):
        return True  # a path, maybe with spaces in it
    if _WHITESPACE.search(line):
        return False
    return "://" in line or lowered.startswith("magnet:") or "/" in line or "\\" in line


def items_from_text(text: str) -> list[str]:
    """One item per link-like line; the links inside prose lines; in order, once each."""
    items: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _looks_like_item(line):
            items.append(line)
        else:
            items.extend(extract_links(line))
    return list(dict.fromkeys(items))


def items_from_payload(
    uri_list: str | None = None, text: str | None = None, html: str | None = None
) -> list[str]:
    """The items of a drop or paste: uri-list first, then HTML anchors, then text.

    HTML and text are combined when both are there (a browser selection):
    the anchors give the links behind the captions, the text adds links
    written out in full. An empty result means nothing link-like at all.
    """
    if uri_list and uri_list.strip():
        items = parse_uri_list(uri_list)
        if items:
            return items
    items = extract_hrefs(html) if html and html.strip() else []
    if text and text.strip():
        # Beside anchors the text is mostly their captions: take only real links from it.
        items.extend(extract_links(text) if items else items_from_text(text))
    return list(dict.fromkeys(items))
