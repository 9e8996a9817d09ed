"""The disk spool: where call rows wait while the database is unreachable, locked or full.

Rows are appended as JSON lines to segment files ``seg-<ns>-<pid>.jsonl`` in one directory per
database URL. A process holds an exclusive ``flock`` on the segment it is appending to, so a
replayer (in this or another process) only takes closed segments; segments are replayed oldest
first and deleted once every row is in the database. Replays insert with "on conflict do
nothing" on the record id, so a replay interrupted half-way and repeated never duplicates rows.

The spool is bounded by ``max_bytes``: rows beyond it are refused (the caller counts them as
dropped, reason ``spool_full``). Lines are flushed to the OS after every append (they survive a
crash of the process, not of the machine). A torn last line is skipped and counted.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class Spool:
    """Append-only, size-bounded segments of JSON-lines rows; see the module docstring."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = 1 << 30,
                 segment_bytes: int = 8 << 20) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._fh: Any = None
        self._fh_size = 0
        self._bytes = sum(p.stat().st_size for p in self._segments())

    def _segments(self) -> list[Path]:
        return sorted(self.dir.glob("seg-*.jsonl"))

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def has_pending(self) -> bool:
        with self._lock:
            return self._fh is not None or bool(self._segments())

    def append(self, rows: Sequence[dict[str, Any]]) -> int:
        """Append ``rows`` up to the size bound; returns how many fit (the caller counts the rest)."""
        lines = [(json.dumps(r, separators=(",", ":"), default=str) + "\n").encode() for r in rows]
        with self._lock:
            room, n = self.max_bytes - self._bytes, 0
            while n < len(lines) and len(lines[n]) <= room:
                room -= len(lines[n])
                n += 1
            if n == 0:
                return 0
            data = b"".join(lines[:n])
            if self._fh is None:
                path = self.dir / f"seg-{time.time_ns():020d}-{os.getpid()}.jsonl"
                self._fh = open(path, "ab")
                fcntl.flock(self._fh, fcntl.LOCK_EX)
                self._fh_size = 0
            self._fh.write(data)
            self._fh.flush()
            self._fh_size += len(data)
            self._bytes += len(data)
            if self._fh_size >= self.segment_bytes:
                self._close_segment()
        return n

    def _close_segment(self) -> None:
        if self._fh is not None:
            os.fsync(self._fh.fileno())
            self._fh.close()  # releases the flock
            self._fh = None

    def replay(self, insert: Callable[[list[dict[str, Any]]], None], chunk: int = 1000) -> tuple[int, int]:
        """Insert every closed segment, oldest first, deleting each once done.

        Returns ``(rows replayed, torn lines skipped)``. ``insert`` raising stops the replay with
        the current segment kept (it is replayed again, idempotently, next time).
        """
        replayed = skipped = 0
        with self._lock:
            self._close_segment()
            segments = self._segments()
        for path in segments:
            try:
                fh = open(path, "rb")
            except FileNotFoundError:  # another process replayed it
                continue
            with fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a live writer's segment, or another replayer's
                    continue
                if not path.exists():
                    continue
                rows = []
                for line in fh.read().splitlines():
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        skipped += 1
                for i in range(0, len(rows), chunk):
                    insert(rows[i:i + chunk])
                size = path.stat().st_size
                path.unlink()
            replayed += len(rows)
            with self._lock:
                self._bytes = max(0, self._bytes - size)
        return replayed, skipped

    def close(self) -> None:
        with self._lock:
            self._close_segment()

    def after_fork_in_child(self) -> None:
        """Forget the parent's open segment without unlocking it (the parent still appends to it)."""
        self._lock = threading.Lock()
        if self._fh is not None:
            try:
                self._fh.close()  # closing our copy leaves the parent's flock in place
            except OSError:
                pass
            self._fh = None
