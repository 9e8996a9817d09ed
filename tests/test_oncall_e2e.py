"""The on-call path end to end, with real binaries:

simulator with injected errors and latency -> llmwatch /metrics -> Prometheus (Debian package,
loopback) -> LLMWatchErrorRateHigh fires -> Alertmanager (the shipped routing config) -> this
test's webhook receiver gets it with its labels, annotations and runbook link -> the errors stop
-> the resolve notification arrives.

The rules are the committed generator's output with test-speed settings (a 10 s error window, no
``for``); the Alertmanager config is exporters/alertmanager/alertmanager.yml with the webhook URL
pointed here, 1 s grouping, and the PagerDuty/Slack/e-mail endpoints pointed at a closed
loopback port so nothing leaves the machine.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import generate as alerts_generate  # noqa: E402
from alerts.config import AlertConfig  # noqa: E402
from tests.promstack import Alertmanager, LLMApp, Prometheus, free_port, need, tempdir, wait_for  # noqa: E402

pytestmark = pytest.mark.slow
ALERT = "LLMWatchErrorRateHigh"


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()


def _alertmanager_config(webhook_url: str, workdir: Path) -> dict:
    """The shipped config, made local and fast (see the module docstring)."""
    src = ROOT / "exporters" / "alertmanager"
    shutil.copytree(src / "templates", workdir / "templates")
    cfg = yaml.safe_load((src / "alertmanager.yml").read_text())
    dead = f"http://127.0.0.1:{free_port()}/"
    cfg["global"] = {"resolve_timeout": "5m", "smtp_smarthost": "127.0.0.1:1", "smtp_from": "am@localhost",
                     "smtp_require_tls": False}
    cfg["templates"] = [str(workdir / "templates" / "*.tmpl")]
    for route in [cfg["route"], *cfg["route"]["routes"]]:
        route.update({"group_wait": "1s", "group_interval": "1s"})
    for receiver in cfg["receivers"]:
        for pd in receiver.get("pagerduty_configs", []):
            pd.pop("routing_key_file")
            pd.update(routing_key="test", url=dead)
        for slack in receiver.get("slack_configs", []):
            slack["api_url"] = dead
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook_url
    return cfg


def test_injected_errors_page_through_prometheus_and_alertmanager_then_resolve():
    need("prometheus")
    need("prometheus-alertmanager")
    work = tempdir("llmwatch-oncall-")
    _Webhook.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    cfg = AlertConfig().with_settings({"error_window": "10s", f"for.{ALERT}": "0s"})
    rules = alerts_generate.write(work / "rules", cfg)
    started = []
    try:
        am = Alertmanager(work, _alertmanager_config(f"http://127.0.0.1:{hook.server_address[1]}/hook", work))
        started.append(am)
        app = LLMApp(work, "app")
        started.append(app)
        prom = Prometheus(work, [{"job_name": "llmwatch-app", "static_configs": [{"targets": [app.target]}]}],
                          rule_files=[str(p) for p in rules], alertmanager=f"127.0.0.1:{am.port}")
        started.append(prom)

        # healthy traffic: no alert
        wait_for(lambda: prom.query("llmwatch:gen_ai_calls:rate10s > 0"), 30, "the call-rate recording rule")
        assert not prom.query(f'ALERTS{{alertname="{ALERT}"}}')
        assert not _notification("firing")

        app.set_mode("incident")  # every call: HTTP 500 after 300 ms
        firing = wait_for(lambda: _notification("firing"), 90, f"{ALERT} firing at the webhook\n{prom.tail()}\n{am.tail()}")
        # The app calls two providers (openai, and anthropic when its SDK is installed); both fail,
        # and Alertmanager groups their alerts in no fixed order, so pick the openai one by label.
        ours = [a for a in firing["alerts"] if a["labels"]["alertname"] == ALERT]
        assert {a["labels"]["gen_ai_provider_name"] for a in ours} <= {"openai", "anthropic"}, ours
        openai_alerts = [a for a in ours if a["labels"]["gen_ai_provider_name"] == "openai"]
        if not openai_alerts:  # the group's first notification may hold only the other provider
            firing = wait_for(lambda: _notification("firing", provider="openai"), 60, f"the openai alert\n{am.tail()}")
            openai_alerts = [a for a in firing["alerts"] if a["labels"]["alertname"] == ALERT
                             and a["labels"]["gen_ai_provider_name"] == "openai"]
        alert = openai_alerts[0]
        assert alert["labels"]["severity"] == "warning"
        assert alert["labels"]["team"] == "llm-platform"
        assert alert["labels"]["job"] == "llmwatch-app"
        assert alert["labels"]["gen_ai_request_model"] in {"gpt-4o-mini", "gpt-4o", "my-finetune-v1"}
        ann = alert["annotations"]
        assert ann["summary"] == f"{alert['labels']['gen_ai_request_model']} calls from llmwatch-app are failing"
        assert "%" in ann["description"] and "{{" not in ann["description"]
        assert ann["runbook_url"].endswith(f"/docs/runbooks/{ALERT}.md")
        assert (ROOT / "docs" / "runbooks" / f"{ALERT}.md").is_file()
        assert firing["receiver"] == "oncall-webhook"

        app.set_mode("ok")  # the errors stop
        resolved = wait_for(lambda: _notification("resolved"), 90, f"{ALERT} resolved at the webhook\n{am.tail()}")
        assert {a["labels"]["alertname"] for a in resolved["alerts"]} == {ALERT}
        assert all(a["status"] == "resolved" for a in resolved["alerts"])
    finally:
        for proc in reversed(started):
            proc.stop()
        hook.shutdown()
        hook.server_close()


def _notification(status: str, provider: str | None = None) -> dict | None:
    for payload in list(_Webhook.received):
        if payload["status"] == status and any(
            a["labels"]["alertname"] == ALERT
            and (provider is None or a["labels"].get("gen_ai_provider_name") == provider)
            for a in payload["alerts"]
        ):
            return payload
    return None
