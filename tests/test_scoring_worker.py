"""The embedded worker: a crashing or slow scorer never affects the app or the other scorers."""

from __future__ import annotations

import threading

from llmwatch.scoring.base import OK, Evaluation
from llmwatch.scoring.worker import EmbeddedScoring, sampled
from tests.conftest import USER


class Crashing:
    name = "crashing"

    def score(self, items):
        raise RuntimeError("boom")


class Slow:
    name = "slow"

    def __init__(self) -> None:
        self.release = threading.Event()

    def score(self, items):
        self.release.wait(30)
        return [[Evaluation("slow", 0.0, OK)] for _ in items]


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.seen = 0

    def score(self, items):
        self.seen += len(items)
        return [[Evaluation("counting", 1.0, OK)] for _ in items]


def test_crashing_and_slow_scorers_are_counted_and_the_others_still_score(observe, client):
    import llmwatch
    from llmwatch import _runtime

    obs = observe(score_timeout=0.2, score_batch_size=1)
    slow, counting = Slow(), Counting()
    # Faulty scorers are installed directly on the running pipeline (the config names only built-ins).
    scoring = EmbeddedScoring(obs.config, _state(_runtime.current()), scorers=[Crashing(), slow, counting])
    try:
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        obs.flush()
        assert scoring.lanes[2].flush(30) and scoring.lanes[0].flush(30)
        assert counting.seen == 3
        assert len(obs.records()) == 3  # the app's calls and records are untouched
        assert obs.value("llmwatch_internal_errors_total", llmwatch_component="scorer.crashing") >= 1
        assert scoring.lanes[1].flush(30)  # returns while the scorer is still stuck: the batch was abandoned
        assert obs.value("llmwatch_internal_errors_total", llmwatch_component="scorer.slow.timeout") >= 1
    finally:
        slow.release.set()
        scoring.stop(5)
    llmwatch.flush()


def _state(rt):
    class _S:
        config = rt.config
        pipeline = rt.pipeline
        instruments = rt.instruments
        tracer = None
        redactor = None

    return _S()


def test_sampling_is_by_record_id_and_the_same_for_every_scorer():
    ids = ["0" * 24 + f"{i:08x}" for i in range(0, 0xFFFFFFFF, 0x01000000)]  # the random tail decides
    picked = [i for i in ids if sampled(i, 0.25)]
    assert len(picked) == 64 and picked == [i for i in ids if sampled(i, 0.25)]
    assert all(sampled(i, 1.0) for i in ids) and not any(sampled(i, 0.0) for i in ids)
