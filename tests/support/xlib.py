"""Just enough libX11, through ctypes, for the tray tests: who owns a selection (is a
system tray there?), and asking a window to close as a window manager would
(``WM_DELETE_WINDOW``), which no command-line X tool does.
"""

from __future__ import annotations

import ctypes
import ctypes.util


class XServerUnavailable(RuntimeError):
    """The X server or tray cannot run here (a tool is missing, or it failed)."""


class _ClientMessage(ctypes.Structure):
    """Xlib's ``XClientMessageEvent`` (format 32)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


CLIENT_MESSAGE = 33


class Xlib:
    """Just enough libX11, through ctypes: who owns a selection; ask a window to close."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("X11")
        if name is None:
            raise XServerUnavailable("libX11 not found (apt-get install libx11-6)")
        lib = ctypes.CDLL(name)
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XInternAtom.restype = ctypes.c_ulong
        lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.XGetSelectionOwner.restype = ctypes.c_ulong
        lib.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        lib.XSendEvent.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.c_int,
            ctypes.c_long,
            ctypes.POINTER(_XEvent),
        ]
        lib.XFlush.argtypes = [ctypes.c_void_p]
        self._lib = lib

    def selection_owner(self, display: str, selection: str) -> int:
        """The window owning ``selection`` on ``display``; 0 when nobody does."""
        dpy = self._lib.XOpenDisplay(display.encode())
        if not dpy:
            return 0
        try:
            atom = self._lib.XInternAtom(dpy, selection.encode(), 1)  # only_if_exists
            return int(self._lib.XGetSelectionOwner(dpy, atom)) if atom else 0
        finally:
            self._lib.XCloseDisplay(dpy)

    def close_window(self, display: str, window: int) -> None:
        """Send ``WM_DELETE_WINDOW``: what a window manager's close button does."""
        dpy = self._lib.XOpenDisplay(display.encode())
        if not dpy:
            raise XServerUnavailable(f"cannot open display {display}")
        try:
            event = _XEvent()
            message = event.xclient
            message.type = CLIENT_MESSAGE
            message.window = window
            message.message_type = self._lib.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
            message.format = 32
            message.data[0] = self._lib.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
            message.data[1] = 0  # CurrentTime
            self._lib.XSendEvent(dpy, window, 0, 0, ctypes.byref(event))
            self._lib.XFlush(dpy)
        finally:
            self._lib.XCloseDisplay(dpy)
