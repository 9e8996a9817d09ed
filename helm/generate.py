"""The copies of generated artefacts the chart ships in ``helm/llmwatch/files/``.

Helm can only read files inside the chart, so the chart carries copies of the generated rule file
(the PrometheusRule; thresholds come from values), the dashboards (the dashboard ConfigMaps) and
``exporters/otel-collector/collector.yaml``. ``python scripts/generate.py`` writes them from the
freshly rendered sources, in the same run as the sources themselves, so they cannot drift;
tests/test_helm.py checks values.yaml's thresholds against alerts/config.py.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "helm" / "llmwatch" / "files"
COLLECTOR = ROOT / "exporters" / "otel-collector" / "collector.yaml"
RULES_FILE = "llmwatch.rules.yml"  # the thresholds file is not copied: the chart builds it from values


def copies(rule_files: dict[str, str], dashboard_files: dict[str, str]) -> dict[Path, str]:
    """Path in the chart -> content, from rendered rule files and dashboards (file name -> text)."""
    out = {FILES / "alerts" / RULES_FILE: rule_files[RULES_FILE], FILES / "collector.yaml": COLLECTOR.read_text()}
    for name, text in sorted(dashboard_files.items()):
        out[FILES / "dashboards" / name] = text
    return out
