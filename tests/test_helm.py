"""The Helm chart: lints, renders for several values sets with helm-python-sdk (Helm v4's SDK, no
helm binary), every rendered manifest validates against the Kubernetes schemas (kubernetes-validate;
the prometheus-operator CRDs it has no schema for are checked structurally and their rules with
promtool), and the copies of generated artefacts inside the chart have not drifted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import generate as alerts_generate  # noqa: E402
from alerts.config import DEFAULT_THRESHOLDS  # noqa: E402
from helm import generate as helm_generate  # noqa: E402
from llmwatch import artefacts  # noqa: E402

h = pytest.importorskip("helm_python")
kv = pytest.importorskip("kubernetes_validate")

CHART = ROOT / "helm" / "llmwatch"
K8S_VERSION = "1.30.0"
CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}

VALUES_SETS = {
    "defaults": {},
    "gpu-daemonset-only": {"agent": {"deployment": {"enabled": False}, "gpu": {"enabled": True}}},
    "everything-on": {
        "agent": {"gpu": {"enabled": True}, "deployment": {"replicas": 2}, "logLevel": "DEBUG",
                  "env": [{"name": "LLMWATCH_ENVIRONMENT", "value": "prod"}]},
        "collector": {"enabled": True},
        "image": {"repository": "registry.example.com/llmwatch", "tag": "1.2.3"},
        "imagePullSecrets": [{"name": "regcred"}],
        "secret": {"apiToken": "t0ken", "databaseUrl": "postgresql+psycopg://u:p@db/llmwatch"},
        "alerts": {"thresholds": {"error_ratio": 0.2, "cost_usd_per_day": 2500}},
        "dashboards": {"namespace": "grafana"},
        "serviceMonitor": {"labels": {"release": "kube-prometheus-stack"}},
        "prometheusRule": {"labels": {"release": "kube-prometheus-stack"}},
    },
    "minimal-existing-secret": {
        "serviceMonitor": {"enabled": False}, "prometheusRule": {"enabled": False},
        "dashboards": {"enabled": False}, "serviceAccount": {"create": False},
        "secret": {"existingSecret": "llmwatch-credentials"},
    },
}


def render(values: dict) -> list[dict]:
    chart = h.Chart.load(str(CHART))
    out = chart.render(values, name="obs", namespace="monitoring")
    return [d for text in out.values() for d in yaml.safe_load_all(text) if d]


def test_chart_lints_clean():
    report = h.lint(str(CHART), strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_generated_copies_in_the_chart_have_not_drifted():
    expected = helm_generate.copies(alerts_generate.render(), artefacts.dashboard_files())
    present = {p: p.read_text() for p in helm_generate.FILES.rglob("*") if p.is_file()}
    assert present == expected, "run python scripts/generate.py"


def test_values_thresholds_are_the_alert_generators_defaults():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["alerts"]["thresholds"] == DEFAULT_THRESHOLDS


@pytest.mark.parametrize("name", sorted(VALUES_SETS))
def test_every_rendered_manifest_is_valid_kubernetes(name):
    docs = render(VALUES_SETS[name])
    assert docs
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRDS:
            assert doc["metadata"]["name"] and doc["spec"], doc["kind"]
            continue
        kv.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", sorted(VALUES_SETS))
def test_agent_pods_run_non_root_on_a_read_only_root_fs_with_resources(name):
    for doc in render(VALUES_SETS[name]):
        if doc["kind"] not in ("Deployment", "DaemonSet"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert c["resources"]["requests"] and c["resources"]["limits"]


def test_gpu_daemonset_lands_on_gpu_nodes_with_the_nvidia_runtime():
    docs = render(VALUES_SETS["gpu-daemonset-only"])
    kinds = [d["kind"] for d in docs]
    assert "DaemonSet" in kinds and "Deployment" not in kinds
    pod = next(d for d in docs if d["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["LLMWATCH_AGENT_GPU"] == "true" and env["LLMWATCH_AGENT_SCORING"] == "false"
    assert env["LLMWATCH_AGENT_HOST"] == "0.0.0.0"


def test_secret_holds_the_api_token_and_database_url_and_pods_read_them():
    docs = render(VALUES_SETS["everything-on"])
    secret = next(d for d in docs if d["kind"] == "Secret")
    assert set(secret["data"]) == {"api-token", "database-url"}
    env = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
    assert refs == {"LLMWATCH_AGENT_TOKEN": secret["metadata"]["name"], "LLMWATCH_AGENT_STORE_URL": secret["metadata"]["name"]}
    minimal = render(VALUES_SETS["minimal-existing-secret"])
    assert not [d for d in minimal if d["kind"] == "Secret"]
    env = next(d for d in minimal if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e} == {"llmwatch-credentials"}


def test_service_monitor_scrapes_the_agent_service():
    docs = render({})
    svc = next(d for d in docs if d["kind"] == "Service")
    sm = next(d for d in docs if d["kind"] == "ServiceMonitor")
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"] == "metrics"


def test_prometheus_rule_is_the_generated_rules_plus_thresholds_from_values(tmp_path):
    docs = render(VALUES_SETS["everything-on"])
    rule = next(d for d in docs if d["kind"] == "PrometheusRule")
    groups = rule["spec"]["groups"]
    generated = yaml.safe_load((ROOT / "alerts" / "rules" / "llmwatch.rules.yml").read_text())["groups"]
    assert groups[1:] == generated
    thresholds = {r["record"].rsplit(":", 1)[1]: float(r["expr"][len("vector("):-1]) for r in groups[0]["rules"]}
    assert thresholds == {**DEFAULT_THRESHOLDS, "error_ratio": 0.2, "cost_usd_per_day": 2500}
    if shutil.which("promtool"):
        path = tmp_path / "rule.yml"
        path.write_text(yaml.safe_dump({"groups": groups}))
        out = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_dashboard_configmaps_carry_the_sidecar_label_and_the_generated_json():
    docs = render(VALUES_SETS["everything-on"])
    maps = [d for d in docs if d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"]["labels"]]
    sources = {p.name: p.read_text() for p in (ROOT / "dashboards" / "json").glob("*.json")}
    assert len(maps) == len(sources) == 6
    for cm in maps:
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["namespace"] == "grafana"
        (filename, text), = cm["data"].items()
        assert json.loads(text) == json.loads(sources[filename])


def test_collector_config_is_optional():
    def collector(docs):
        return [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("otel-collector")]

    assert collector(render({})) == []
    (cm,) = collector(render(VALUES_SETS["everything-on"]))
    assert yaml.safe_load(cm["data"]["collector.yaml"]) == yaml.safe_load(
        (ROOT / "exporters" / "otel-collector" / "collector.yaml").read_text())


@pytest.mark.parametrize("bad", [
    {"agent": {"port": "9400"}},
    {"agent": {"securityContext": {"readOnlyRootFilesystem": False, "allowPrivilegeEscalation": False}}},
    {"alerts": {"thresholds": {"eror_ratio": 0.1}}},
    {"alerts": {"thresholds": {"latency_slo_objective": 1.5}}},
    {"serviceMonitor": {"interval": "often"}},
    {"unknownKey": True},
])
def test_values_schema_rejects_bad_values(bad):
    with pytest.raises(h.HelmError):
        h.Chart.load(str(CHART)).render(bad, name="obs", namespace="monitoring")
