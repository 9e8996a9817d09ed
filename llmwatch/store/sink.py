"""The prompt-log sink: a writer thread that batches call records into SQL, spooling on outage.

``write()`` (called by the SDK's record pipeline, never on the app's thread) only appends to a
bounded in-memory queue. Records wait there up to ``commit_delay`` seconds (default 2 s, the
``store_commit_delay`` option) for others to share their transaction; :data:`GROUP_ROWS` waiting
records, ``flush()`` and ``close()`` write at once. A transaction's fixed cost (begin, the
statements, commit, the WAL checkpoint it leads to) is several times a row's own, and an app
making a few calls a second used to commit each on its own: ``bench/store_commit.py``, CPU of the
store's threads per row, SQLite ~380 µs at one row a transaction, ~145 at 5, ~70 at 20, ~50 from
100 on; PostgreSQL (client side only) ~1,040, ~345, ~120, ~35-50.

With PostgreSQL a converter thread takes batches from the queue, redacts them and builds row
tuples (``rows.build_row``) with their rollup figures, while ``PG_WRITERS`` writer threads, each
with its own connection, insert earlier batches; the server does most of the work, in its own
processes.
With SQLite one thread does both: SQLite releases the GIL for every row it inserts and gets it
back only when a busy converter's switch interval (5 ms) runs out, so two threads took longer
than one (``bench/store_ingest.py``: ~16k vs ~20k records/s); its WAL checkpoints run on a third
thread (``checkpoint.py``), in C, without the GIL. At most ``_READY`` converted batches wait, so
the memory bound stays ``max_pending`` records plus two batches.

All database and spool work happens on the writer threads. When the database is unreachable,
locked or full, the batch goes to the disk spool and the writers switch to spooling until a retry
(with backoff) replays the spool in order; only then do they write directly again. One writer at a
time replays or spools. Every insert skips record ids already stored, so a batch written twice is
stored once. Nothing is dropped unless the spool
is full, and each drop is counted in ``llmwatch_store_records_dropped_total{llmwatch_reason=...}``.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from llmwatch.record import CallRecord
from llmwatch.store import db
from llmwatch.store.checkpoint import BACKSTOP_PRAGMA, WalCheckpointer
from llmwatch.store.metrics import StoreMetrics
from llmwatch.store.redaction import RecordRedactor
from llmwatch.store.rows import build_row, tag_pairs
from llmwatch.store.spool import Spool
from llmwatch.store.writer import Batch, insert_batch, spool_form

log = logging.getLogger("llmwatch.store")
_READY = 2  # converted batches that may wait for the writer
# Records per transaction at most (fewer when fewer wait). Each commit writes every index page the
# batch touched; random keys (trace ids, prompt hashes) put nearly one row on each page, so bigger
# batches share pages. bench/store_ingest.py, records/s, pairs run back to back (while record ids
# were time-ordered, since reverted): SQLite 16.3k at
# 5,000 per batch, 20.3k at 10,000, 15.2k at 20,000 (past the page cache); PostgreSQL 14.4k at
# 5,000 vs 16.5k at 10,000, and 10,000 vs 20,000 within noise (13.6k vs 14.3k).
BATCH_SIZE = 10_000
# Seconds a record may wait for others to share its transaction (see the module docstring); the
# ``store_commit_delay`` option. OpenTelemetry's batch span processor waits 5 s.
COMMIT_DELAY = 2.0
# Pending records that commit without waiting out the delay. Past ~100 rows a transaction the
# per-row cost no longer falls (bench/store_commit.py), and holding more calls only keeps them in
# memory (and in the garbage collector's older generations) longer. A writer that falls behind
# still takes up to ``batch_size`` rows at once.
GROUP_ROWS = 1000
# PostgreSQL writer threads, each with its own connection: the server's work per row (full-text
# vector, GIN and B-tree upkeep) is what limits one connection, and two server processes use the
# core the client leaves idle. Same run, pre-converted batches (time-ordered ids): 15.0k/15.6k records/s with one
# writer, 22.6k/19.2k with two. Batches may then commit out of id order (``logs tail`` allows
# for it); each is still stored exactly once.
PG_WRITERS = 2
_sinks: weakref.WeakSet[StoreSink] = weakref.WeakSet()


class StoreSink:
    """Sink for :class:`~llmwatch.record.CallRecord` batches; see :func:`llmwatch.store.open_sink`."""

    def __init__(self, url: str, metrics: StoreMetrics, spool: Spool, *, capture_content: bool = True,
                 mask_literals: bool = False, max_pending: int = 100_000, batch_size: int | None = None,
                 retry_min: float = 0.2, retry_max: float = 5.0, retention: float | None = None,
                 redactor: RecordRedactor | None = None, commit_delay: float = COMMIT_DELAY) -> None:
        self.url = url
        self.metrics = metrics
        self.spool = spool
        self.capture_content = capture_content
        self.mask_literals = mask_literals
        self.max_pending = max_pending
        self.batch_size = batch_size or BATCH_SIZE
        self.commit_delay = float(commit_delay)
        self._group = min(self.batch_size, GROUP_ROWS)
        self.retry_min, self.retry_max = retry_min, retry_max
        self.retention = retention
        self.redactor = redactor
        self._engine: Engine | None = None
        self._init_state()
        metrics.spool_bytes.set(spool.pending_bytes)
        _sinks.add(self)

    def _init_state(self) -> None:
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # state changes: the writer and flush() wait on it
        self._input = threading.Condition(lock)  # records or room for the converter
        self._converter_idle = False
        self._pending: collections.deque[CallRecord] = collections.deque()
        self._due_at = 0.0  # monotonic time by which the oldest pending record is committed
        self._urgent = 0  # flush() calls waiting: everything pending is due now
        self._ready: collections.deque[Batch] = collections.deque()  # converted batches
        self._converting = False
        self._busy = 0  # writers inserting a batch
        self._outage_lock = threading.Lock()
        self._prune_lock = threading.Lock()
        self._closed = False
        self._outage = self.spool.has_pending()  # leftovers from an earlier run: replay them first
        self._retry_at = 0.0
        self._backoff = self.retry_min
        self._next_prune = 0.0
        self._threads: tuple[threading.Thread, ...] = ()
        self._checkpointer: WalCheckpointer | None = None  # SQLite files: see checkpoint.py
        # SQLite: the writer converts its batches itself (see the module docstring).
        self._inline = self.url.startswith("sqlite")
        self._pid = os.getpid()

    # -- the pipeline side -------------------------------------------------------------------
    def write(self, records: Sequence[CallRecord]) -> None:
        """Queue ``records`` for the writer thread; never blocks on the database, never raises."""
        overflow: Sequence[CallRecord] = ()
        with self._cond:
            room = self.max_pending - len(self._pending)
            if self._closed or room < len(records):
                overflow = records if self._closed else records[max(room, 0):]
                records = () if self._closed else records[:max(room, 0)]
            first = not self._pending
            self._pending.extend(records)
            if first and records:
                self._due_at = time.monotonic() + self.commit_delay
            # One wake-up per transaction, not one per write: when the queue was empty (the writer
            # then sleeps until the delay is up) or a batch is full.
            if self._converter_idle and records and (first or len(self._pending) >= self._group):
                self._converter_idle = False
                if self._inline:
                    self._cond.notify_all()
                else:
                    self._input.notify()
        if not self._closed and (not self._threads or self._pid != os.getpid()):
            self._start()
        if overflow:  # queue full (or closed): straight to disk, in this (pipeline) thread
            self._spool(self._batch(overflow))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued record is in the database or the spool; True if so in time.

        During an outage it also brings the next replay attempt forward."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._outage:
                self._retry_at = 0.0
            self._urgent += 1  # pending records are due now (commit_delay does not apply)
            self._cond.notify_all()
            self._input.notify_all()
            try:
                while self._pending or self._ready or self._converting or self._busy:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
            finally:
                self._urgent -= 1
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush, then stop the writer; records still queued after ``timeout`` go to the spool.
        Closing twice is harmless; ``write`` after close goes straight to the spool."""
        if self._closed:
            return
        self.flush(timeout)
        with self._cond:
            self._closed = True
            rest = list(self._pending)
            self._pending.clear()
            self._cond.notify_all()
            self._input.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        with self._cond:  # batches the writer did not get to in time
            ready = list(self._ready)
            self._ready.clear()
        for batch in ready:
            self._spool(batch)
        if rest:
            self._spool(self._batch(rest))
        if self.spool.has_pending():  # the database may be back: one last replay before exit
            self._try_replay()
        self.spool.close()
        if self._checkpointer is not None:
            self._checkpointer.close()

    def _start(self) -> None:
        with self._cond:
            if self._threads and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            writers = tuple(threading.Thread(target=self._run, name=f"llmwatch-store-writer-{i}", daemon=True)
                            for i in range(1 if self._inline else PG_WRITERS))
            self._threads = writers if self._inline else (
                threading.Thread(target=self._convert_loop, name="llmwatch-store-convert", daemon=True), *writers)
            path = db.sqlite_path(self.url)
            self._checkpointer = WalCheckpointer(path) if path else None
            for thread in self._threads:
                thread.start()

    # -- the converter thread ----------------------------------------------------------------
    def _convert_loop(self) -> None:
        while True:
            with self._cond:
                while (not self._due() or len(self._ready) >= _READY) and not self._closed:
                    self._converter_idle = True
                    # Records still inside their delay: wake when it is up. Otherwise (none, or no
                    # room for another batch) a write, a full group or a writer taking a batch wakes it.
                    room = len(self._ready) < _READY
                    self._input.wait(self._delay_left() if self._pending and room else None)
                self._converter_idle = False
                if self._closed and not self._pending:
                    return
                batch = [self._pending.popleft() for _ in range(min(self.batch_size, len(self._pending)))]
                self._converting = True
            converted: Batch | None = None
            try:
                converted = self._batch(batch)
            except Exception:  # noqa: BLE001 - the converter must survive anything
                log.exception("llmwatch store: unexpected converter failure")
                self.metrics.drop("writer_error", len(batch))
            finally:
                with self._cond:
                    if converted:
                        self._ready.append(converted)
                    self._converting = False
                    self._cond.notify_all()

    # -- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        inline = self._inline
        while True:
            with self._cond:
                while not self._has_work() and not self._stopped() and not self._retry_due():
                    if inline:  # this thread is the converter: write() wakes it
                        self._converter_idle = True
                    self._cond.wait(self._wait_time())
                if inline:
                    self._converter_idle = False
                if not self._has_work() and self._stopped():
                    return
                records = [self._pending.popleft() for _ in range(min(self.batch_size, len(self._pending)))] \
                    if inline else ()
                batch = self._ready.popleft() if self._ready else Batch([])
                self._busy += 1
                self._input.notify()  # room for the converter
            try:
                if records:
                    batch = self._batch(records)
                self._handle(batch)
            except Exception:  # noqa: BLE001 - the writer must survive anything
                log.exception("llmwatch store: unexpected writer failure")
                self.metrics.drop("writer_error", len(batch) or len(records))
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _has_work(self) -> bool:
        return bool(self._ready or (self._inline and self._due()))

    def _due(self) -> bool:
        """Pending records are to be converted now: the delay is up, a batch is full, or a
        ``flush()``/``close()`` is waiting."""
        return bool(self._pending) and (self._urgent > 0 or self._closed or len(self._pending) >= self._group
                                        or time.monotonic() >= self._due_at)

    def _delay_left(self) -> float:
        return max(0.001, self._due_at - time.monotonic())

    def _stopped(self) -> bool:
        return self._closed and not self._pending and not self._converting

    def _retry_due(self) -> bool:
        return self._outage and time.monotonic() >= self._retry_at

    def _wait_time(self) -> float:
        if self._outage:
            return max(0.01, self._retry_at - time.monotonic())
        idle = 1.0 if self.retention else 60.0
        return min(idle, self._delay_left()) if self._inline and self._pending else idle

    def _handle(self, batch: Batch) -> None:
        if self._outage:
            # One writer at a time replays or spools, so no segment is written during a replay.
            with self._outage_lock:
                if self._retry_due():
                    self._try_replay()
                if self._outage:
                    self._spool(batch)
                    return
        if batch.rows and not self._insert(batch):
            with self._outage_lock:
                self._enter_outage()
                self._spool(batch)
        self._maybe_prune()

    def _batch(self, records: Sequence[CallRecord]) -> Batch:
        rows, tags = [], []
        content, mask, redact = self.capture_content, self.mask_literals, self.redactor
        for rec in records:
            try:
                if redact is not None:
                    rec = redact(rec)
                row = build_row(rec, content, mask)
            except Exception:  # noqa: BLE001 - a bad record or redactor must not stop the others
                log.exception("llmwatch store: could not convert record %s", getattr(rec, "record_id", "?"))
                self.metrics.drop("invalid", 1)
                continue
            rows.append(row)
            if rec.tags:
                tags += tag_pairs(row[0], rec.tags)
        try:
            return Batch.fresh(rows, tags)
        except Exception:  # noqa: BLE001 - e.g. a non-numeric cost: the SQL rollup copes, nothing is lost
            log.warning("llmwatch store: rollup figures not computed; the database sums them", exc_info=True)
            return Batch(rows, tags)

    def _db(self) -> Engine:
        if self._engine is None:
            self._engine = db.open_engine(self.url)
        return self._engine

    def _insert(self, batch: Batch) -> bool:
        t0 = time.perf_counter()
        try:
            with self._db().begin() as conn:
                if self._checkpointer is not None:  # checkpoints run on their own thread
                    conn.exec_driver_sql(BACKSTOP_PRAGMA)
                insert_batch(conn, batch)
        except Exception as exc:  # noqa: BLE001 - unreachable, locked, full, ...: all go to the spool
            log.warning("llmwatch store: database write failed (%s); spooling to %s", exc.__class__.__name__,
                        self.spool.dir)
            self.metrics.write_errors.inc()
            return False
        if self._checkpointer is not None:
            self._checkpointer.poke()
        self.metrics.batch_duration.observe(time.perf_counter() - t0)
        self.metrics.written.inc(len(batch))
        return True

    def _enter_outage(self) -> None:
        if not self._outage:
            self._backoff = self.retry_min
        else:
            self._backoff = min(self.retry_max, self._backoff * 2)
        self._outage = True
        self._retry_at = time.monotonic() + self._backoff

    def _spool(self, batch: Batch) -> None:
        rows = batch.rows
        if not rows:
            return
        try:
            kept = self.spool.append([spool_form(r) for r in rows])
        except OSError:
            log.exception("llmwatch store: cannot write the spool %s", self.spool.dir)
            self.metrics.drop("spool_error", len(rows))
            return
        if kept < len(rows):
            log.warning("llmwatch store: spool %s full; dropping %d record(s)", self.spool.dir, len(rows) - kept)
            self.metrics.drop("spool_full", len(rows) - kept)
        self.metrics.spooled.inc(kept)
        self.metrics.spool_bytes.set(self.spool.pending_bytes)

    def _try_replay(self) -> None:
        def insert(rows: list[dict[str, Any]]) -> None:
            with self._db().begin() as conn:
                insert_batch(conn, Batch.replayed(rows))
            self.metrics.replayed.inc(len(rows))
            self.metrics.written.inc(len(rows))

        try:
            _, torn = self.spool.replay(insert)
        except Exception as exc:  # noqa: BLE001 - still down: keep spooling, retry later
            log.info("llmwatch store: database still unavailable (%s)", exc.__class__.__name__)
            self.metrics.write_errors.inc()
            self._enter_outage()
            return
        finally:
            self.metrics.spool_bytes.set(self.spool.pending_bytes)
        self.metrics.drop("spool_corrupt", torn)
        # Segments still there belong to other live processes (forked workers sharing the spool);
        # each replays its own, so waiting for them here would only keep everyone spooling.
        self._outage = False
        log.info("llmwatch store: database back; spool replayed")

    def _maybe_prune(self) -> None:
        if not self.retention or time.monotonic() < self._next_prune or not self._prune_lock.acquire(False):
            return
        try:
            self._next_prune = time.monotonic() + 3600
            from llmwatch.store.maintenance import prune

            prune(self._db(), older_than=self.retention)
        except Exception:  # noqa: BLE001
            log.warning("llmwatch store: retention prune failed", exc_info=True)
        finally:
            self._prune_lock.release()

    def _after_fork_in_child(self) -> None:
        self.spool.after_fork_in_child()
        self._init_state()


def _close_all_at_exit() -> None:
    for sink in list(_sinks):
        try:
            sink.close(timeout=5.0)
        except Exception:  # noqa: BLE001 - never fail interpreter shutdown
            log.warning("llmwatch store: close at exit failed", exc_info=True)


atexit.register(_close_all_at_exit)


def _reinit_after_fork() -> None:
    for sink in list(_sinks):
        sink._after_fork_in_child()


os.register_at_fork(after_in_child=_reinit_after_fork)
