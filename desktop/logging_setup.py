"""Logging for the primary instance: a rotating file in the app home.

A windowed (frozen) app has ``sys.stderr is None``, so the file is the only
record; stderr gets a copy when it exists. Forwarding launches do not set
this up: ten of them rotating one file at once would lose lines.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from aria2_core.paths import AppPaths

LOG_NAME = "aria-tray.log"
_FORMAT = "%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s"


def setup_logging(paths: AppPaths, level: int = logging.INFO) -> logging.Logger:
    root = logging.getLogger("aria_tray")
    root.setLevel(level)
    if getattr(root, "_aria_tray_configured", False):
        return root
    formatter = logging.Formatter(_FORMAT)
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            paths.log_dir / LOG_NAME, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(formatter)
        root.addHandler(handler)
    except OSError as exc:
        if sys.stderr is not None:
            print(f"aria-tray: cannot write the log in {paths.log_dir}: {exc}", file=sys.stderr)
    if sys.stderr is not None and os.environ.get("ARIA_TRAY_LOG_STDERR", "1") != "0":
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    root._aria_tray_configured = True  # type: ignore[attr-defined]
    return root
