"""The words for what ``aria2_core`` and the engine report as codes.

The core has no Qt and so no ``tr()``: a bad link is a :class:`LinkError`
with an English reason, a bad extra option an :class:`OptionProblem` with
a kind, a duration is worded by templates it is given. The engine's state
is a plain word too (``EngineState``, also sent over IPC to ``--status``).
Everything a person reads is worded here, once, through
``QCoreApplication.translate``, so the zh_CN translation covers it.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

from aria2_core import add_options as ao
from aria2_core import links as lk
from aria2_core import live_options as lo
from aria2_core import option_catalog as oc
from aria2_core import option_dryrun as od
from aria2_core.errors import LinkError
from aria2_core.formatting import DurationUnits

from .controller import EngineState

_SCHEME = re.compile(r"^unsupported scheme '(?P<scheme>[^']*)'")


def link_reason(error: LinkError) -> str:
    """Why one link cannot be added, in the user's language."""
    reasons = {
        lk.REASON_EMPTY: QCoreApplication.translate("Messages", "empty line"),
        lk.REASON_NO_HOST: QCoreApplication.translate("Messages", "malformed URL (no host name)"),
        lk.REASON_BAD_PORT: QCoreApplication.translate(
            "Messages", "malformed URL (bad port number)"
        ),
        lk.REASON_BAD_CHARS: QCoreApplication.translate(
            "Messages", "malformed URL (spaces or control characters)"
        ),
        lk.REASON_BAD_MAGNET_CHARS: QCoreApplication.translate(
            "Messages", "malformed magnet link (spaces or control characters)"
        ),
        lk.REASON_NO_SCHEME: QCoreApplication.translate(
            "Messages", "missing scheme (put http:// or https:// in front)"
        ),
        lk.REASON_NOT_FOUND: QCoreApplication.translate("Messages", "file not found"),
        lk.REASON_NOT_A_FILE: QCoreApplication.translate("Messages", "not a file"),
        lk.REASON_WRONG_SUFFIX: QCoreApplication.translate(
            "Messages", "only .torrent, .metalink and .meta4 files can be added"
        ),
        lk.REASON_UNKNOWN: QCoreApplication.translate(
            "Messages", "not a link, a magnet link or a .torrent/.metalink file"
        ),
        lk.REASON_FILE_HOST: QCoreApplication.translate(
            "Messages", "a file on another computer (only local files can be added)"
        ),
        lk.REASON_NO_BTIH: QCoreApplication.translate(
            "Messages", "magnet link without an info hash (xt=urn:btih:…)"
        ),
        lk.REASON_BAD_BTIH: QCoreApplication.translate(
            "Messages", "magnet link with a malformed info hash"
        ),
    }
    if error.reason in reasons:
        return reasons[error.reason]
    match = _SCHEME.match(error.reason)
    if match:
        return QCoreApplication.translate(
            "Messages", "scheme “{scheme}” is not supported (use http, https, ftp, sftp or magnet)"
        ).format(scheme=match.group("scheme"))
    return error.reason


def link_problem(error: LinkError) -> str:
    """``<the input>: <why>``, for lists of bad lines or dropped items."""
    return QCoreApplication.translate("Messages", "{item}: {reason}").format(
        item=_shorten(error.source.strip()), reason=link_reason(error)
    )


def option_problem(problem: oc.OptionProblem) -> str:
    """One bad line of the extra aria2c options."""
    if problem.kind == oc.PROBLEM_SYNTAX:
        text = QCoreApplication.translate("Messages", "“{text}” is not key=value").format(
            text=_shorten(problem.text)
        )
    elif problem.kind == oc.PROBLEM_FORBIDDEN:
        text = QCoreApplication.translate(
            "Messages",
            "“{key}” cannot be set: Aria Tray manages it to keep aria2c private and tied "
            "to the app",
        ).format(key=problem.key)
    elif problem.kind == oc.PROBLEM_UNKNOWN:
        text = QCoreApplication.translate(
            "Messages", "“{key}” is not an option of this aria2c (check the spelling)"
        ).format(key=problem.key)
    elif problem.kind == oc.PROBLEM_RESERVED:
        text = QCoreApplication.translate(
            "Messages", "“{key}” has its own field in Settings; set it there"
        ).format(key=problem.key)
    else:
        text = QCoreApplication.translate("Messages", "“{key}” is set twice").format(
            key=problem.key
        )
    return QCoreApplication.translate("Messages", "Line {line}: {text}").format(
        line=problem.line, text=text
    )


def option_rejection(rejection: od.OptionRejection) -> str:
    """aria2c refused a value in a dry run (or at start): which option, and why."""
    if rejection.option:
        return QCoreApplication.translate(
            "Messages", "aria2c does not accept the value of “{option}”: {detail}"
        ).format(option=rejection.option, detail=rejection.detail or rejection.message)
    return QCoreApplication.translate(
        "Messages", "aria2c does not accept the options: {detail}"
    ).format(detail=rejection.message)


def aria2_refusal(text: str) -> str:
    """aria2's text when it refused something; an option it could not parse becomes a sentence.

    The controller passes aria2's own (English) words on; a bad option value
    (``errorCode=28 … processing the option '--max-tries' … Bad number abc``)
    reads better as which option and why.
    """
    if "errorCode=28" not in text and "processing the option" not in text:
        return text
    return option_rejection(od.parse_rejection(text))


def field_problem(problem: ao.FieldProblem) -> str:
    """A problem with one field of the add dialog."""
    texts = {
        ao.BAD_CHECKSUM_FORMAT: QCoreApplication.translate(
            "Messages", "Checksum: write it as type=digest, e.g. sha-256=…"
        ),
        ao.BAD_CHECKSUM_TYPE: QCoreApplication.translate(
            "Messages",
            "Checksum: unknown type (use md5, sha-1, sha-224, sha-256, sha-384, sha-512)",
        ),
        ao.BAD_CHECKSUM_DIGEST: QCoreApplication.translate(
            "Messages", "Checksum: the digest is not hexadecimal of the right length"
        ),
        ao.CHECKSUM_NEEDS_ONE_LINK: QCoreApplication.translate(
            "Messages", "Checksum: only for a single link"
        ),
        ao.BAD_HEADER: QCoreApplication.translate(
            "Messages", "Header “{line}”: write it as Name: value"
        ),
        ao.BAD_FILE_NAME: QCoreApplication.translate(
            "Messages", "File name: a name only, without folders"
        ),
        ao.FILE_NAME_NEEDS_ONE_LINK: QCoreApplication.translate(
            "Messages", "File name: only for a single link"
        ),
        ao.BAD_FOLDER: QCoreApplication.translate("Messages", "Save to: choose a full folder path"),
    }
    return texts.get(problem.kind, problem.kind).format(line=_shorten(problem.detail))


def restart_reason(reason: lo.RestartReason) -> str:
    """Why applying settings restarts the download engine."""
    if reason.kind == lo.RESTART_BINARY:
        return QCoreApplication.translate("Messages", "another aria2c program is chosen")
    if reason.kind == lo.RESTART_UNSET:
        return QCoreApplication.translate(
            "Messages", "“{option}” was cleared, and aria2c forgets it only by starting again"
        ).format(option=reason.option)
    return QCoreApplication.translate(
        "Messages", "aria2c reads “{option}” only when it starts"
    ).format(option=reason.option)


def engine_state_text(state: str) -> str:
    """What the download engine is doing, as a sentence fragment ("the download engine is …").

    ``state`` is an :class:`EngineState` value; the tray's tooltip shows it
    while the engine is not ready. An unknown word is shown as it is.
    """
    texts: dict[str, str] = {
        EngineState.STOPPED: QCoreApplication.translate(
            "Messages", "the download engine is not running"
        ),
        EngineState.STARTING: QCoreApplication.translate(
            "Messages", "the download engine is starting…"
        ),
        EngineState.READY: QCoreApplication.translate("Messages", "the download engine is ready"),
        EngineState.RESTARTING: QCoreApplication.translate(
            "Messages", "the download engine is restarting…"
        ),
        EngineState.STOPPING: QCoreApplication.translate(
            "Messages", "the download engine is stopping…"
        ),
        EngineState.FAILED: QCoreApplication.translate(
            "Messages", "the download engine has stopped working"
        ),
    }
    return texts.get(state, state)


def duration_units() -> DurationUnits:
    """The wording of durations (an ETA) for ``formatting.format_duration``.

    Ask once and keep the result: the language does not change while the app
    runs, and an ETA is formatted for every painted row.
    """
    return DurationUnits(
        hours=QCoreApplication.translate("Messages", "{hours}h {minutes}m"),
        minutes=QCoreApplication.translate("Messages", "{minutes}m {seconds}s"),
        seconds=QCoreApplication.translate("Messages", "{seconds}s"),
    )


def _shorten(text: str, limit: int = 90) -> str:
    """Cut the middle of a long item, not its end: the end names the file or the link."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "…" + text[len(text) - (limit - head - 1) :]
