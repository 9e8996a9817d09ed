"""The bounded record pipeline: the caller's thread enqueues, one worker thread does the rest.

``submit()`` is the only thing an instrumented call does once it has its response: a length
check and a ``deque.append`` (both atomic under the GIL), so it never blocks and never raises.
When the queue is full the record is dropped and counted (``llmwatch_records_dropped_total
{llmwatch_reason="queue_full"}``) and the call's span and metrics are completed inline.

The queue carries finished calls: the worker completes each one (reads the response, sets the
span's attributes and ends it with the end time stamped on the caller's thread, records metrics)
and turns it into a record. Then, for each batch, it assigns record ids, normalises request/response
content into the semconv message shape, estimates tokens where the provider reported none (flagged,
counted apart from billable tokens), prices estimated usage, records per-chunk stream timings, then
hands the batch to every sink. A failing sink is counted and logged; it never stops the worker or affects other sinks.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from llmwatch.instrumentation import content
from llmwatch.record import CallRecord, Sink, new_record_id

if TYPE_CHECKING:
    from llmwatch.config import Config
    from llmwatch.metrics.instruments import Instruments

logger = logging.getLogger("llmwatch")

class Completable(Protocol):
    """A finished call whose span, metrics and record are completed on the worker."""

    def complete(self) -> CallRecord | None: ...


# Processors run on each record in the worker before sinks see it (e.g. redaction, scoring hooks).
RecordProcessor = Callable[[CallRecord], None]


class RecordPipeline:
    """Bounded queue + worker thread feeding the sinks. Safe across ``fork()``."""

    def __init__(
        self,
        config: Config,
        instruments: Instruments,
        sinks: Sequence[Sink] = (),
        processors: Sequence[RecordProcessor] = (),
        estimator: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self._config = config
        self._instruments = instruments
        self._sinks = list(sinks)
        self._processors = list(processors)
        self._estimator = estimator
        self._maxsize = config.queue_size
        # Queued records that wake the worker before its interval is up: a batch's worth (or half
        # the queue, whichever is less), so a long interval never fills the queue (a queue of one: never).
        self._early = min(config.batch_size, config.queue_size // 2) or config.queue_size + 1
        self._queue: collections.deque[CallRecord | Completable] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._idle = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._start_worker()
        _PIPELINES.add(self)

    # ---------------------------------------------------------------- hot path
    def submit(self, item: CallRecord | Completable) -> bool:
        """Enqueue without blocking. A full queue counts a drop and returns False (the caller then
        completes the call itself, so its span still ends and its metrics still count)."""
        depth = len(self._queue)
        if depth >= self._maxsize:
            self._instruments.dropped("queue_full")
            return False
        if self._stopping:  # e.g. a stream consumed after shutdown(): span and metrics complete inline,
            self._instruments.dropped("after_shutdown")  # but no sink is left to take the record
            return False
        self._queue.append(item)
        if depth >= self._early - 1 and not self._wake.is_set():  # a batch is waiting: drain it now
            self._wake.set()
        return True

    # ---------------------------------------------------------------- control
    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def add_processor(self, processor: RecordProcessor) -> None:
        self._processors.append(processor)

    @property
    def depth(self) -> int:
        return len(self._queue)

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every record submitted so far has reached the sinks (or timeout)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.set()
                self._idle.wait(min(remaining, 0.05))
        for sink in self._sinks:
            flush = getattr(sink, "flush", None)
            if flush is not None:
                try:
                    flush(max(0.0, deadline - time.monotonic()))
                except Exception as exc:  # noqa: BLE001 - a sink must never break shutdown
                    self._instruments.internal_error("sink_flush", exc)
        return True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Drain what is queued, stop the worker, close the sinks."""
        self.flush(timeout)
        self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for sink in self._sinks:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001
                self._instruments.internal_error("sink_close", exc)
        _PIPELINES.discard(self)

    # ---------------------------------------------------------------- worker
    def _start_worker(self) -> None:
        self._thread = threading.Thread(target=self._run, name="llmwatch-records", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        # The parent's worker thread does not exist in the child; records queued before the fork
        # belong to the parent (which still has them), so the child starts empty.
        self._queue = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        if not self._stopping:
            self._start_worker()

    def _run(self) -> None:
        interval = self._config.flush_interval
        batch_size = self._config.batch_size
        while True:
            self._wake.wait(interval)
            self._wake.clear()
            while True:
                batch: list[CallRecord | Completable] = []
                with self._idle:
                    while self._queue and len(batch) < batch_size:
                        batch.append(self._queue.popleft())
                    self._in_flight = len(batch)
                if not batch:
                    break
                try:
                    self._process(batch)
                finally:
                    with self._idle:
                        self._in_flight = 0
                        self._idle.notify_all()
            self._instruments.queue_depth(len(self._queue))
            with self._idle:
                self._idle.notify_all()
            if self._stopping and not self._queue:
                return

    def _process(self, batch: list[CallRecord | Completable]) -> None:
        with self._instruments.batch():  # counters summed over the batch, added once per series
            ready = self._complete(batch)
        if not ready:
            return
        self._instruments.processed(len(ready))
        for sink in self._sinks:
            try:
                sink.write(ready)
            except Exception as exc:  # noqa: BLE001
                self._instruments.internal_error("sink", exc)
                self._instruments.dropped("sink_error", len(ready))

    def _complete(self, batch: list[CallRecord | Completable]) -> list[CallRecord]:
        ready: list[CallRecord] = []
        for item in batch:
            try:
                record = item if isinstance(item, CallRecord) else item.complete()
                if record is None:  # completion failed: counted as an internal error already
                    self._instruments.dropped("complete_error")
                    continue
                self._prepare(record)
                ready.append(record)
            except Exception as exc:  # noqa: BLE001 - one bad record must not sink the batch
                self._instruments.internal_error("record_prepare", exc)
                self._instruments.dropped("prepare_error")
        return ready

    def _prepare(self, record: CallRecord) -> None:
        if not record.record_id:
            record.record_id = new_record_id()
        content.normalise_record(record)
        if record.chunk_times:
            self._instruments.chunk_intervals(record, record.chunk_times)
        if self._estimator is not None and (record.input_tokens is None or record.output_tokens is None):
            try:
                self._estimator(record)
            except Exception as exc:  # noqa: BLE001
                self._instruments.internal_error("token_estimate", exc)
        for processor in self._processors:
            try:
                processor(record)
            except Exception as exc:  # noqa: BLE001
                self._instruments.internal_error("record_processor", exc)
        record.raw_request = None
        record.raw_response = None
        record.chunk_times = None


_PIPELINES: weakref.WeakSet[RecordPipeline] = weakref.WeakSet()


def _after_fork() -> None:
    for pipeline in list(_PIPELINES):
        pipeline._after_fork_in_child()


def _at_exit() -> None:
    for pipeline in list(_PIPELINES):
        try:
            pipeline.shutdown(timeout=5.0)
        except Exception:  # noqa: BLE001 - never fail interpreter exit
            logger.debug("llmwatch: pipeline shutdown at exit failed", exc_info=True)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
atexit.register(_at_exit)
