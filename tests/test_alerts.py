"""The alert rules: generated, promtool-clean, unit-tested per alert, and held to the names module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts import generate  # noqa: E402
from alerts.config import DEFAULT_THRESHOLDS, AlertConfig  # noqa: E402
from alerts.promql import label_problems, metric_names, recorded_labels, template_labels  # noqa: E402
from llmwatch import artefacts, names  # noqa: E402

RULES = ROOT / "alerts" / "rules"
TESTS = sorted((ROOT / "alerts" / "tests").glob("*.test.yml"))
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (apt: prometheus)")


def _rules() -> list[dict]:
    doc = yaml.safe_load((RULES / generate.RULES_FILE).read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def _alerts() -> list[dict]:
    return [r for r in _rules() if "alert" in r]


def test_committed_and_bundled_rule_files_match_the_generator():
    for name, text in generate.render().items():
        assert (RULES / name).read_text() == text, f"alerts/rules/{name} is stale: run python scripts/generate.py"
    assert artefacts.rule_files() == generate.render(), "the package copy is stale: run python scripts/generate.py"


def test_generate_writes_tuned_rules_elsewhere_and_refuses_the_committed_folder(tmp_path):
    assert generate.main(["--out", str(tmp_path), "--set", "thresholds.error_ratio=0.2"]) == 0
    assert "vector(0.2)" in (tmp_path / generate.THRESHOLDS_FILE).read_text()
    with pytest.raises(SystemExit):
        generate.main(["--out", str(RULES), "--set", "thresholds.error_ratio=0.2"])
    with pytest.raises(SystemExit):
        generate.main(["--out", str(tmp_path), "--set", "thresholds.eror_ratio=0.2"])


@needs_promtool
def test_promtool_check_rules_is_clean():
    out = subprocess.run(["promtool", "check", "rules", *map(str, sorted(RULES.glob("*.yml")))],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_promtool
def test_promtool_unit_tests_pass():
    out = subprocess.run(["promtool", "test", "rules", *map(str, TESTS)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_has_a_firing_and_a_silent_promtool_case():
    firing: set[str] = set()
    silent: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                expected = {a["exp_labels"].get("alertname", check["alertname"]) for a in check.get("exp_alerts") or []}
                firing |= expected
                # a case is "silent" for an alert when it expects nothing, or only other series
                # than some of its inputs would produce (the cases mix a noisy and a calm input)
                if not check.get("exp_alerts") or len(case["input_series"]) > len(check["exp_alerts"]):
                    silent.add(check["alertname"])
    alerts = {a["alert"] for a in _alerts()}
    assert alerts - firing == set(), "alerts with no promtool case where they fire"
    assert alerts - silent == set(), "alerts with no promtool case where they stay silent"


def test_every_alert_has_severity_team_summary_description_and_a_runbook_in_the_repo():
    for alert in _alerts():
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}, alert["alert"]
        assert alert["labels"]["team"], alert["alert"]
        ann = alert["annotations"]
        assert ann["summary"] and ann["description"], alert["alert"]
        assert ann["runbook_url"].endswith(f"docs/runbooks/{alert['alert']}.md")
        runbook = ROOT / "docs" / "runbooks" / f"{alert['alert']}.md"
        assert runbook.is_file(), f"missing runbook {runbook}"
        assert "## Diagnosis" in runbook.read_text() and "## Mitigation" in runbook.read_text()


def test_every_metric_a_rule_reads_is_declared_in_the_names_module():
    known = set(names.by_prom_name()) | {"up"}
    recorded = {r["record"] for r in _rules() if "record" in r}
    thresholds = {f"llmwatch:threshold:{k}" for k in DEFAULT_THRESHOLDS}
    for rule in _rules():
        for metric in metric_names(rule["expr"]):
            assert metric in known | recorded | thresholds, (
                f"{rule.get('alert') or rule.get('record')} reads {metric}, which names.py does not declare")


def test_every_label_a_rule_or_annotation_uses_is_one_its_metric_carries():
    rules = _rules()
    labels_of = recorded_labels(rules)
    for rule in rules:
        shown = [x for text in rule.get("annotations", {}).values() for x in template_labels(text)]
        problems = label_problems(rule["expr"], labels_of, shown=shown)
        assert not problems, f"{rule.get('alert') or rule.get('record')}: {problems}"


@pytest.mark.parametrize(("expr", "shown", "complaint"), [
    # a matcher on a label the metric does not have (the token counter has no error type)
    ('rate(gen_ai_client_token_usage_sum{error_type!=""}[5m])', (), "has no label error_type"),
    # grouping by a label only some other metric carries
    ("sum by (llmwatch_category) (rate(gen_ai_client_operation_duration_seconds_count[5m]))", (), "by (llmwatch_category)"),
    # a label renamed in names.py but not in the query
    ('sum by (gen_ai_system) (rate(llmwatch_cost_usd_total{gen_ai_system="openai"}[5m]))', (), "gen_ai_system"),
    # a legend or annotation showing a label the result cannot have
    ("sum by (job) (rate(llmwatch_cost_usd_total[5m]))", ("hw_id",), "shows hw_id"),
])
def test_a_label_the_metric_does_not_carry_is_reported(expr, shown, complaint):
    problems = label_problems(expr, shown=shown)
    assert any(complaint in p for p in problems), problems


def test_labels_the_metric_carries_are_accepted():
    expr = ('histogram_quantile(0.95, sum by (le, job, gen_ai_request_model) '
            '(rate(gen_ai_client_operation_duration_seconds_bucket{environment=~"$environment", error_type=""}[5m])))')
    assert label_problems(expr, shown=("gen_ai_request_model",)) == []


def test_the_issue_asks_for_these_alerts():
    alerts = {a["alert"] for a in _alerts()}
    assert {
        "LLMWatchErrorRateHigh", "LLMWatchLatencySLOBurnFast", "LLMWatchLatencySLOBurnSlow",
        "LLMWatchTimeToFirstChunkHigh", "LLMWatchCostBudgetBurn", "LLMWatchTokenBudgetBurn",
        "LLMWatchUnknownPriceCalls", "LLMWatchToxicitySpike", "LLMWatchModerationFlagRateHigh",
        "LLMWatchPromptInjectionDetected", "LLMWatchGPUMemoryNearLimit", "LLMWatchGPUThermalThrottling",
        "LLMWatchGPULost", "LLMWatchNVMLUnavailable", "LLMWatchDroppingRecords", "LLMWatchSpoolGrowing",
        "LLMWatchTargetDown",
    } <= alerts


def test_changing_a_threshold_changes_only_the_thresholds_file():
    default = generate.render()
    tuned = generate.render(AlertConfig().with_settings({"thresholds.error_ratio": "0.2"}))
    assert tuned[generate.RULES_FILE] == default[generate.RULES_FILE]
    assert "vector(0.2)" in tuned[generate.THRESHOLDS_FILE]


def test_alerts_take_their_thresholds_from_recording_rules():
    for alert in _alerts():
        assert "vector(" not in alert["expr"], alert["alert"]
    used = {m for a in _alerts() for m in metric_names(a["expr"]) if m.startswith("llmwatch:threshold:")}
    assert used == {f"llmwatch:threshold:{k}" for k in DEFAULT_THRESHOLDS}, "a threshold no alert uses"


def test_unknown_settings_are_refused_with_the_accepted_names():
    with pytest.raises(ValueError, match="error_ratio"):
        AlertConfig(thresholds={"eror_ratio": 1.0})
    with pytest.raises(ValueError, match="bucket boundary"):
        AlertConfig(latency_slo_le=3.0)
