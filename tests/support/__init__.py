"""Helpers shared by the integration and end-to-end tests.

They start *real* things and always clean up after themselves, so a test can
use them as fixtures or as context managers:

* ``http_server``: a local HTTP/1.1 file server with Range support and a throttle;
* ``aria2_daemon``: a real aria2c with authenticated RPC on a free loopback port;
* ``fixture_files``: metalinks and web-seeded torrents that point at that server.

``tests/conftest.py`` puts this folder's parent on ``sys.path``; import as
``from support.http_server import FileServer``.
"""
