"""The OTLP path against a real backend: llmwatch spans exported over OTLP/HTTP land in Arize Phoenix.

Phoenix (``pip install -e ".[otlp-test]"``) is started on 127.0.0.1 with its own working dir; it
accepts OTLP/HTTP at ``/v1/traces`` and serves what it stored at ``/v1/projects/default/spans``.
The app runs in a subprocess (``tests/apps/otlp_app.py``) so the global OTel providers start fresh.
The app is pointed at Phoenix with ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (the full ``/v1/traces``
URL): Phoenix takes traces only, and the generic ``OTEL_EXPORTER_OTLP_ENDPOINT`` would also make
llmwatch push metrics to ``/v1/metrics``, which Phoenix answers with 405.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

# find_spec, not importorskip: importing Phoenix's server costs seconds; only its subprocess needs it.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("phoenix") is None,
                       reason="Arize Phoenix not installed: pip install -e '.[otlp-test]'"),
]

APPS = Path(__file__).resolve().parent / "apps"
ROOT = APPS.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


class Phoenix:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def spans(self, trace_id: str, expected: int, deadline_s: float = 30.0) -> list[dict[str, Any]]:
        """Spans of one trace, waiting (with a deadline) until ``expected`` of them were ingested."""
        deadline = time.monotonic() + deadline_s
        while True:
            data = _get(f"{self.base_url}/v1/projects/default/spans?limit=1000")["data"]
            found = [s for s in data if s["context"]["trace_id"] == trace_id]
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    workdir = tmp_path_factory.mktemp("phoenix")
    port = _free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": str(workdir), "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_PORT": str(port), "PHOENIX_GRPC_PORT": "0"}
    log = open(workdir / "phoenix.log", "wb")
    proc = subprocess.Popen([sys.executable, str(APPS / "phoenix_server.py")], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"phoenix did not start:\n{(workdir / 'phoenix.log').read_text()[-3000:]}")
            time.sleep(0.25)
        yield Phoenix(base_url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _run_app(phoenix: Phoenix, mode: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMWATCH_"))}
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = f"{phoenix.base_url}/v1/traces"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, str(APPS / "otlp_app.py"), mode], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _by_shape(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The app's five spans keyed by what they are."""
    out: dict[str, dict[str, Any]] = {}
    for s in spans:
        a = s["attributes"]
        if s["name"] == "handle-request":
            out["parent"] = s
        elif a.get("error.type"):
            out["error"] = s
        elif a.get("gen_ai.request.stream"):
            out["stream"] = s
        elif a.get("gen_ai.operation.name") == "embeddings":
            out["embeddings"] = s
        else:
            out["chat"] = s
    return out


def _assert_spans_match_the_calls(phoenix: Phoenix, report: dict[str, Any]) -> None:
    spans = phoenix.spans(report["trace_id"], expected=5)
    shapes = _by_shape(spans)
    assert sorted(shapes) == ["chat", "embeddings", "error", "parent", "stream"], [s["name"] for s in spans]
    parent = shapes.pop("parent")
    assert parent["context"]["span_id"] == report["parent_span_id"] and parent["parent_id"] is None
    for s in shapes.values():
        assert s["context"]["trace_id"] == report["trace_id"]
        assert s["parent_id"] == report["parent_span_id"]
        assert s["attributes"]["gen_ai.provider.name"] == "openai"
        assert s["attributes"]["server.address"] == "127.0.0.1"

    chat, stream, emb, err = shapes["chat"], shapes["stream"], shapes["embeddings"], shapes["error"]
    for s in (chat, stream, err):
        assert s["name"] == "chat gpt-4o-mini"
        assert s["attributes"]["gen_ai.operation.name"] == "chat"
        assert s["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"

    a = chat["attributes"]
    assert chat["status_code"] == "UNSET"
    assert a["gen_ai.usage.input_tokens"] == report["chat"]["input"]
    assert a["gen_ai.usage.output_tokens"] == report["chat"]["output"]
    assert a["gen_ai.response.id"] == report["chat"]["id"]
    assert a["gen_ai.response.model"] == report["chat"]["response_model"]
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert "error.type" not in a

    a = stream["attributes"]
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.input_tokens"] == report["stream"]["input"]
    assert a["gen_ai.usage.output_tokens"] == report["stream"]["output"]
    assert a["llmwatch.stream.chunk_count"] == report["stream"]["events"]
    assert a["gen_ai.response.time_to_first_chunk"] > 0

    a = emb["attributes"]
    assert emb["name"] == "embeddings text-embedding-3-small"
    assert a["gen_ai.usage.input_tokens"] == report["embeddings"]["input"]
    assert a["gen_ai.embeddings.dimension.count"] == report["embeddings"]["dimensions"]

    assert report["error"] == "InternalServerError"
    assert err["status_code"] == "ERROR"
    assert err["attributes"]["error.type"] == "InternalServerError"
    assert "gen_ai.usage.input_tokens" not in err["attributes"]
    assert [e["name"] for e in err["events"]] == ["exception"]
    assert err["events"][0]["attributes"]["exception.type"] == "openai.InternalServerError"


def test_spans_reach_phoenix_over_otlp_when_the_app_configured_nothing(phoenix: Phoenix) -> None:
    report = _run_app(phoenix, "fresh")
    # llmwatch built an OTLP provider from the environment and made it the global one.
    assert report["global_provider_type"] == "TracerProvider"
    assert report["llmwatch_uses_global"] and report["global_unchanged_after_shutdown"]
    _assert_spans_match_the_calls(phoenix, report)


def test_app_tracer_provider_is_used_and_never_replaced(phoenix: Phoenix) -> None:
    report = _run_app(phoenix, "app-provider")
    assert report["global_is_app_provider"], "llmwatch.init() replaced the app's global TracerProvider"
    assert report["llmwatch_uses_global"], "llmwatch did not use the app's TracerProvider"
    assert report["global_unchanged_after_shutdown"]
    _assert_spans_match_the_calls(phoenix, report)
