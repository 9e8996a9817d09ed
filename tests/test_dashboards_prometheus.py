"""Every dashboard panel's PromQL runs against a real Prometheus that scraped a real workload and
returns data, scraped every second by the Debian Prometheus:

- tests/llm_app.py (llmwatch.init + the real openai client + the simulator) in two processes: one
  with a healthy SQLite prompt log, redaction on, the embedded toxicity (the real Detoxify class on a
  tiny checkpoint built offline)/moderation/injection/PII/validation scorers, user feedback on its
  calls and a deliberately broken extra sink; one whose PostgreSQL is unreachable, with a tiny spool;
- ``llmwatch agent`` on the fake GPU source (no GPU on these machines): two GPUs, one process,
  thermal and power-cap throttling.

A panel on a metric this workload cannot produce here (toxicity without the ``toxicity`` extra) is
executed too, and skipped with the reason (``NOT_PRODUCED``) when it returns nothing.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.promql import metric_names  # noqa: E402
from dashboards import generate  # noqa: E402
from dashboards.src.build import variable_queries  # noqa: E402
from llmwatch import names  # noqa: E402
from tests.promstack import Agent, LLMApp, Prometheus, has_finite_value, need, tempdir, wait_for  # noqa: E402
from tests.scoring_support import build_tiny_detoxify  # noqa: E402

pytestmark = pytest.mark.slow

VARS = {"job": "llmwatch-app", "environment": "test", "provider": "openai", "model": ".*", "gpu": ".*"}
JOB = {"llmwatch-gpu": "llmwatch-agent"}  # the GPU dashboard looks at the agent's job
# Grafana's $__rate_interval is max(4 x scrape interval, step + scrape interval): 1s scrapes here.
MACROS = {"$__rate_interval": "10s", "$__range": "1m"}

TOXICITY = importlib.util.find_spec("detoxify") is not None
# Metrics this workload cannot produce, and why (a panel on them is skipped, not passed, when empty).
NOT_PRODUCED = {} if TOXICITY else {
    names.TOXICITY_SCORE.prom_name: "the toxicity scorer needs detoxify and torch (the toxicity extra), not installed",
}

GPUS = {"gpus": 2, "utilization": 0.8, "memory_used": 60_000_000_000, "temperature": 83.0,
        "throttle": {"idle": False, "sw_power_cap": True, "hw_slowdown": False, "sync_boost": False,
                     "sw_thermal": False, "hw_thermal": True, "hw_power_brake": False},
        "processes": [{"pid": 4242, "name": "vllm", "memory_bytes": 50_000_000_000}]}


def expand(expr: str, uid: str = "", **overrides: str) -> str:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    values = {**VARS, "job": JOB.get(uid, VARS["job"]), **overrides}
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], expr)


@pytest.fixture(scope="module")
def prom():
    need("prometheus")
    work = tempdir("llmwatch-dash-")
    apps: list[LLMApp] = []
    server = None
    try:
        env = {"LLMWATCH_REDACT": "true"}
        if TOXICITY:
            env.update(LLMWATCH_TOXICITY_CHECKPOINT=str(build_tiny_detoxify(work / "detoxify")),
                       LLMWATCH_TOXICITY_DEVICE="cpu", HF_HUB_OFFLINE="1")
        scorers = ("toxicity," if TOXICITY else "") + "moderation,injection,pii,validation"
        apps.append(LLMApp(work, "healthy", "--broken-sink", "--error-trickle", "--feedback",
                           "--scorers", scorers, env=env))
        apps.append(LLMApp(work, "db-down", "--store-url", "postgresql+psycopg://llmwatch@127.0.0.1:1/llmwatch",
                           env={"LLMWATCH_STORE_SPOOL_MAX_BYTES": "4096"}))
        agent = Agent(work, GPUS)
        apps.append(agent)
        server = Prometheus(work, [
            {"job_name": "llmwatch-app",
             "static_configs": [{"targets": [a.target for a in apps[:2]], "labels": {"environment": "test"}}]},
            {"job_name": "llmwatch-agent",
             "static_configs": [{"targets": [agent.target], "labels": {"environment": "test"}}]},
        ])
        wait_for(lambda: server.query('min(count_over_time(up[1m])) >= 12 and count(up) == 3'), 60,
                 "a dozen scrapes of both apps and the agent")
        yield server
    finally:
        if server is not None:
            server.stop()
        for app in apps:
            app.stop()


def _prometheus_panels():
    for spec in generate.DASHBOARDS:
        if spec.datasource != "prometheus":
            continue
        for panel in spec.panels:
            yield pytest.param(spec, panel, id=f"{spec.uid}:{panel.title}")


def _not_produced(expr: str) -> str | None:
    for metric in metric_names(expr):
        base = re.sub(r"_(bucket|sum|count)$", "", metric)
        if base in NOT_PRODUCED:
            return f"{base}: {NOT_PRODUCED[base]}"
    return None


@pytest.mark.parametrize(("spec", "panel"), list(_prometheus_panels()))
def test_panel_query_returns_data_from_real_prometheus(prom, spec, panel):
    for query in panel.queries:
        expr = expand(query.expr, spec.uid)
        reason = _not_produced(query.expr)
        if reason and not prom.query(expr):
            pytest.skip(reason)
        wait_for(lambda: has_finite_value(prom.query(expr)), 30, f"data for {panel.title!r}: {expr}")


def _provider_panels():
    for spec, panel in (p.values for p in _prometheus_panels()):
        if any("$provider" in q.expr or "${provider}" in q.expr for q in panel.queries):
            yield pytest.param(spec, panel, id=f"{spec.uid}:{panel.title}")


@pytest.mark.skipif(importlib.util.find_spec("anthropic") is None, reason="needs the anthropic SDK (test extra)")
@pytest.mark.parametrize(("spec", "panel"), list(_provider_panels()))
def test_a_panel_filtered_to_the_second_provider_shows_that_providers_data(prom, spec, panel):
    """The apps also call Anthropic: every panel with a provider filter reads right for it too."""
    for query in panel.queries:
        expr = expand(query.expr, spec.uid, provider="anthropic")
        reason = _not_produced(query.expr)
        if reason and not prom.query(expr):
            pytest.skip(reason)
        wait_for(lambda: has_finite_value(prom.query(expr)), 30, f"anthropic data for {panel.title!r}: {expr}")


@pytest.mark.parametrize("uid", ["llmwatch-overview", "llmwatch-tokens-cost", "llmwatch-health"])
def test_template_variables_list_the_real_label_values(prom, uid):
    spec = next(s for s in generate.DASHBOARDS if s.uid == uid)
    expected = {"job": "llmwatch-app", "environment": "test", "provider": "openai", "model": "gpt-4o-mini"}
    for name, query in variable_queries(spec).items():
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", query)
        match, label = m.group(1), m.group(2)
        match = expand(match)
        values = prom.label_values(label, match if "{" in match else match + "{}")
        assert expected[name] in values, f"{uid} variable {name}: {values}"
        if name == "provider" and importlib.util.find_spec("anthropic") is not None:
            assert "anthropic" in values, f"{uid} variable provider: {values}"
