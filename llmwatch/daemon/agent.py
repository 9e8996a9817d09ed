"""The agent process: HTTP server, GPU collector, scorer workers and retention, stopped gracefully.

    agent = Agent(AgentConfig.load("agent.toml"))
    agent.start()            # binds, starts the workers
    agent.run_until_signal() # SIGTERM/SIGINT -> stop(): drain, then return

Shutdown order (``stop()``): stop accepting HTTP requests and wait for those in flight; signal
the scorer workers and retention loop and join them (each finishes the item it holds: the
scorers' contract is to score-and-commit or leave an item unclaimed, so nothing is lost);
close the GPU source and the store engine.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from typing import Any

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector

from llmwatch import names as n
from llmwatch.daemon.config import AgentConfig
from llmwatch.metrics.instruments import prometheus_metric

logger = logging.getLogger("llmwatch.agent")


class Health:
    """The agent's own metrics (``llmwatch.agent.*``) on its registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = prometheus_metric(n.AGENT_HTTP_REQUESTS, registry)
        self.deleted = prometheus_metric(n.AGENT_RETENTION_DELETED, registry)
        self.runs = prometheus_metric(n.AGENT_RETENTION_RUNS, registry)
        self.up = prometheus_metric(n.AGENT_COMPONENT_UP, registry)

    def request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def component(self, name: str, up: bool) -> None:
        self.up.labels(name).set(1 if up else 0)


class Agent:
    def __init__(self, config: AgentConfig, gpu_source: Any = None) -> None:
        from llmwatch.store.db import resolve_url

        self.config = config
        self.store_url = resolve_url(config.store_url)
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.health = Health(self.registry)
        self.stop_event = threading.Event()
        self.gpu: Any = None
        self._gpu_source = gpu_source
        self._server: Any = None
        self._threads: list[threading.Thread] = []
        self.scorers_state = "disabled (scoring = false)"
        self.retention_state = "disabled (no retention set)"
        self._store_error: str | None = None

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        from llmwatch.daemon.server import serve

        if self.config.gpu:
            from llmwatch.gpu.collector import GpuCollector
            from llmwatch.gpu.source import open_source

            self.gpu = GpuCollector(self._gpu_source or open_source(self.config.gpu_source))
            self.gpu.open()
            self.registry.register(self.gpu)
            self.health.component("gpu", self.gpu.available)
        self._open_store()
        self._server, thread = serve(self, self.config.host, self.config.port)
        self.health.component("http", True)
        self._threads.append(thread)
        if self.config.retention is not None:
            self.retention_state = f"every {self.config.retention_interval:g}s, keep {self.config.retention:g}s"
            self._spawn("retention", self._retention_loop)
        if self.config.scoring:
            self._start_scorers()
        logger.info("llmwatch agent: serving on http://%s:%s (store %s)", self.config.host, self.port,
                    _redact(self.store_url))

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.config.port

    def _spawn(self, name: str, target: Any) -> None:
        def run() -> None:
            self.health.component(name, True)
            try:
                target()
            except Exception:  # noqa: BLE001
                logger.exception("llmwatch agent: %s stopped with an error", name)
            finally:
                self.health.component(name, False)

        t = threading.Thread(target=run, name=f"llmwatch-agent-{name}", daemon=True)
        t.start()
        self._threads.append(t)

    def _open_store(self) -> bool:
        from llmwatch.store.db import open_engine

        try:
            open_engine(self.store_url)
            self._store_error = None
            return True
        except Exception as exc:  # noqa: BLE001 - reported by /readyz, retried there
            self._store_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            logger.warning("llmwatch agent: store not ready: %s", self._store_error)
            return False

    def _start_scorers(self) -> None:
        # The scorer workers live in llmwatch.scoring (quality & safety); the agent only hosts them.
        try:
            module = importlib.import_module("llmwatch.scoring.agent")
            run_workers = module.run_workers
        except (ImportError, AttributeError) as exc:
            self.scorers_state = f"not running: llmwatch.scoring.agent.run_workers unavailable ({exc})"
            logger.info("llmwatch agent: %s", self.scorers_state)
            return
        from llmwatch.scoring import build_scorer
        from llmwatch.scoring.base import describe

        try:
            scorers = [build_scorer(name, None) for name in self.config.scorers]
        except Exception as exc:  # noqa: BLE001 - reported by /readyz
            self.scorers_state = f"not running: {type(exc).__name__}: {exc}"
            logger.warning("llmwatch agent: %s", self.scorers_state)
            return
        lines = [describe(s) for s in scorers]
        runnable = [s for s, (ok, _) in zip(scorers, lines) if ok]
        for ok, line in lines:
            if not ok:
                logger.warning("llmwatch agent: scorer off: %s", line)
        self.scorers_state = "running" + (f" ({'; '.join(line for _, line in lines)})" if lines else "")
        self._spawn("scorers", lambda: run_workers(self.store_url, runnable, self.stop_event))

    # ------------------------------------------------------------------ work
    def _retention_loop(self) -> None:
        while not self.stop_event.is_set():
            self.retention_once()
            self.stop_event.wait(self.config.retention_interval)

    def retention_once(self) -> int:
        from llmwatch.store.db import open_engine
        from llmwatch.store.maintenance import prune

        retention = self.config.retention
        if retention is None:  # the loop only runs with a retention set
            return 0
        try:
            deleted = prune(open_engine(self.store_url), older_than=retention)
        except Exception as exc:  # noqa: BLE001 - next pass retries
            self.health.runs.labels(type(exc).__name__).inc()
            logger.warning("llmwatch agent: retention pass failed: %s", exc)
            return 0
        self.health.runs.labels("").inc()
        self.health.deleted.inc(deleted)
        if deleted:
            logger.info("llmwatch agent: retention deleted %d call(s)", deleted)
        return deleted

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready when the store answers; the detail names every component's state."""
        import sqlalchemy as sa

        from llmwatch.store.db import open_engine

        store = "ok"
        if self._store_error is not None and not self._open_store():
            store = f"error: {self._store_error}"
        else:
            try:
                with open_engine(self.store_url).connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001
                store = f"error: {type(exc).__name__}"
        gpu = "disabled"
        if self.gpu is not None:
            gpu = f"available: {self.gpu.reason}" if self.gpu.available else f"unavailable: {self.gpu.reason}"
        detail = {"checks": {"store": store, "gpu": gpu, "scorers": self.scorers_state,
                             "retention": self.retention_state, "similarity": self._similarity(store == "ok")},
                  "stopping": self.stop_event.is_set()}
        return store == "ok" and not self.stop_event.is_set(), detail

    def _similarity(self, store_ok: bool) -> str:
        """The nearest-neighbour path ``similar`` uses here ("usearch hnsw (N vectors)", "exact scan (N vectors)")."""
        if not store_ok:
            return "unknown (store not ready)"
        try:
            from llmwatch.store.similar import describe

            return describe(self.store_url)
        except Exception as exc:  # noqa: BLE001 - a status line, never a failed probe
            return f"unknown ({type(exc).__name__})"

    # ------------------------------------------------------------------ stop
    def stop(self) -> bool:
        """Drain and stop; True when every worker finished within ``drain_timeout``."""
        self.stop_event.set()
        deadline = time.monotonic() + self.config.drain_timeout
        if self._server is not None:
            self._server.shutdown()  # no new requests
            self._server.server_close()  # joins in-flight request threads
            self.health.component("http", False)
        clean = True
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                clean = False
                logger.warning("llmwatch agent: %s did not finish within drain_timeout", t.name)
        if self.gpu is not None:
            self.gpu.close()
        from llmwatch.store.db import close_engine

        close_engine(self.store_url)
        return clean

    def run_until_signal(self) -> int:
        """Block until SIGTERM/SIGINT, then :meth:`stop`; exit code 0 on a clean drain."""
        got = threading.Event()

        def handler(signum: int, _frame: Any) -> None:
            logger.info("llmwatch agent: %s received, draining", signal.Signals(signum).name)
            got.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        while not got.wait(1.0):
            pass
        clean = self.stop()
        logger.info("llmwatch agent: stopped%s", "" if clean else " (some work did not drain in time)")
        return 0 if clean else 1


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<store>"
