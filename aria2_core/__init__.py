"""Qt-free core of Aria Tray.

Everything here must import and run in a plain Python interpreter: the RPC
client, the aria2c command/config builder, binary discovery, the ownership
record, orphan detection, link parsing, the IPC wire format and the link
journal. ``tests/unit/test_layers.py`` fails if any module here imports Qt.
"""

__version__ = "0.1.0"
APP_NAME = "Aria Tray"
