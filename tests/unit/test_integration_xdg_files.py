"""The desktop-entry and mimeapps.list rules that --register relies on."""

from __future__ import annotations

import pytest

from desktop import xdg_files

ID = "aria-tray.desktop"
MAGNET = "x-scheme-handler/magnet"
TORRENT = "application/x-bittorrent"


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("/opt/AriaTray/AriaTray", "/opt/AriaTray/AriaTray"),
        ("/home/me/My Apps/AriaTray", '"/home/me/My Apps/AriaTray"'),
        ('/odd"dir/x', '"/odd\\"dir/x"'),
        ("/cost$/x", '"/cost\\$/x"'),
        ("/back\\slash", '"/back\\\\slash"'),
        ("/100%/x", "/100%%/x"),
        ("ARIA_TRAY_HOME=/tmp/a b", '"ARIA_TRAY_HOME=/tmp/a b"'),
        ("", '""'),
    ],
)
def test_exec_arguments_are_quoted_only_when_the_spec_requires(arg: str, quoted: str) -> None:
    assert xdg_files.quote_exec_arg(arg) == quoted


def test_exec_line_appends_the_field_code() -> None:
    line = xdg_files.exec_line(["/usr/bin/python3", "/src/main.py"], "%U")
    assert line == "/usr/bin/python3 /src/main.py %U"


def test_a_line_break_cannot_enter_a_desktop_entry() -> None:
    with pytest.raises(ValueError, match="line break"):
        xdg_files.quote_exec_arg("/a\nb")


def test_string_escaping_applies_on_top_of_exec_quoting() -> None:
    # The spec: a quoted backslash is \\ in Exec, and \\\\ once string-escaped.
    value = xdg_files.escape_string(xdg_files.exec_line(["/back\\slash"]))
    assert value == '"/back\\\\\\\\slash"'


def test_lists_round_trip_with_semicolons_inside_items() -> None:
    items = ["/tmp/a;b", "/tmp/plain", "/tmp/back\\slash"]
    assert xdg_files.unescape_list(xdg_files.escape_list(items)) == items


def test_read_desktop_key_reads_only_the_desktop_entry_group() -> None:
    text = "[Desktop Entry]\nName=Aria Tray\nExec=x %U\n\n[Desktop Action new]\nExec=y\n"
    assert xdg_files.read_desktop_key(text, "Exec") == "x %U"
    assert xdg_files.read_desktop_key(text, "Missing") is None


def test_set_defaults_creates_the_group_in_an_empty_file() -> None:
    text = xdg_files.set_defaults("", ID, [MAGNET, TORRENT])
    assert text == f"[Default Applications]\n{MAGNET}={ID};\n{TORRENT}={ID};\n"


def test_set_defaults_keeps_comments_other_groups_and_other_keys() -> None:
    before = (
        "# my associations\n"
        "[Added Associations]\n"
        "text/plain=gedit.desktop;\n"
        "\n"
        "[Default Applications]\n"
        "text/html=firefox.desktop;\n"
        f"{MAGNET}=transmission.desktop;\n"
        "\n"
        "[Removed Associations]\n"
        "image/png=gimp.desktop;\n"
    )
    after = xdg_files.set_defaults(before, ID, [MAGNET, TORRENT])
    assert after == (
        "# my associations\n"
        "[Added Associations]\n"
        "text/plain=gedit.desktop;\n"
        "\n"
        "[Default Applications]\n"
        "text/html=firefox.desktop;\n"
        f"{MAGNET}={ID};\n"
        f"{TORRENT}={ID};\n"
        "\n"
        "[Removed Associations]\n"
        "image/png=gimp.desktop;\n"
    )
    assert xdg_files.defaults_of(after) == {
        "text/html": "firefox.desktop",
        MAGNET: ID,
        TORRENT: ID,
    }


def test_remove_app_drops_only_our_name() -> None:
    text = (
        "[Default Applications]\n"
        f"{MAGNET}={ID};\n"
        f"{TORRENT}={ID};qbittorrent.desktop;\n"
        "text/html=firefox.desktop;\n"
        "[Added Associations]\n"
        f"{TORRENT}=deluge.desktop;{ID};\n"
        "# a comment naming aria-tray.desktop stays\n"
    )
    assert xdg_files.remove_app(text, ID) == (
        "[Default Applications]\n"
        f"{TORRENT}=qbittorrent.desktop;\n"
        "text/html=firefox.desktop;\n"
        "[Added Associations]\n"
        f"{TORRENT}=deluge.desktop;\n"
        "# a comment naming aria-tray.desktop stays\n"
    )


def test_what_xdg_mime_writes_is_understood() -> None:
    # xdg-mime 1.1 writes "mime=app" without the trailing ";".
    text = f"\n[Default Applications]\n{MAGNET}={ID}\n"
    assert xdg_files.defaults_of(text) == {MAGNET: ID}
    cleaned = xdg_files.remove_app(text, ID)
    assert not xdg_files.has_entries(cleaned)


def test_has_entries_ignores_headers_comments_and_blank_lines() -> None:
    assert not xdg_files.has_entries("# c\n\n[Default Applications]\n\n[Added Associations]\n")
    assert xdg_files.has_entries("[Default Applications]\ntext/html=firefox.desktop;\n")
