"""The in-process level: an LRU bounded in entries and in bytes, with a TTL per entry.

One instance is shared by every thread of a worker (gunicorn's gthread), so every method takes the
lock; none of them does I/O while holding it. Values are stored as the serialized bytes, never as
the caller's objects, so a caller mutating what it got back cannot change what the next caller gets.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

# Rough per-entry overhead (the key, the tuple, the dict slot), so many tiny entries still count.
ENTRY_OVERHEAD_BYTES = 100


class LRUCache:
    def __init__(self, *, max_entries: int, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (expires_at, size, payload); most recently used last.
        self._entries: OrderedDict[str, tuple[float, int, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                self._remove(key)
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def set(self, key: str, payload: bytes, ttl: float) -> None:
        size = len(payload) + len(key) + ENTRY_OVERHEAD_BYTES
        with self._lock:
            if key in self._entries:
                self._remove(key)
            if ttl <= 0 or size > self.max_bytes or self.max_entries <= 0:
                return
            self._entries[key] = (self._clock() + ttl, size, payload)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._remove(oldest)

    def delete(self, key: str) -> None:
        with self._lock:
            if key in self._entries:
                self._remove(key)

    def delete_many(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if key in self._entries:
                    self._remove(key)

    def delete_pattern(self, pattern: str) -> int:
        with self._lock:
            matched = [key for key in self._entries if fnmatch.fnmatchcase(key, pattern)]
            for key in matched:
                self._remove(key)
            return len(matched)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _remove(self, key: str) -> None:
        _, size, _ = self._entries.pop(key)
        self._bytes -= size
