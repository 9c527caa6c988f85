"""Change counters: how a process learns, with a memory read and no system call, that something it
caches was changed (faults.py's shared faults, the store's tokens and auth modes).

- `Generation`: one counter that every process of a server maps from one 8-byte file in its state folder.
- `LocalGeneration`: the same interface for one process (no state folder: nothing else can change it).
"""
from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading

_GEN = struct.Struct("<Q")


class Generation:
    """A change counter every process of a server maps from one 8-byte file.

    Reading it is a memory read (no system call). A writer bumps it after its change is
    committed, under flock(), so two bumps are never merged into one.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < _GEN.size:
            os.ftruncate(self._fd, _GEN.size)  # zero-filled; a race with another process is harmless
        self._map = mmap.mmap(self._fd, _GEN.size)

    def value(self) -> int:
        return int(_GEN.unpack_from(self._map, 0)[0])

    def bump(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            _GEN.pack_into(self._map, 0, self.value() + 1)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class LocalGeneration:
    """A change counter of this process alone (same interface as `Generation`)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def value(self) -> int:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1

    def close(self) -> None:
        pass
