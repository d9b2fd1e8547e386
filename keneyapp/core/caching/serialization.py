"""How values are stored in the shared level: orjson in a small envelope, compressed when large.

Only JSON-able values are cached (no pickle of anything a client could have written). The envelope
lets a reader tell our entries from anything else under the key: an entry that is not bytes, lacks
the magic, or fails to decompress or parse raises `CorruptEntry`, which the service treats as a miss.

    magic (3 bytes) | format (1 byte: J plain, Z zlib) | expires_at (8-byte float, 0 = never) | body
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import orjson

MAGIC = b"KC\x01"
PLAIN = b"J"
ZLIB = b"Z"
_HEADER = struct.Struct(">3sc d")


class CorruptEntry(Exception):
    """A stored entry that is not one of ours, or cannot be decoded."""


class NotSerializable(Exception):
    """A value orjson cannot encode; it is served uncached."""


def dumps(value: Any) -> bytes:
    """The value as JSON bytes (tuples become lists, datetimes ISO strings)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        raise NotSerializable(str(exc)) from exc


def loads(body: bytes) -> Any:
    return orjson.loads(body)


def wrap(body: bytes, *, expires_at: float, compress_min_bytes: int) -> bytes:
    if len(body) >= compress_min_bytes:
        return _HEADER.pack(MAGIC, ZLIB, expires_at) + zlib.compress(body, 6)
    return _HEADER.pack(MAGIC, PLAIN, expires_at) + body


def unwrap(entry: object) -> tuple[Any, bytes, float]:
    """The value, its JSON body and its absolute expiry, from a stored entry."""
    if not isinstance(entry, bytes) or len(entry) < _HEADER.size:
        raise CorruptEntry("not an envelope")
    magic, fmt, expires_at = _HEADER.unpack_from(entry)
    if magic != MAGIC:
        raise CorruptEntry("bad magic")
    body = entry[_HEADER.size :]
    if fmt == ZLIB:
        try:
            body = zlib.decompress(body)
        except zlib.error as exc:
            raise CorruptEntry("bad compressed body") from exc
    elif fmt != PLAIN:
        raise CorruptEntry("unknown format")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise CorruptEntry("bad JSON body") from exc
    return value, body, expires_at
