"""aria2's error codes in sentences, and what a failed download left on disk.

aria2 reports a failed download with a number (``errorCode``) and, only
sometimes, an English ``errorMessage``: a checksum mismatch comes with
nothing but "32". Every code aria2 documents (0–32, see "EXIT STATUS" in
``man aria2c``) gets a sentence here, through ``QCoreApplication.translate``
so the zh_CN translation covers it; an unknown code still says what it is.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication

from .i18n import QT_TRANSLATE_NOOP

CHECKSUM_FAILED = 32

# One sentence per code, marked for lupdate here and translated when shown.
_SENTENCES: dict[int, str] = {
    0: QT_TRANSLATE_NOOP("Aria2Errors", "The download finished without an error."),
    1: QT_TRANSLATE_NOOP("Aria2Errors", "aria2 hit an unknown error."),
    2: QT_TRANSLATE_NOOP("Aria2Errors", "The server did not answer in time."),
    3: QT_TRANSLATE_NOOP("Aria2Errors", "The file was not found on the server."),
    4: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The file was not found on the server, too many times in a row."
    ),
    5: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The download was stopped because it was too slow (lowest speed limit)."
    ),
    6: QT_TRANSLATE_NOOP("Aria2Errors", "A network problem stopped the download."),
    7: QT_TRANSLATE_NOOP("Aria2Errors", "The download was interrupted before it finished."),
    8: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The server cannot resume a download, and resuming was required."
    ),
    9: QT_TRANSLATE_NOOP("Aria2Errors", "There is not enough free disk space."),
    10: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The piece size differs from the one in the .aria2 control file."
    ),
    11: QT_TRANSLATE_NOOP("Aria2Errors", "The same file is already being downloaded."),
    12: QT_TRANSLATE_NOOP("Aria2Errors", "The same torrent is already being downloaded."),
    13: QT_TRANSLATE_NOOP("Aria2Errors", "A file of that name already exists."),
    14: QT_TRANSLATE_NOOP("Aria2Errors", "The file could not be renamed."),
    15: QT_TRANSLATE_NOOP("Aria2Errors", "The existing file could not be opened."),
    16: QT_TRANSLATE_NOOP("Aria2Errors", "The file could not be created or truncated."),
    17: QT_TRANSLATE_NOOP("Aria2Errors", "Reading or writing the file failed."),
    18: QT_TRANSLATE_NOOP("Aria2Errors", "The download folder could not be created."),
    19: QT_TRANSLATE_NOOP("Aria2Errors", "The server's name could not be resolved."),
    20: QT_TRANSLATE_NOOP("Aria2Errors", "The metalink file could not be read."),
    21: QT_TRANSLATE_NOOP("Aria2Errors", "An FTP command failed."),
    22: QT_TRANSLATE_NOOP("Aria2Errors", "The server sent a bad or unexpected HTTP response."),
    23: QT_TRANSLATE_NOOP("Aria2Errors", "The server redirected too many times."),
    24: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The server refused the login (HTTP authorization failed)."
    ),
    25: QT_TRANSLATE_NOOP("Aria2Errors", "The .torrent file could not be read."),
    26: QT_TRANSLATE_NOOP("Aria2Errors", "The .torrent file is damaged or incomplete."),
    27: QT_TRANSLATE_NOOP("Aria2Errors", "The magnet link is not valid."),
    28: QT_TRANSLATE_NOOP("Aria2Errors", "An option was not accepted by aria2."),
    29: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The server is overloaded or under maintenance; try again later."
    ),
    30: QT_TRANSLATE_NOOP("Aria2Errors", "aria2 could not read a request sent to it."),
    31: QT_TRANSLATE_NOOP("Aria2Errors", "aria2 reported an error it reserves for future use."),
    32: QT_TRANSLATE_NOOP(
        "Aria2Errors", "The downloaded file does not match the checksum it was given."
    ),
}

KNOWN_CODES = frozenset(_SENTENCES)


def error_sentence(code: int | None, message: str = "") -> str:
    """Why a download failed, in one sentence of the user's language.

    aria2's own ``message`` is used only for a code without a sentence here
    (it is English and technical; the details pane shows it as well).
    """
    if code is not None and code in _SENTENCES:
        return QCoreApplication.translate("Aria2Errors", _SENTENCES[code])
    if message:
        return message
    if code is None:
        return QCoreApplication.translate("Aria2Errors", "The download failed.")
    return QCoreApplication.translate("Aria2Errors", "aria2 reported error {code}.").format(
        code=code
    )


def leftover_note(code: int | None, files: list[Path]) -> str:
    """What a failed download left on disk and what the user can do with it ("" if nothing).

    A checksum mismatch leaves a whole file that may be damaged (or the
    checksum was wrong): it is kept for the user to judge, never deleted
    behind their back. Other failures leave the part downloaded so far
    (and its ``.aria2`` control file), which Retry continues.
    """
    present = [path for path in files if path.is_file()]
    if not present:
        return ""
    names = ", ".join(str(path) for path in present[:3])
    if code == CHECKSUM_FAILED:
        return QCoreApplication.translate(
            "Aria2Errors",
            "The file was kept: {files}. It may be damaged, or the checksum may be wrong. "
            "Retry downloads it again; Remove with “Also delete the downloaded files” "
            "deletes it.",
        ).format(files=names)
    return QCoreApplication.translate(
        "Aria2Errors",
        "What was downloaded so far stays in {files}, so Retry can go on from there; "
        "Remove with “Also delete the downloaded files” deletes it.",
    ).format(files=names)
