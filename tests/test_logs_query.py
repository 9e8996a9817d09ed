"""Finding calls again: every filter, full-text, pagination, stats, compare, flag/feedback,
export and prune — through ``llmwatch.logs`` and the ``llmwatch logs`` CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest
from tests.test_store_support import make_record, rows, store_url, write  # noqa: F401

from llmwatch import logs
from llmwatch.cli import main as cli
from llmwatch.store.annotate import add_scores

NOW = time.time()
HOUR = 3600.0


@pytest.fixture
def sample(store_url, tmp_path):
    """A small, known log: three models, errors, sessions, tags, templates, and one shared prompt."""
    recs = {
        "slow_refund": make_record(request_model="gpt-4o", start_time=NOW - 2 * HOUR, duration=4.0,
                                   prompt="I want a refund for my broken kettle", answer="Refund issued.",
                                   session_id="s1", user_id="alice", tags=["support", "vip"], cost_usd=0.02,
                                   input_tokens=900, output_tokens=100),
        "fast_refund": make_record(request_model="gpt-4o", start_time=NOW - 3 * HOUR, duration=0.2,
                                   prompt="Refunds policy please", answer="30 days.", session_id="s1",
                                   user_id="alice", tags=["support"]),
        "mini_error": make_record(request_model="gpt-4o-mini", start_time=NOW - 1 * HOUR, duration=1.0,
                                  status="error", error_type="RateLimitError", output_messages=None,
                                  prompt="Summarise the meeting", user_id="bob", cost_usd=None,
                                  output_tokens=None),
        "old": make_record(request_model="gpt-4.1", start_time=NOW - 50 * HOUR, duration=0.7,
                           prompt="old question about shipping", user_id="carol"),
        "embed": make_record(operation="embeddings", request_model="text-embedding-3-small", provider="azure.ai.openai",
                             start_time=NOW - 0.5 * HOUR, duration=0.05, output_messages=None, prompt="vector me"),
    }
    same = "Translate 'good morning' into French"
    for i, model in enumerate(("gpt-4o", "gpt-4o-mini", "gpt-4.1")):
        recs[f"cmp_{model}"] = make_record(request_model=model, start_time=NOW - 4 * HOUR + i, prompt=same,
                                           answer=f"Bonjour ({model})", prompt_template="translate",
                                           prompt_template_version="2")
    write(store_url, recs.values(), tmp_path)
    return store_url, recs


def ids(page):
    return {c.record_id for c in page}


def test_each_filter_selects_exactly_the_matching_calls(sample):
    url, r = sample
    rid = {k: v.record_id for k, v in r.items()}
    cmp_ids = {rid["cmp_gpt-4o"], rid["cmp_gpt-4o-mini"], rid["cmp_gpt-4.1"]}
    q = lambda **kw: ids(logs.query(url, limit=100, **kw))  # noqa: E731
    assert q(since="24h") == set(rid.values()) - {rid["old"]}
    assert q(until="24h") == {rid["old"]}
    assert q(model="gpt-4o") == {rid["slow_refund"], rid["fast_refund"], rid["cmp_gpt-4o"]}
    assert q(model="gpt-4o*") == q(model="gpt-4o") | {rid["mini_error"], rid["cmp_gpt-4o-mini"]}
    assert q(provider="azure.ai.openai") == q(operation="embeddings") == {rid["embed"]}
    assert q(status="error") == q(error_type="RateLimitError") == {rid["mini_error"]}
    assert q(min_duration=2) == {rid["slow_refund"]}
    assert q(max_duration=0.1) == {rid["embed"]}
    assert q(min_tokens=500) == {rid["slow_refund"]} and rid["slow_refund"] not in q(max_tokens=500)
    assert q(min_cost=0.01) == {rid["slow_refund"]} and rid["mini_error"] not in q(max_cost=1)
    assert q(session="s1") == {rid["slow_refund"], rid["fast_refund"]}
    assert q(user="bob") == {rid["mini_error"]}
    assert q(template="translate", template_version="2") == cmp_ids
    assert q(tag="support") == {rid["slow_refund"], rid["fast_refund"]} and q(tag=["support", "vip"]) == {rid["slow_refund"]}
    assert q(trace_id=r["old"].trace_id) == {rid["old"]}
    assert q(since="24h", model="gpt-4o", min_duration=1) == {rid["slow_refund"]}
    assert logs.count(url) == len(r) and logs.count(url, model="gpt-4o") == 3


def test_full_text_finds_words_stems_and_phrases(sample):
    url, r = sample
    hits = ids(logs.query(url, text="refund"))
    assert hits == {r["slow_refund"].record_id, r["fast_refund"].record_id}  # "Refunds" stems to refund
    assert ids(logs.query(url, text='"broken kettle"')) == {r["slow_refund"].record_id}
    assert ids(logs.query(url, text="refund kettle")) == {r["slow_refund"].record_id}
    assert ids(logs.query(url, text="bonjour")) == {r[f"cmp_{m}"].record_id for m in ("gpt-4o", "gpt-4o-mini", "gpt-4.1")}
    assert logs.count(url, text="refund", min_duration=1) == 1
    assert logs.count(url, text="nonexistentword") == 0
    # the full-text index holds each stored row once, even after duplicate writes
    write(url, [r["slow_refund"]], __import__("pathlib").Path(__import__("tempfile").mkdtemp()))
    assert logs.count(url, text="kettle") == 1


def test_sorting_and_cursor_pagination_visit_every_call_once(sample):
    url, r = sample
    for sort in ("-start_time", "start_time", "-duration", "cost_usd", "-total_tokens"):
        seen, cursor = [], None
        while True:
            page = logs.query(url, sort=sort, limit=3, cursor=cursor)
            seen += [c.record_id for c in page]
            cursor = page.next_cursor
            if not cursor:
                break
        assert sorted(seen) == sorted(v.record_id for v in r.values()), sort
    slowest = logs.query(url, sort="-duration", limit=1)[0]
    assert slowest.record_id == r["slow_refund"].record_id


def test_flags_feedback_and_scores_are_kept_and_filterable(sample):
    url, r = sample
    rid = r["fast_refund"].record_id
    assert logs.flag(rid[:8], label="weak-prompt", note="too vague", url=url) == rid
    logs.feedback(rid, score=-1, comment="wrong policy", url=url)
    add_scores([{"record_id": r["slow_refund"].record_id, "name": "toxicity", "value": 0.91, "scorer": "detoxify"}],
               url=url)
    assert ids(logs.query(url, flagged=True)) == {rid} == ids(logs.query(url, flagged="weak-prompt"))
    assert not logs.query(url, flagged="other-label")
    assert ids(logs.query(url, score="toxicity>0.8")) == {r["slow_refund"].record_id}
    assert not logs.query(url, score="toxicity<0.5")
    detail = logs.get(rid, url=url)
    assert [(a.kind, a.label, a.value, a.note) for a in detail.annotations] == [
        ("flag", "weak-prompt", None, "too vague"), ("feedback", None, -1.0, "wrong policy")]


def test_show_includes_the_other_calls_of_the_trace(store_url, tmp_path):
    parent = make_record(trace_id="ab" * 16, span_id="1" * 16)
    child = make_record(trace_id="ab" * 16, span_id="2" * 16, parent_span_id="1" * 16)
    write(store_url, [parent, child], tmp_path)
    detail = logs.get(child.record_id, url=store_url)
    assert [c.record_id for c in detail.trace] == [parent.record_id]


def test_aggregate_gives_counts_error_rates_percentiles_tokens_cost(sample):
    url, r = sample
    stats = {s["group"]: s for s in logs.aggregate(url, by="model", exact=True)}
    assert stats["gpt-4o"]["count"] == 3 and stats["gpt-4o"]["errors"] == 0 and stats["gpt-4o"]["source"] == "exact"
    assert stats["gpt-4o-mini"]["error_rate"] == 0.5
    durations = sorted([4.0, 0.2, 0.5])
    assert stats["gpt-4o"]["p50"] == pytest.approx(durations[1])
    assert stats["gpt-4o"]["p99"] == pytest.approx(0.5 + (4.0 - 0.5) * 0.98)
    assert stats["gpt-4o"]["input_tokens"] == 900 + 12 + 12
    assert stats["gpt-4o-mini"]["unknown_cost"] == 1
    by_template = {s["group"]: s["count"] for s in logs.aggregate(url, by="template")}
    assert by_template["translate"] == 3


@pytest.mark.parametrize("window", [{}, {"since": "24h"}, {"since": NOW - 3.5 * HOUR, "until": NOW - 0.2 * HOUR}])
def test_stats_from_the_hourly_rollup_match_the_exact_figures(sample, window):
    url, r = sample
    exact = {s["group"]: s for s in logs.aggregate(url, by="model", exact=True, **window)}
    rolled = {s["group"]: s for s in logs.aggregate(url, by="model", **window)}
    assert set(rolled) == set(exact)
    for group, e in exact.items():
        got = rolled[group]
        assert got["source"] == "hourly rollup"
        for k in ("count", "errors", "error_rate", "input_tokens", "output_tokens", "unknown_cost"):
            assert got[k] == e[k], (group, k)
        assert got["cost_usd"] == (None if e["cost_usd"] is None else pytest.approx(e["cost_usd"]))
        for q in ("p50", "p95", "p99"):  # bucket-interpolated: within one bucket (x1.34) of the exact value
            assert e[q] / 1.34 <= got[q] <= e[q] * 1.34, (group, q, got[q], e[q])


def test_stats_use_exact_figures_for_filters_the_rollup_does_not_hold(sample):
    url, r = sample
    (s,) = logs.aggregate(url, by="model", user="alice")
    assert s["source"] == "exact" and s["count"] == 2
    assert {x["source"] for x in logs.aggregate(url, by="user")} == {"exact"}
    hour = NOW // HOUR * HOUR - HOUR
    within = logs.aggregate(url, by="model", since=hour + 1, until=hour + 1800)  # no whole hour in the window
    assert {x["source"] for x in within} <= {"exact"}


def test_compare_puts_each_models_answer_to_the_same_prompt_side_by_side(sample):
    url, r = sample
    groups = logs.compare(url, record_id=r["cmp_gpt-4o"].record_id)
    assert len(groups) == 1
    answers = {m: c.output_text for m, c in groups[0]["answers"].items()}
    assert answers == {m: f"Bonjour ({m})" for m in ("gpt-4o", "gpt-4o-mini", "gpt-4.1")}
    assert logs.compare(url, template="translate", template_version="2")[0]["prompt_hash"] == groups[0]["prompt_hash"]


def test_export_jsonl_and_argilla(sample, tmp_path, capsys):
    url, r = sample
    logs.flag(r["slow_refund"].record_id, label="needs-review", url=url)
    out = tmp_path / "all.jsonl"
    assert cli(["logs", "--url", url, "export", "--output", str(out), "--progress"]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == len(r) and {"record_id", "input_messages", "duration", "cost_usd"} <= set(lines[0])
    assert "exporting [" in capsys.readouterr().err  # the progress bar
    out = tmp_path / "argilla.jsonl"
    assert cli(["logs", "--url", url, "export", "--flagged", "--format", "argilla", "-o", str(out)]) == 0
    (rec,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert rec["id"] == r["slow_refund"].record_id and rec["label"] == "needs-review"
    assert "kettle" in rec["prompt"] and rec["response"] == "Refund issued." and rec["model"] == "gpt-4o"


def test_prune_deletes_old_calls_and_their_annotations(sample):
    url, r = sample
    logs.flag(r["old"].record_id, label="x", url=url)
    assert cli(["logs", "--url", url, "prune", "--older-than", "1d"]) == 0
    assert logs.count(url) == len(r) - 1
    assert rows(url, "SELECT count(*) FROM llmwatch_flags") == [(0,)]
    assert logs.count(url, text="shipping") == 0  # gone from the full-text index too
    assert "gpt-4.1" in {x["group"] for x in logs.aggregate(url, by="model")}  # the compare call remains
    assert [x["count"] for x in logs.aggregate(url, by="model", model="gpt-4.1")] == [1]  # "old" left the rollup


def test_cli_query_formats_and_commands(sample, capsys):
    url, r = sample
    assert cli(["logs", "--url", url, "query", "--since", "1d", "--text", "refund", "--format", "jsonl"]) == 0
    got = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {g["record_id"] for g in got} == {r["slow_refund"].record_id, r["fast_refund"].record_id}
    assert cli(["logs", "--url", url, "query", "--format", "csv", "--limit", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("record_id,") and "--cursor" in captured.err
    assert cli(["logs", "--url", url, "query", "--min-latency", "2s"]) == 0
    assert "gpt-4o" in capsys.readouterr().out
    assert cli(["logs", "--url", url, "show", r["slow_refund"].record_id[:10]]) == 0
    assert "kettle" in capsys.readouterr().out
    assert cli(["logs", "--url", url, "stats", "--by", "provider", "--format", "json"]) == 0
    assert {s["group"] for s in json.loads(capsys.readouterr().out)} == {"openai", "azure.ai.openai"}
    assert cli(["logs", "--url", url, "compare", r["cmp_gpt-4.1"].record_id]) == 0
    assert "Bonjour (gpt-4o-mini)" in capsys.readouterr().out
    assert cli(["logs", "--url", url, "flag", r["old"].record_id, "--label", "weak-prompt"]) == 0
    assert cli(["logs", "--url", url, "feedback", r["old"].record_id, "--score", "1"]) == 0
    assert cli(["logs", "--url", url, "tail", "-n", "2", "--format", "jsonl"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2 + 2  # flag/feedback lines + 2 calls


@pytest.mark.parametrize("argv, expected", [
    (["query", "--since", "yesterdayish"], "ISO 8601"),
    (["query", "--min-latency", "fast"], "500ms"),
    (["query", "--sort=-speed"], "duration"),
    (["query", "--score", "toxicity>>1"], "NAME>VALUE"),
    (["query", "--cursor", "garbage!"], "next_cursor"),
    (["query", "--min-cost", "cheap"], "a number"),
    (["query", "--text", "  "], "quoted phrases"),
    (["feedback", "zzzzzz", "--score", "1"], "hex"),
    (["prune", "--older-than", "forever"], "30s"),
])
def test_bad_filters_exit_2_naming_the_accepted_form(sample, capsys, argv, expected):
    url, _ = sample
    try:
        code = cli(["logs", "--url", url, *argv])
    except SystemExit as exc:  # argparse rejects badly typed values itself, also with code 2
        code = exc.code
    assert code == 2
    assert expected in capsys.readouterr().err


def test_unknown_call_id_is_reported(sample, capsys):
    url, _ = sample
    assert cli(["logs", "--url", url, "show", "abcdef123456"]) == 1
    assert "no call with id" in capsys.readouterr().err


def test_tampered_cursors_are_a_clear_error():
    import base64
    import json

    from llmwatch.store.query import QueryError, _decode_cursor

    for payload in (["-start_time", 1.0, "x"], ["-start_time", [1], 3], ["-start_time", 1.0, True], [1, 2, 3]):
        cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        with pytest.raises(QueryError, match="invalid cursor"):
            _decode_cursor(cursor, "-start_time")
    good = base64.urlsafe_b64encode(json.dumps(["-start_time", 1.5, 7]).encode()).decode()
    assert _decode_cursor(good, "-start_time") == (1.5, 7)
