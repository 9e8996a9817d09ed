"""The prompt log under real gunicorn workers: each worker's writer and spool, every call stored once.

Three sync workers (``tests/apps/store_gunicorn_conf.py``: ``llmwatch.init(store=True)`` in
``post_worker_init``, ``llmwatch.shutdown()`` in ``worker_exit``) write to one SQLite file and
share one spool directory. While the test holds an exclusive lock on the database, each worker
that serves a call fails to write and spools to its own segment (``seg-<ns>-<pid>.jsonl``); once
the lock is released and the workers stop, every call is in the database exactly once and the
spool is empty. (tests/test_multiprocess.py covers the metrics totals.)
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llmwatch.store import db
from llmwatch.testing.simulator import Simulator
from tests.agent_support import wait_until
from tests.test_multiprocess import APPS, ROOT, _free_port, _get, _stop

pytest.importorskip("gunicorn", reason="gunicorn is in the test extra: pip install -e '.[test]'")
pytestmark = pytest.mark.slow

WORKERS = 3


def _calls(base_url: str, ids: range) -> list[dict]:
    import json

    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda i: json.loads(_get(f"{base_url}/call?i={i}")), ids))


def _segment_pids(spool: Path) -> set[int]:
    return {int(m.group(1)) for p in spool.glob("seg-*.jsonl") if (m := re.search(r"-(\d+)\.jsonl$", p.name))}


def test_each_worker_writes_and_spools_its_own_calls_and_every_call_is_stored_once(tmp_path):
    store = tmp_path / "calls.db"
    url = f"sqlite:///{store}"
    spool = tmp_path / "spool"
    db.open_engine(url)  # schema first, so the test's lock below has a database to lock
    db.close_engine(url)
    port = _free_port()
    with Simulator() as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMWATCH_", "PROMETHEUS_"))}
        env.update(SIM_BASE_URL=sim.base_url, LLMWATCH_STORE_URL=url, LLMWATCH_STORE_SPOOL_DIR=str(spool),
                   PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        log = open(tmp_path / "gunicorn.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
             "-c", str(APPS / "store_gunicorn_conf.py"), "--chdir", str(APPS), "--graceful-timeout", "20",
             "wsgi_app:app"], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ok(base), "gunicorn to serve", limit=60)
            first = _calls(base, range(0, 30))

            lock = sqlite3.connect(store, timeout=30, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")  # every worker's next write fails -> its spool
            try:
                during = _calls(base, range(30, 60))
                pids_during = {r["pid"] for r in during}
                wait_until(lambda: _segment_pids(spool) >= pids_during, "each serving worker to spool", limit=120)
                assert _segment_pids(spool) <= {r["pid"] for r in first + during}
            finally:
                lock.execute("ROLLBACK")
                lock.close()

            after = _calls(base, range(60, 75))
        finally:
            _stop(proc)  # SIGTERM: worker_exit -> llmwatch.shutdown() -> replay and flush
            log.close()
    assert proc.returncode == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]
    assert len({r["pid"] for r in first + during + after}) > 1
    con = sqlite3.connect(store)
    rows = con.execute("SELECT input_messages FROM llmwatch_calls").fetchall()
    markers = [m.group(1) for (text,) in rows if (m := re.search(r"request (\d+):", text or ""))]
    assert len(rows) == 75 and sorted(map(int, markers)) == list(range(75)), "every call stored exactly once"
    assert not list(spool.glob("seg-*.jsonl")), "the spool was replayed and emptied"


def _ok(base: str) -> bool:
    try:
        _get(f"{base}/nothing")
    except OSError as exc:
        return getattr(exc, "code", None) == 404
    return True
