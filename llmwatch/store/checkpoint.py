"""WAL checkpoints for a SQLite prompt log, on their own thread and connection.

In WAL mode every commit appends pages to the ``-wal`` file, and by default the committing
connection copies them back into the database file (a checkpoint, with an fsync) once the WAL
passes 1,000 pages. For the store's writer that was 25-35% of its time per record
(``bench/store_ingest.py``: ~45 -> ~34 us a record with checkpoints off the writer). SQLite
releases the GIL while it checkpoints, so here the work runs on the other core, in parallel with
the writer and converter. ``PASSIVE`` checkpoints never block the writer or readers.

The writer keeps an automatic checkpoint as a backstop (:data:`BACKSTOP_PAGES`) so the WAL stays
bounded even if this thread falls behind or is gone (after ``fork()`` until the child's first write).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("llmwatch.store")
BACKSTOP_PAGES = 16384  # ~64 MiB of 4 KiB pages: the writer checkpoints itself beyond this
BACKSTOP_PRAGMA = f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}"


class WalCheckpointer:
    """Checkpoints ``path``'s WAL after each :meth:`poke` (a commit), at most every ``interval`` s."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmwatch-store-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None, check_same_thread=False)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy, locked, file gone: the next poke tries again
                    log.debug("llmwatch store: WAL checkpoint skipped (%s)", exc)
                except Exception:  # noqa: BLE001 - never end the thread: the backstop is slower
                    log.warning("llmwatch store: WAL checkpoint failed", exc_info=True)
                self._stop.wait(self.interval)  # commits within the interval share one checkpoint
        finally:
            if conn is not None:
                conn.close()
