"""The README's first command: `llmwatch demo` runs end to end and shows what it captured."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys


def test_demo_runs_against_the_simulator_and_shows_spans_metrics_and_stored_calls(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OTEL_", "LLMWATCH_"))}
    out = subprocess.run([sys.executable, "-m", "llmwatch.cli", "demo", "--calls", "9", "--port", "0",
                          "--store", f"sqlite:///{tmp_path}/demo.db"],
                         capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    calls = int(re.search(r"calls made by the app\s+(\d+)", text).group(1))
    spans = int(re.search(r"LLM call spans\s+(\d+)", text).group(1))
    # 9 workload calls + 8 showcase calls, and the mixed workload: two Anthropic calls and one
    # (unpriced, local) Ollama call when those SDKs are installed, as the demo's extras install them.
    claude, local = (importlib.util.find_spec(m) is not None for m in ("anthropic", "ollama"))
    assert calls == spans == 9 + 8 + 2 * claude + local, "one span per call the app made"
    assert ("anthropic: chat claude-haiku-4-5" in text) == claude and ("ollama: chat llama3.2" in text) == local
    assert "gen_ai_client_operation_duration_seconds_count{" in text
    assert f"calls with unknown price: {1 + local}" in text
    assert "llmwatch logs --url" in text and "Ignore all previous instructions" in text
    assert "jane.doe@example.com" not in text, "PII is redacted before it is stored or shown"


def test_demo_rejects_bad_arguments_with_exit_code_2():
    out = subprocess.run([sys.executable, "-m", "llmwatch.cli", "demo", "--calls", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--calls must be an integer from 1 to 1000" in out.stderr
