"""Embedded scoring: redaction on the record worker, scorers on their own threads.

``llmwatch.init(scorers=[...])`` starts this (:func:`start`) after the record pipeline, which
already redacts every record (:mod:`llmwatch.scoring.redaction`). On the record worker (never
the caller's thread), for a sampled share of calls, a processor snapshots the call's texts into an
:class:`~llmwatch.scoring.base.Item` and offers it to one lane per scorer. A lane is a bounded
queue and a thread that scores batches with a per-batch timeout; a full lane drops the item
(``llmwatch_records_dropped_total{llmwatch_reason="score_queue_full"}``), a failing or slow scorer
is counted (``llmwatch_internal_errors_total{llmwatch_component="scorer.<name>"}`` and
``"scorer.<name>.timeout"``) and never delays the app, the record worker or the other lanes.

The ``embedding`` lane is fed on its own terms: a sampled share of calls (``embedding_sample_rate``,
by record id), every errored call, and every call another lane's scorer flagged (that lane offers
it on), each call at most once. Its results are stored as embeddings, not scores.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from llmwatch.scoring.base import Item, Scorer, ScorerUnavailable, describe, item_from_record
from llmwatch.scoring.embedding import NAME as EMBEDDING
from llmwatch.scoring.report import QualityMetrics, Reporter

logger = logging.getLogger("llmwatch")


def sampled(record_id: str, rate: float) -> bool:
    """Deterministic by record id, so every scorer (and a re-run) samples the same calls. Reads the
    id's last 8 hex digits: random in a uuid4 and a UUIDv7 alike (a v7's first digits are its time)."""
    if rate >= 1.0:
        return True
    try:
        return int(record_id[-8:], 16) / 0x1_0000_0000 < rate
    except ValueError:
        return False


class Lane:
    """One scorer: a bounded queue, a thread, a per-batch timeout."""

    def __init__(self, scorer: Scorer, reporter: Reporter, instruments: Any, store_url: str | None,
                 store: bool, queue_size: int, batch_size: int, timeout: float) -> None:
        self.scorer = scorer
        self.reporter = reporter
        self.instruments = instruments
        self.store_url = store_url
        self.store = store
        self.maxsize = queue_size
        self.batch_size = batch_size
        self.timeout = timeout
        self.queue: collections.deque[Item] = collections.deque()
        self.cond = threading.Condition()
        self.busy = False
        self.stopping = False
        self.disabled = False
        self.scored = 0
        self.loaded = False
        self.on_flagged: Callable[[Item], None] | None = None  # where a call this scorer flagged goes next
        self._runner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"llmwatch-score-{scorer.name}")
        self._pending: concurrent.futures.Future[Any] | None = None
        available, self.status = describe(scorer)
        self._set_available(available)
        if not available:  # e.g. "toxicity: no weights (run `llmwatch models fetch detoxify original`)"
            self.disabled = True
            logger.warning("llmwatch: scorer off: %s", self.status)
        self.thread = threading.Thread(target=self._run, name=f"llmwatch-scoring-{scorer.name}", daemon=True)
        self.thread.start()

    def _set_available(self, available: bool) -> None:
        metrics = getattr(self.reporter, "metrics", None)
        if metrics is not None:
            metrics.scorer_state(self.scorer.name, available)

    def offer(self, item: Item) -> None:
        if self.disabled or self.stopping:
            return
        with self.cond:
            if len(self.queue) >= self.maxsize:
                self.instruments.dropped("score_queue_full")
                return
            self.queue.append(item)
            self.cond.notify()

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.queue or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))
        return True

    def stop(self, timeout: float) -> None:
        self.flush(timeout)
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.thread.join(timeout)
        self._runner.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        name = self.scorer.name
        while True:
            with self.cond:
                while not self.queue and not self.stopping:
                    self.cond.wait()
                if not self.queue:
                    return
                batch = [self.queue.popleft() for _ in range(min(self.batch_size, len(self.queue)))]
                self.busy = True
            try:
                self._score(batch, name)
            except Exception as exc:  # noqa: BLE001 - never let the lane die
                self.instruments.internal_error(f"scorer.{name}", exc)
            finally:
                with self.cond:
                    self.busy = False
                    self.cond.notify_all()

    def _score(self, batch: list[Item], name: str) -> None:
        if self._pending is not None and not self._pending.done():
            # The previous batch is still running past its timeout: don't pile up behind it.
            self.instruments.internal_error(f"scorer.{name}.timeout")
            self.instruments.dropped("scorer_busy", len(batch))
            return
        try:
            load = getattr(self.scorer, "load", None)
            if load is not None and not self.loaded:
                # Loading a model (seconds, once) is not held to the per-batch timeout; still off-thread.
                self._runner.submit(load).result()
                self.loaded = True
            self._pending = self._runner.submit(self.scorer.score, batch)
            results = self._pending.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            self.instruments.internal_error(f"scorer.{name}.timeout")
            self.instruments.dropped("scorer_timeout", len(batch))
            return
        except ScorerUnavailable as exc:
            self.disabled = True
            self.status = f"{name}: {exc}" if not str(exc).startswith(f"{name}:") else str(exc)
            self._set_available(False)
            self.queue.clear()
            self.instruments.internal_error(f"scorer.{name}", exc)
            logger.warning("llmwatch: scorer %s disabled: %s", name, exc)
            return
        except Exception as exc:  # noqa: BLE001
            self.instruments.internal_error(f"scorer.{name}", exc)
            return
        rows: list[dict[str, Any]] = []
        vectors: list[dict[str, Any]] = []
        for item, evals in zip(batch, results):
            try:
                self.reporter.emit(item, evals)
                rows.extend(self.reporter.rows(item, name, evals))
                vectors.extend(self.reporter.embeddings(item, evals))
                if self.on_flagged is not None and any(ev.flagged for ev in evals):
                    self.on_flagged(item)
            except Exception as exc:  # noqa: BLE001
                self.instruments.internal_error(f"scorer.{name}.report", exc)
        self.scored += len(batch)
        if self.store:
            self._store(rows, vectors)

    def _store(self, rows: list[dict[str, Any]], vectors: list[dict[str, Any]]) -> None:
        try:
            from llmwatch.store.annotate import add_embeddings, add_scores

            if rows:
                add_scores(rows, url=self.store_url)
            if vectors:
                add_embeddings(vectors, url=self.store_url)
        except Exception as exc:  # noqa: BLE001 - database down: the results are lost, counted
            self.instruments.internal_error("scorer.store", exc)


class EmbeddedScoring:
    """What ``init()`` starts when scorers are configured: one lane per scorer, fed by the pipeline."""

    def __init__(self, config: Any, state: Any, scorers: Sequence[Scorer] | None = None,
                 metrics: QualityMetrics | None = None) -> None:
        from llmwatch.scoring import build_scorers

        self.config = config
        self.pipeline = state.pipeline
        instruments = state.instruments
        self.metrics = metrics or QualityMetrics(getattr(instruments, "registry", None),
                                                 getattr(instruments, "meter", None), config.prometheus)
        redaction = state.redactor
        reporter = Reporter(self.metrics, state.tracer, redaction.text if redaction is not None else None)
        scorers = list(scorers) if scorers is not None else build_scorers(config.scorers, config)
        self.lanes = [Lane(s, reporter, instruments, config.store_url, config.store, config.score_queue_size,
                           config.score_batch_size, config.score_timeout) for s in scorers]
        self.instruments = instruments
        self.embedding = next((lane for lane in self.lanes if lane.scorer.name == EMBEDDING), None)
        self.scoring = [lane for lane in self.lanes if lane is not self.embedding]
        self._embedded: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._embedded_lock = threading.Lock()
        if self.embedding is not None:
            for lane in self.scoring:
                lane.on_flagged = self._embed
        if self.lanes and self.pipeline is not None:
            self.pipeline.add_processor(self._offer)

    def _offer(self, record: Any) -> None:
        rid = record.record_id
        score = bool(self.scoring) and sampled(rid, self.config.score_sample_rate)
        embed = self.embedding is not None and (getattr(record, "status", "ok") != "ok"
                                                or sampled(rid, self.config.embedding_sample_rate))
        if not (score or embed):
            return
        item = item_from_record(record)
        if score:
            for lane in self.scoring:
                lane.offer(item)
        if embed:
            self._embed(item)

    def _embed(self, item: Item) -> None:
        """Offer ``item`` to the embedding lane unless it was offered already (recently: a bounded memory)."""
        assert self.embedding is not None
        with self._embedded_lock:
            if item.record_id in self._embedded:
                return
            self._embedded[item.record_id] = None
            if len(self._embedded) > 4 * self.config.score_queue_size:
                self._embedded.popitem(last=False)
        self.embedding.offer(item)

    def flush(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        if self.pipeline is not None:
            self.pipeline.flush(timeout)
        return all(lane.flush(max(0.0, deadline - time.monotonic())) for lane in self.lanes)

    def stop(self, timeout: float = 10.0) -> None:
        if self.pipeline is not None:
            self.pipeline.flush(timeout)
        for lane in self.lanes:
            lane.stop(timeout)

    def statuses(self) -> dict[str, str]:
        """Each scorer's status line ("toxicity: no weights (...)", "injection: rules+learned", ...)."""
        return {lane.scorer.name: lane.status for lane in self.lanes}


_ACTIVE: EmbeddedScoring | None = None


def flush(timeout: float = 30.0) -> bool:
    """Wait until every call finished so far is scored and reported (tests, demos, shutdown)."""
    active = _ACTIVE
    return True if active is None else active.flush(timeout)


def statuses() -> dict[str, str]:
    """The running scorers' status lines (empty when none runs)."""
    active = _ACTIVE
    return {} if active is None else active.statuses()


def start(state: Any, metrics: QualityMetrics | None = None) -> Callable[[], None] | None:
    """``init(scorers=[...])``: start the scorer lanes and return :func:`stop`; nothing when no
    scorer is configured."""
    global _ACTIVE
    if not state.config.scorers or state.pipeline is None:
        return None
    _ACTIVE = EmbeddedScoring(state.config, state, metrics=metrics)
    return stop


def stop() -> None:
    global _ACTIVE
    active, _ACTIVE = _ACTIVE, None
    if active is not None:
        active.stop()
