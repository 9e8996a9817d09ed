"""Toxicity through the real Detoxify class, loading a tiny checkpoint offline, in the SDK."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("detoxify")
from tests.scoring_support import build_tiny_detoxify  # noqa: E402

from llmwatch.scoring.base import Item  # noqa: E402
from llmwatch.scoring.toxicity import ToxicityScorer, load_offline  # noqa: E402
from tests.conftest import USER  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_tiny_detoxify(tmp_path_factory.mktemp("detoxify"))


def test_real_detoxify_loads_a_hub_model_type_checkpoint_offline(checkpoint, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = load_offline(checkpoint, "cpu")
    assert type(model).__module__.startswith("detoxify")
    res = model.predict(["you are an idiot", "hello world"])
    assert set(res) == {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}
    assert all(len(v) == 2 and all(0.0 <= x <= 1.0 for x in v) for v in res.values())


def test_checkpoint_folder_is_accepted_and_the_file_is_not_rewritten(checkpoint):
    before = checkpoint.read_bytes()
    scorer = ToxicityScorer(checkpoint=str(checkpoint.parent), device="cpu")
    assert scorer.predict(["hello"])[0]["toxicity"] >= 0.0
    assert checkpoint.read_bytes() == before


def test_scores_prompt_and_completion_per_category_in_batches(checkpoint):
    scorer = ToxicityScorer(checkpoint=str(checkpoint), device="cpu", batch_size=3)
    items = [Item(f"{i:032x}", "m", prompt=f"question {i}", completion="you are an idiot") for i in range(5)]
    items.append(Item("f" * 32, "m"))  # no text: still marked as scored
    results = scorer.score(items)
    assert [len(r) for r in results] == [2, 2, 2, 2, 2, 1]
    assert {e.direction for e in results[0]} == {"input", "output"}
    assert len(results[0][0].categories) == 6
    for batch in (1, 32):
        fast = ToxicityScorer(checkpoint=str(checkpoint), device="cpu", batch_size=batch)
        fast.predict(["warm up"])
        texts = ["the system returns a stable answer for every request"] * 256
        t0 = time.perf_counter()
        fast.predict(texts)
        print(f"\ntiny Detoxify on CPU, batch {batch}: {len(texts) / (time.perf_counter() - t0):.0f} texts/s")


def test_toxicity_scores_reach_metrics_events_and_store_off_the_callers_thread(observe, client, checkpoint, tmp_path):
    from llmwatch.scoring import worker
    from llmwatch.store.query import count

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    caller = threading.current_thread().name
    seen_threads: set[str] = set()
    original = ToxicityScorer.score

    def spy(self, items):
        seen_threads.add(threading.current_thread().name)
        return original(self, items)

    ToxicityScorer.score = spy
    try:
        obs = observe(store=True, store_url=url, scorers="toxicity", toxicity_checkpoint=str(checkpoint),
                      toxicity_device="cpu")
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"x-sim-toxic": "1"})
        assert worker.flush(60)
    finally:
        ToxicityScorer.score = original
    assert caller not in seen_threads and all(t.startswith("llmwatch-score-toxicity") for t in seen_threads)
    assert obs.value("llmwatch_toxicity_score_count", llmwatch_direction="output", llmwatch_category="insult") == 3
    assert obs.value("llmwatch_toxicity_score_count", llmwatch_direction="input") == 18
    events = [e for s in obs.spans() if s.name == "evaluation toxicity" for e in s.events]
    assert len(events) == 6 and all(e.name == "gen_ai.evaluation.result" for e in events)
    chat = [s for s in obs.spans() if s.name.startswith("chat")]
    parents = {s.parent.span_id for s in obs.spans() if s.name == "evaluation toxicity"}
    assert parents == {s.context.span_id for s in chat}
    import llmwatch

    llmwatch.flush()
    time.sleep(0)  # the store writer is asynchronous; flush() above waited for it
    assert count(url, min_toxicity=0.0) == 3
    assert count(url, min_toxicity=1.01) == 0
