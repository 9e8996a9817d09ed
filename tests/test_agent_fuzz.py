"""Fuzzing the agent's query API with schemathesis, from the OpenAPI document the agent serves.

A real agent subprocess on 127.0.0.1 over a seeded SQLite store, and ``schemathesis run`` (the
CLI, in a subprocess) against its ``/openapi.json`` with the bearer token. Checks: no 5xx, every
status and content type as documented, bodies match the response schemas, and invalid input
(per the spec) is rejected. Phases: examples, coverage (boundary and invalid values) and fuzzing.

Two workarounds, both for the test environment rather than the agent: schemathesis' requests
transport counts pooled connections through ``urllib3`` internals that ``urllib3-future``
(pulled in by grafana-client -> niquests, also in the test extra) replaces, so that count (used
only to resend on a dropped keep-alive connection; the agent closes every connection) is
neutralised; and schemathesis' pytest plugin fails on pytest 9, hence the CLI.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.agent_support import TOKEN, AgentProcess
from tests.test_agent_http import seed

pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")

RUN_ST = ("import sys; import schemathesis.transport.requests as r; r._count_opened_connections = lambda s: 0; "
          "from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; sys.exit(schemathesis())")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "negative_data_rejection")


def test_schemathesis_finds_no_server_errors_and_no_undocumented_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    seed(url, tmp_path)
    agent = AgentProcess(tmp_path, url)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", RUN_ST, "run", f"{agent.url}/openapi.json", "-H", f"Authorization: Bearer {TOKEN}",
             "--checks", CHECKS, "--phases", "examples,coverage,fuzzing", "--max-examples", "50", "--seed", "1",
             "--workers", "2", "--no-color"],
            capture_output=True, text=True, timeout=540)
    finally:
        assert agent.terminate() == 0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Tested: 9" in out or "9 passed" in out, out[-3000:]
