"""Metrics from every pre-forked worker add up: llmwatch under a real gunicorn in multiprocess mode.

The set-up is what a gunicorn user does (``tests/apps/gunicorn_conf.py``, ``tests/apps/wsgi_app.py``):
``PROMETHEUS_MULTIPROC_DIR`` set before gunicorn starts, ``llmwatch.init(prometheus_port=None)``
in each worker (``post_worker_init``) — or once in the master with ``--preload`` — and
``multiprocess.mark_process_dead`` in ``child_exit``. ``/metrics`` is a route of the app itself:
whichever worker answers aggregates every worker's files through
``llmwatch.metrics.server.serving_registry()``, so Prometheus scrapes the app's own port and no
per-worker port (which pre-forked workers could not share) is needed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmwatch.testing.simulator import Simulator

pytest.importorskip("gunicorn", reason="gunicorn is in the test extra: pip install -e '.[test]'")

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent / "apps"
ROOT = APPS.parent.parent
WORKERS = 3
REQUESTS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


class Gunicorn:
    def __init__(self, proc: subprocess.Popen, base_url: str, multiproc_dir: Path) -> None:
        self.proc = proc
        self.base_url = base_url
        self.multiproc_dir = multiproc_dir

    def call(self, i: int) -> dict[str, Any]:
        return json.loads(_get(f"{self.base_url}/call?i={i}"))

    def samples(self) -> list[Any]:
        text = _get(f"{self.base_url}/metrics").decode()
        return [s for fam in text_string_to_metric_families(text) for s in fam.samples]

    def total(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.samples()
                   if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator() as s:
        yield s


def _start(sim: Simulator, tmp_path: Path, preload: bool) -> Gunicorn:
    multiproc_dir = tmp_path / "prom"
    multiproc_dir.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "LLMWATCH_")) and k.lower() != "prometheus_multiproc_dir"}
    env.update(PROMETHEUS_MULTIPROC_DIR=str(multiproc_dir), SIM_BASE_URL=sim.base_url,
               LLMWATCH_INIT_AT_IMPORT="1" if preload else "0",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
           "-c", str(APPS / "gunicorn_conf.py"), "--chdir", str(APPS), "--graceful-timeout", "5",
           *(["--preload"] if preload else []), "wsgi_app:app"]
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Gunicorn(proc, f"http://127.0.0.1:{port}", multiproc_dir)
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{server.base_url}/metrics")
            return server
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(f"gunicorn did not start:\n{(tmp_path / 'gunicorn.log').read_text()[-3000:]}")
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["init_in_each_worker", "init_in_master_with_preload"])
def gunicorn(request: pytest.FixtureRequest, sim: Simulator, tmp_path: Path) -> Iterator[Gunicorn]:
    server = _start(sim, tmp_path, preload=request.param == "init_in_master_with_preload")
    try:
        yield server
    finally:
        _stop(server.proc)


def test_every_worker_call_is_counted_once_and_tokens_add_up(gunicorn: Gunicorn) -> None:
    # 6 at a time against 3 sync workers (each busy ~50 ms per call) spreads calls over the workers.
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(gunicorn.call, range(REQUESTS)))
    pids = {r["pid"] for r in replies}
    assert len(pids) > 1, f"all {REQUESTS} requests were answered by one worker: {pids}"

    input_tokens = sum(r["input"] for r in replies)
    output_tokens = sum(r["output"] for r in replies)
    assert gunicorn.total("gen_ai_client_operation_duration_seconds_count") == REQUESTS
    assert gunicorn.total("gen_ai_client_operation_duration_seconds_count", gen_ai_operation_name="chat",
                          gen_ai_request_model="gpt-4o-mini", gen_ai_response_model="gpt-4o-mini") == REQUESTS
    assert gunicorn.total("gen_ai_client_token_usage_count", gen_ai_token_type="input") == REQUESTS
    assert gunicorn.total("gen_ai_client_token_usage_sum", gen_ai_token_type="input") == input_tokens
    assert gunicorn.total("gen_ai_client_token_usage_sum", gen_ai_token_type="output") == output_tokens
    assert gunicorn.total("llmwatch_records_processed_total") == REQUESTS
    assert gunicorn.total("llmwatch_internal_errors_total") == 0


def test_counts_survive_a_worker_restart(gunicorn: Gunicorn) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(gunicorn.call, range(REQUESTS)))
    victim = replies[0]["pid"]
    assert (gunicorn.multiproc_dir / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGTERM)
    # child_exit -> mark_process_dead removes the dead worker's live-gauge files; counter and
    # histogram files stay, so what it counted is still exported.
    deadline = time.monotonic() + 30
    while any(p.name.endswith(f"_{victim}.db") and p.name.startswith("gauge_live")
              for p in gunicorn.multiproc_dir.iterdir()):
        assert time.monotonic() < deadline, "child_exit did not mark the dead worker's gauges"
        time.sleep(0.1)
    assert gunicorn.total("gen_ai_client_operation_duration_seconds_count") == REQUESTS
    assert gunicorn.total("gen_ai_client_token_usage_sum", gen_ai_token_type="input") == \
        sum(r["input"] for r in replies)
    # The replacement worker is observed too.
    more = [gunicorn.call(REQUESTS + i) for i in range(WORKERS * 2)]
    assert gunicorn.total("gen_ai_client_operation_duration_seconds_count") == REQUESTS + len(more)
