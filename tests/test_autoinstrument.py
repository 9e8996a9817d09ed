"""``opentelemetry-instrument python app.py`` picks llmwatch up through its entry point.

A real subprocess under the real ``opentelemetry-instrument`` launcher and OTel distro, exporting
spans with the SDK's console exporter (``OTEL_TRACES_EXPORTER=console``), against the simulator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.instrumentation")
pytest.importorskip("opentelemetry.distro")

pytestmark = pytest.mark.openai2

APP = Path(__file__).parent / "apps" / "autoinstrument_app.py"
# openinference-instrumentation-openai (installed with the otlp-test extra) registers as "openai";
# keep it off so the tree asserted here is llmwatch's alone.
OTHERS = "openai"


def run_app(sim, tmp_path, **env_extra):
    launcher = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert launcher, "opentelemetry-instrument is not installed next to this python"
    env = {**os.environ, "SIM_BASE_URL": sim.base_url, "OTEL_TRACES_EXPORTER": "console",
           "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none", "OTEL_SERVICE_NAME": "auto-app",
           "LLMWATCH_STORE": "false", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": OTHERS,
           "PYTHONPATH": str(Path(__file__).parent.parent), **env_extra}
    proc = subprocess.run([launcher, sys.executable, str(APP)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    app, spans = None, []
    decoder = json.JSONDecoder()
    text = proc.stdout
    i = 0
    while i < len(text):
        if text.startswith("APP ", i):
            end = text.index("\n", i)
            app = json.loads(text[i + 4:end])
            i = end + 1
        elif text[i] == "{":
            obj, i = decoder.raw_decode(text, i)
            spans.append(obj)
        else:
            i += 1
    return app, spans


def test_opentelemetry_instrument_starts_llmwatch_with_the_distros_provider(sim, tmp_path):
    app, spans = run_app(sim, tmp_path)
    assert app == {"initialized": True, "same_tracer_provider": True}  # the distro's provider, not replaced
    by_name = {s["name"]: s for s in spans}
    wf, tl, chat = by_name["invoke_workflow answer"], by_name["execute_tool lookup"], by_name["chat gpt-4o-mini"]
    assert wf["parent_id"] is None
    assert tl["parent_id"] == wf["context"]["span_id"]
    assert chat["parent_id"] == tl["context"]["span_id"]
    assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert wf["attributes"]["llmwatch.rollup.calls"] == 1
    assert chat["resource"]["attributes"]["service.name"] == "auto-app"


def test_disabled_instrumentations_leaves_llmwatch_off(sim, tmp_path):
    app, spans = run_app(sim, tmp_path, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=f"llmwatch,{OTHERS}")
    assert app["initialized"] is False
    assert not spans
