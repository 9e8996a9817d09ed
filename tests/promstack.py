"""Real Prometheus and Alertmanager binaries (Debian packages) for tests: loopback only, temporary
storage, always stopped. Also the instrumented demo application the tests scrape."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} not installed (apt-get install prometheus prometheus-alertmanager)")
    return path


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
        return r.read()


class _Process:
    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=self._fh, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._fh.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


class Prometheus(_Process):
    def __init__(self, workdir: Path, scrape_configs: list[dict], rule_files: list[str] = (),
                 alertmanager: str | None = None, interval: str = "1s") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg: dict[str, Any] = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": list(rule_files),
            "scrape_configs": scrape_configs,
        }
        if alertmanager:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(cfg))
        super().__init__([
            need("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}",
            "--rules.alert.resend-delay=1s", "--log.level=warn",
        ], workdir / "prometheus.log")
        wait_for(lambda: http_get(self.url + "/-/ready"), 30, f"Prometheus ready\n{self.tail()}")

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr}
        if at is not None:
            params["time"] = str(at)
        body = json.loads(http_get(f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"))
        assert body["status"] == "success", body
        return body["data"]["result"]

    def label_values(self, label: str, match: str) -> list[str]:
        q = urllib.parse.urlencode({"match[]": match})
        return json.loads(http_get(f"{self.url}/api/v1/label/{label}/values?{q}"))["data"]


def has_finite_value(result: list[dict]) -> bool:
    for series in result:
        value = series.get("value", [0, "NaN"])[1]
        if not math.isnan(float(value)):
            return True
    return False


class Alertmanager(_Process):
    def __init__(self, workdir: Path, config: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
        super().__init__([
            need("prometheus-alertmanager"), f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'am-data'}", f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=", "--log.level=warn",
        ], workdir / "alertmanager.log")
        wait_for(lambda: http_get(self.url + "/-/ready"), 30, f"Alertmanager ready\n{self.tail()}")


class LLMApp(_Process):
    """tests/llm_app.py in its own process: llmwatch + the real openai client + the simulator."""

    def __init__(self, workdir: Path, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.mode_file = workdir / f"{name}.mode"
        self.mode_file.write_text("ok")
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        super().__init__([sys.executable, str(ROOT / "tests" / "llm_app.py"), "--port", str(self.port),
                          "--mode-file", str(self.mode_file), *args], workdir / f"{name}.log", env=full_env)
        self.target = f"127.0.0.1:{self.port}"
        wait_for(lambda: b"gen_ai_client_operation_duration_seconds_count" in http_get(f"http://{self.target}/metrics"),
                 60, f"{name} serving LLM metrics\n{self.tail()}")

    def set_mode(self, mode: str) -> None:
        self.mode_file.write_text(mode)


def tempdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


class Agent(_Process):
    """``llmwatch agent`` on a fake GPU source (these machines have no GPU; see llmwatch/gpu/fake.py)."""

    def __init__(self, workdir: Path, fake_gpus: dict) -> None:
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        fake = workdir / "fake-gpus.json"
        fake.write_text(json.dumps(fake_gpus))
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LLMWATCH_AGENT_HOST": "127.0.0.1",
               "LLMWATCH_AGENT_PORT": str(self.port), "LLMWATCH_AGENT_GPU_SOURCE": f"fake:{fake}",
               "LLMWATCH_AGENT_SCORING": "false"}
        super().__init__([sys.executable, "-m", "llmwatch.cli", "agent", "--log-level=WARNING"],
                         workdir / "agent.log", env=env)
        wait_for(lambda: b"hw_gpu_utilization_ratio" in http_get(f"http://{self.target}/metrics"),
                 60, f"the agent serving GPU metrics\n{self.tail()}")
