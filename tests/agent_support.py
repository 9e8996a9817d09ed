"""Running the real agent (``llmwatch agent``) as a subprocess on 127.0.0.1 for the tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TOKEN = "test-token-0123456789"


class AgentProcess:
    def __init__(self, tmp: Path, store_url: str, token: str | None = TOKEN, fake: dict | None = None,
                 **options: Any) -> None:
        fake_file = tmp / "fake-gpu.json"
        fake_file.write_text(json.dumps(fake or {"gpus": 1}))
        lines = [f'port = 0', f'store_url = "{store_url}"', f'gpu_source = "fake:{fake_file}"']
        lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
        self.config = tmp / "agent.toml"
        self.config.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "LLMWATCH_AGENT_TOKEN": token or ""}
        self.stderr_path = tmp / "agent.stderr"
        self.stderr = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "llmwatch.cli", "agent", "--config", str(self.config)],
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env, text=True)
        line = self.proc.stdout.readline()  # blocks until the agent is listening (or exits)
        if "listening on" not in line:
            self.proc.wait(timeout=30)
            self.stderr.seek(0)
            raise RuntimeError(f"agent did not start: {line!r}\n{self.stderr.read()}")
        self.url = line.strip().rsplit(" ", 1)[1]
        self.token = token

    def get(self, path: str, token: str | None | bool = True) -> tuple[int, Any, dict]:
        """(status, parsed body, headers); token=True uses the agent's token, a string another one."""
        req = urllib.request.Request(self.url + path)
        tok = self.token if token is True else token
        if tok:
            req.add_header("Authorization", f"Bearer {tok}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, body, headers = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            status, body, headers = exc.code, exc.read(), dict(exc.headers)
        ctype = headers.get("Content-Type", "")
        return status, json.loads(body) if ctype.startswith("application/json") else body.decode(), headers

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.stderr.close()
        return rc

    def log(self) -> str:
        return self.stderr_path.read_text()


def wait_until(predicate, what: str, limit: float = 30.0) -> None:
    """Poll ``predicate`` (no timing assertion: the limit only stops a hung test)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
