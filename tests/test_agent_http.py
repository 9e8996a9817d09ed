"""The agent over real HTTP: a ``llmwatch agent`` subprocess on 127.0.0.1 with a free port, against
a seeded SQLite file and a fresh PostgreSQL database; GPU metrics from the fake source (no GPU here).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from llmwatch import names as n
from llmwatch.daemon.openapi import render
from tests.agent_support import TOKEN, AgentProcess, wait_until
from tests.test_store_support import create_pg_database, make_record, pg_available, write

ROOT = Path(__file__).resolve().parent.parent
NOW = time.time()
TRACE = "ab" * 16


def seed(url: str, tmp: Path) -> dict:
    recs = {
        "root": make_record(request_model="gpt-4o", trace_id=TRACE, span_id="1" * 16, start_time=NOW - 60,
                            prompt="Plan a trip to Lisbon", answer="Day 1: Alfama."),
        "child": make_record(request_model="gpt-4o-mini", trace_id=TRACE, span_id="2" * 16,
                             parent_span_id="1" * 16, start_time=NOW - 59, prompt="Summarise the plan"),
        "grandchild": make_record(operation="embeddings", request_model="text-embedding-3-small", trace_id=TRACE,
                                  span_id="3" * 16, parent_span_id="2" * 16, start_time=NOW - 58,
                                  output_messages=None),
        "error": make_record(request_model="gpt-4o-mini", status="error", error_type="RateLimitError",
                             start_time=NOW - 30, output_messages=None, cost_usd=None, output_tokens=None),
        "old": make_record(request_model="gpt-4.1", start_time=NOW - 100 * 86400, prompt="ancient question"),
    }
    for i, model in enumerate(("gpt-4o", "gpt-4.1")):
        recs[f"cmp_{model}"] = make_record(request_model=model, start_time=NOW - 3600 + i,
                                           prompt="Translate 'good morning' into French", answer=f"Bonjour {i}")
    for i in range(12):
        recs[f"bulk{i}"] = make_record(request_model="gpt-4o-mini", start_time=NOW - 7200 + i, duration=0.1 * i,
                                       tags=["bulk"], session_id="s-bulk")
    write(url, recs.values(), tmp)
    return recs


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def agent(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"agent-{request.param}")
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'calls.db'}"
    else:
        if not pg_available():
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (scripts/test.sh starts it)")
        url, drop = create_pg_database()
    recs = seed(url, tmp)
    a = AgentProcess(tmp, url, retention="30d",
                     fake={"gpus": 2, "processes": [{"pid": 77, "name": "vllm", "memory_bytes": 1 << 30}]})
    a.recs = recs
    try:
        yield a
    finally:
        a.terminate()
        if drop:
            drop()


def test_healthz_readyz_and_openapi(agent):
    assert agent.get("/healthz", token=None)[:2] == (200, {"status": "ok"})
    status, body, _ = agent.get("/readyz", token=None)
    assert status == 200 and body["ready"] is True
    assert body["checks"]["store"] == "ok" and body["checks"]["gpu"] == "available: 2 GPU(s)"
    assert body["checks"]["scorers"]  # running, or why not (scoring module absent)
    status, spec, _ = agent.get("/openapi.json", token=None)
    assert status == 200 and spec == json.loads((ROOT / "llmwatch/daemon/openapi.json").read_text())


def test_committed_openapi_matches_a_fresh_generation():
    assert (ROOT / "llmwatch/daemon/openapi.json").read_text() == render(), \
        "llmwatch/daemon/openapi.json is stale: python -m llmwatch.daemon.openapi > llmwatch/daemon/openapi.json"


def test_metrics_has_gpu_and_agent_health_and_passes_promtool(agent):
    agent.get("/api/v1/calls?limit=1")
    status, text, headers = agent.get("/metrics", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert f'{n.GPU_UTILIZATION.prom_name}{{hw_id="GPU-fake-0001-0000-0000-000000000000"' in text
    assert 'process_executable_name="vllm"' in text and "llmwatch_gpu_available 1.0" in text
    assert 'llmwatch_agent_http_requests_total{http_response_status_code="200",http_route="/api/v1/calls"}' in text
    assert 'llmwatch_agent_component_up{llmwatch_component="http"} 1.0' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: apt-get install -y --no-install-recommends prometheus"
    proc = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN + "x", ""])
def test_api_refuses_a_missing_or_wrong_token(agent, token):
    status, body, headers = agent.get("/api/v1/calls", token=token)
    assert status == 401 and "bearer token" in body["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_list_filters_and_cursor_pagination_visit_every_call_once(agent):
    status, body, _ = agent.get("/api/v1/calls?tag=bulk&limit=5&sort=-duration")
    assert status == 200 and len(body["items"]) == 5
    seen, cursor = [], None
    while True:
        q = "/api/v1/calls?session=s-bulk&limit=5&sort=duration" + (f"&cursor={cursor}" if cursor else "")
        status, body, _ = agent.get(q)
        assert status == 200
        seen += [c["record_id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    bulk = {r.record_id for k, r in agent.recs.items() if k.startswith("bulk")}
    assert len(seen) == len(set(seen)) == 12 and set(seen) == bulk
    _, body, _ = agent.get("/api/v1/calls?status=error")
    assert [c["record_id"] for c in body["items"]] == [agent.recs["error"].record_id]
    _, body, _ = agent.get("/api/v1/calls?text=Lisbon&model=gpt-4o*")
    assert [c["record_id"] for c in body["items"]] == [agent.recs["root"].record_id]
    _, body, _ = agent.get("/api/v1/calls?min_duration=1.0&max_duration=1.05")
    assert [c["record_id"] for c in body["items"]] == [agent.recs["bulk10"].record_id]


def test_one_record_and_unknown_ids(agent):
    rid = agent.recs["root"].record_id
    status, body, _ = agent.get(f"/api/v1/calls/{rid[:10]}")
    assert status == 200 and body["record_id"] == rid and body["trace_id"] == TRACE
    assert {t["record_id"] for t in body["trace"]} == {agent.recs["child"].record_id, agent.recs["grandchild"].record_id}
    assert agent.get("/api/v1/calls/" + "f" * 32)[0] == 404
    status, body, _ = agent.get("/api/v1/calls/not-an-id")
    assert status == 400 and "record id" in body["error"]


def test_trace_tree_nests_children_under_their_parent_span(agent):
    status, body, _ = agent.get(f"/api/v1/traces/{TRACE}")
    assert status == 200 and body["count"] == 3
    (root,) = body["roots"]
    assert root["record_id"] == agent.recs["root"].record_id
    (child,) = root["children"]
    assert child["record_id"] == agent.recs["child"].record_id
    assert [g["record_id"] for g in child["children"]] == [agent.recs["grandchild"].record_id]
    assert agent.get("/api/v1/traces/" + "0" * 32)[0] == 404


def test_stats_and_compare(agent):
    status, body, _ = agent.get("/api/v1/stats?by=model&since=2d")
    assert status == 200 and body["by"] == "model"
    groups = {g["group"]: g for g in body["groups"]}
    assert groups["gpt-4o-mini"]["count"] == 14 and groups["gpt-4o-mini"]["errors"] == 1
    status, body, _ = agent.get(f"/api/v1/compare?record_id={agent.recs['cmp_gpt-4o'].record_id}")
    assert status == 200
    (group,) = body["groups"]
    assert set(group["answers"]) == {"gpt-4o", "gpt-4.1"}


@pytest.mark.parametrize("query, needle", [
    ("/api/v1/calls?limit=0", "limit"),
    ("/api/v1/calls?limit=abc", "limit"),
    ("/api/v1/calls?min_cost=cheap", "min_cost"),
    ("/api/v1/calls?since=last+tuesday", "since"),
    ("/api/v1/calls?sort=-prompt", "sort"),
    ("/api/v1/calls?sort=", "sort"),
    ("/api/v1/calls?cursor=bm9wZQ", "cursor"),
    ("/api/v1/calls?cursor=" + base64.urlsafe_b64encode(b'["-start_time", [1], [2]]').decode(), "cursor"),
    ("/api/v1/calls?colour=red", "unknown parameter"),
    ("/api/v1/calls?status=maybe", "status"),
    ("/api/v1/calls?score=toxicity%3E%3Ehigh", "score"),
    ("/api/v1/calls?model=a&model=b", "once"),
    ("/api/v1/calls?text=%00", "NUL"),
    ("/api/v1/stats?by=colour", "by"),
    ("/api/v1/compare", "compare needs"),
])
def test_bad_parameters_get_400_with_a_message(agent, query, needle):
    status, body, _ = agent.get(query)
    assert status == 400, body
    assert needle.lower() in body["error"].lower()


def test_unknown_route_is_404_and_writes_are_405(agent):
    assert agent.get("/api/v2/calls")[0] == 404
    import urllib.error
    import urllib.request

    req = urllib.request.Request(agent.url + "/api/v1/calls", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 405


def test_retention_deleted_the_old_call(agent):
    wait_until(lambda: "llmwatch_agent_retention_runs_total{error_type=\"\"} 1.0" in agent.get("/metrics")[1],
               "the first retention pass")
    _, body, _ = agent.get("/api/v1/calls?model=gpt-4.1&limit=100")
    assert agent.recs["old"].record_id not in {c["record_id"] for c in body["items"]}
    assert "llmwatch_agent_retention_deleted_total 1.0" in agent.get("/metrics")[1]


# ---------------------------------------------------------------------------------------------
# start-up validation and shutdown
# ---------------------------------------------------------------------------------------------
def run_cli(tmp_path, toml: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    cfg = tmp_path / "agent.toml"
    cfg.write_text(toml)
    return subprocess.run([sys.executable, "-m", "llmwatch.cli", "agent", "--config", str(cfg), "--check"],
                          capture_output=True, text=True, env={**os.environ, "LLMWATCH_AGENT_TOKEN": "", **(env or {})})


def test_refuses_to_start_without_a_token_unless_bound_to_loopback(tmp_path):
    proc = run_cli(tmp_path, 'host = "0.0.0.0"\n')
    assert proc.returncode == 2 and "without a token" in proc.stderr and "loopback" in proc.stderr
    assert run_cli(tmp_path, 'host = "0.0.0.0"\n', {"LLMWATCH_AGENT_TOKEN": "t"}).returncode == 0
    assert run_cli(tmp_path, 'host = "127.0.0.1"\n').returncode == 0


@pytest.mark.parametrize("toml, env, needle", [
    ("port = 70000\n", {}, "'port'"),
    ("colour = 1\n", {}, "unknown option(s) colour"),
    ("retention = \"a while\"\n", {}, "'retention'"),
    ("gpu_source = \"amd\"\n", {}, "'gpu_source'"),
    ("port = [\n", {}, "not valid TOML"),
    ("", {"LLMWATCH_AGENT_PORT": "http"}, "environment variable LLMWATCH_AGENT_PORT"),
    ("store_url = \"mysql://x/y\"\n", {}, "store_url"),
    ("token_file = \"/nonexistent/token\"\n", {}, "token_file"),
])
def test_bad_configuration_fails_at_start_naming_the_key(tmp_path, toml, env, needle):
    proc = run_cli(tmp_path, toml, env)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


def test_sigterm_drains_an_in_flight_request_then_exits_0(tmp_path):
    marker = tmp_path / "scrape-started"
    a = AgentProcess(tmp_path, f"sqlite:///{tmp_path / 'calls.db'}",
                     fake={"gpus": 1, "read_delay": 1.0, "read_marker": str(marker)})
    result = {}
    t = threading.Thread(target=lambda: result.update(r=a.get("/metrics", token=None)))
    t.start()
    wait_until(marker.exists, "the scrape to reach the GPU source")
    rc = a.terminate()  # SIGTERM while the scrape is in flight
    t.join(timeout=60)
    status, text, _ = result["r"]
    # complete: urllib checks Content-Length, and the last family (GPU) is there
    assert status == 200 and "hw_gpu_utilization_ratio" in text and "llmwatch_gpu_available 1.0" in text
    assert rc == 0, a.log()
    assert "SIGTERM received, draining" in a.log() and "stopped" in a.log()


def test_readyz_says_which_scorers_cannot_run_and_why(tmp_path, monkeypatch):
    """Toxicity without weights is reported, not silently skipped; the injection line names its stage."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "empty-data"))  # no fetched Detoxify weights here
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    write(url, [make_record()], tmp_path)
    agent = AgentProcess(tmp_path, url, scorers=["toxicity", "injection"])
    try:
        status, body, _ = agent.get("/readyz", token=None)
        scorers = body["checks"]["scorers"]
        assert status == 200 and scorers.startswith("running")
        assert "toxicity: no weights (run `llmwatch models fetch detoxify original`)" in scorers
        assert "injection: rules" in scorers  # "rules+learned", or "rules only (...)" without the extra
    finally:
        agent.terminate()
