"""Moderation through the real openai client against the simulator's /moderations endpoint."""

from __future__ import annotations

from llmwatch.scoring.base import Item
from llmwatch.scoring.moderation import ModerationScorer
from tests.conftest import USER


def test_flags_and_category_scores_from_the_moderation_endpoint(sim):
    scorer = ModerationScorer(base_url=sim.base_url, api_key="sk-test")
    [[inp, out]] = scorer.score([Item("a" * 32, "m", prompt="hello there", completion="shut up you moron")])
    assert (inp.label, out.label) == ("ok", "flagged")
    assert out.flagged_categories == ("harassment",) and out.value >= 0.9
    assert "self-harm" in out.categories  # wire names, not the SDK's python names


def test_moderation_calls_are_not_observed_as_the_apps_calls(observe, client, sim, tmp_path):
    from llmwatch.scoring import worker
    from llmwatch.store.query import count

    url = f"sqlite:///{tmp_path / 'c.db'}"
    obs = observe(store=True, store_url=url, scorers="moderation", moderation_base_url=sim.base_url)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"x-sim-toxic": "1"})
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, extra_headers={"x-sim-toxic": "0"})
    assert worker.flush(30)
    spans = obs.spans()
    assert sorted(s.name for s in spans if not s.name.startswith("evaluation")) == ["chat gpt-4o-mini"] * 2
    assert obs.value("gen_ai_client_operation_duration_seconds_count", gen_ai_operation_name="moderation") == 0
    assert obs.value("llmwatch_moderation_flags_total", llmwatch_category="harassment",
                     llmwatch_direction="output") == 1
    import llmwatch

    llmwatch.flush()
    assert count(url) == 2
    assert count(url, flagged_by=["moderation"]) == 1
