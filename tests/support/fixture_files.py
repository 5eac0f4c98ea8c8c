"""Download descriptions a test can hand to aria2: metalinks and web-seeded torrents.

Both point at the local test server, so a test exercises ``addMetalink`` and
``addTorrent`` end to end with no tracker, no peers and no internet.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def write_metalink(folder: Path, name: str, url: str, size: int, sha256: str) -> Path:
    """A Metalink 4 (RFC 5854) file describing one file at ``url``."""
    path = folder / f"{name}.meta4"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<metalink xmlns="urn:ietf:params:xml:ns:metalink">\n'
        f'  <file name="{name}">\n'
        f"    <size>{size}</size>\n"
        f'    <hash type="sha-256">{sha256}</hash>\n'
        f"    <url>{url}</url>\n"
        "  </file>\n"
        "</metalink>\n",
        encoding="utf-8",
    )
    return path


def _bencode(value: object) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(_bencode(item) for item in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(_bencode(k) + _bencode(v) for k, v in items) + b"e"
    raise TypeError(value)


def _piece_hashes(data: bytes, piece_length: int) -> bytes:
    """The ``pieces`` field: the SHA-1 of every piece, concatenated."""
    return b"".join(
        hashlib.sha1(data[i : i + piece_length]).digest() for i in range(0, len(data), piece_length)
    )


def write_webseed_torrent(
    folder: Path, payload: Path, base_url: str, private: bool = False
) -> Path:
    """A single-file torrent whose only source is an HTTP web seed (BEP 19).

    It lets a test download a *torrent* with no tracker and no peers.
    ``private`` (BEP 27) keeps it off DHT and peer exchange as well.
    """
    piece_length = 16 * 1024
    data = payload.read_bytes()
    pieces = _piece_hashes(data, piece_length)
    meta = {
        "info": {
            "name": payload.name,
            "length": len(data),
            "piece length": piece_length,
            "pieces": pieces,
            **({"private": 1} if private else {}),
        },
        "url-list": [base_url],
    }
    path = folder / f"{payload.name}.torrent"
    path.write_bytes(_bencode(meta))
    return path


def multi_file_torrent(path: Path, name: str, sizes: list[int]) -> Path:
    """A trackerless multi-file torrent (its content never needs to download)."""
    piece = 16 * 1024
    total = sum(sizes)
    meta = {
        "info": {
            "name": name,
            "piece length": piece,
            "pieces": hashlib.sha1(b"").digest() * -(-total // piece),
            "files": [{"length": n, "path": [f"f{i}.bin"]} for i, n in enumerate(sizes)],
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_bencode(meta))
    return path


def write_webseed_multi_torrent(folder: Path, root: Path, name: str, base_url: str) -> Path:
    """A multi-file torrent of the files in ``root/name``, web-seeded from ``base_url`` (BEP 19).

    aria2 fetches each file from ``base_url + name + "/" + path``, so the
    test server must serve ``root`` at ``base_url``.
    """
    piece_length = 16 * 1024
    files = sorted(p for p in (root / name).iterdir() if p.is_file())
    pieces = _piece_hashes(b"".join(p.read_bytes() for p in files), piece_length)
    meta = {
        "info": {
            "name": name,
            "piece length": piece_length,
            "pieces": pieces,
            "files": [{"length": p.stat().st_size, "path": [p.name]} for p in files],
        },
        "url-list": [base_url],
    }
    path = folder / f"{name}.torrent"
    path.write_bytes(_bencode(meta))
    return path


def write_tracked_torrent(folder: Path, payload: Path, tracker_url: str) -> tuple[Path, str]:
    """A single-file torrent announcing to ``tracker_url``; returns (path, info hash)."""
    piece_length = 16 * 1024
    info = {
        "name": payload.name,
        "length": payload.stat().st_size,
        "piece length": piece_length,
        "pieces": _piece_hashes(payload.read_bytes(), piece_length),
    }
    path = folder / f"{payload.name}.torrent"
    path.write_bytes(_bencode({"announce": tracker_url, "info": info}))
    return path, hashlib.sha1(_bencode(info)).hexdigest()


def write_static_tracker(root: Path, name: str, peer_port: int) -> None:
    """A tracker's announce answer, as a file the test server serves at ``name``.

    It names one peer, 127.0.0.1:``peer_port`` (compact form), whatever is
    asked: enough for a magnet to find a local seeder with no DHT.
    """
    peers = bytes([127, 0, 0, 1]) + peer_port.to_bytes(2, "big")
    (root / name).write_bytes(_bencode({"interval": 1800, "peers": peers}))
