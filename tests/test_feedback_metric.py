"""User feedback recorded in-process reaches llmwatch_feedback_score, normalised to [0, 1], by model
and kind; without a running llmwatch it is only stored."""

from __future__ import annotations

import pytest

from llmwatch import logs
from llmwatch.store import db
from llmwatch.store.annotate import normalise_feedback
from tests.conftest import USER

FB = "llmwatch_feedback_score"


@pytest.fixture
def stored_call(observe, client, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMWATCH_STORE_SPOOL_DIR", str(tmp_path / "spool"))
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    obs = observe(store=True, store_url=url)
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    obs.flush()
    (call,) = logs.query(url)
    yield obs, url, call.record_id
    db.close_engine(url)


def test_thumbs_and_ratings_are_observed_for_the_calls_model(stored_call):
    obs, url, rid = stored_call
    logs.feedback(rid, score=1, url=url)
    logs.feedback(rid[:8], score=-1, url=url)
    logs.feedback(rid, score=4, url=url)
    logs.feedback(rid, score=1, kind="rating", url=url)
    thumbs = {"gen_ai_request_model": "gpt-4o-mini", "llmwatch_feedback_kind": "thumbs"}
    rating = {"gen_ai_request_model": "gpt-4o-mini", "llmwatch_feedback_kind": "rating"}
    assert obs.value(FB + "_count", **thumbs) == 2 and obs.value(FB + "_sum", **thumbs) == 1.0
    assert obs.value(FB + "_count", **rating) == 2 and obs.value(FB + "_sum", **rating) == 0.75
    assert len(logs.get(rid, url=url).annotations) == 4  # the raw scores are stored as given


def test_invalid_feedback_is_rejected_before_it_is_stored_or_counted(stored_call):
    obs, url, rid = stored_call
    with pytest.raises(logs.QueryError, match="feedback kind"):
        logs.feedback(rid, score=1, kind="stars", url=url)
    with pytest.raises(LookupError):
        logs.feedback("abcdef", score=1, url=url)
    assert obs.value(FB + "_count") == 0
    assert not logs.get(rid, url=url).annotations


def test_feedback_without_a_running_llmwatch_is_stored_only(stored_call):
    import llmwatch

    obs, url, rid = stored_call
    llmwatch.shutdown()
    assert logs.feedback(rid, score=-1, url=url) == rid
    assert obs.value(FB + "_count") == 0
    assert [a.value for a in logs.get(rid, url=url).annotations] == [-1.0]


@pytest.mark.parametrize(("score", "kind", "expected"), [
    (1, None, ("thumbs", 1.0)), (-1, None, ("thumbs", 0.0)), (0, None, ("thumbs", 0.0)),
    (5, None, ("rating", 1.0)), (3, None, ("rating", 0.5)), (1, "rating", ("rating", 0.0)),
    (9, None, ("rating", 1.0)), (-3, None, ("rating", 0.0)),
])
def test_scores_are_normalised_to_the_unit_interval(score, kind, expected):
    assert normalise_feedback(float(score), kind) == expected
