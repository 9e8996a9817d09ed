"""Copy the generated artefacts the chart ships into ``helm/llmwatch/files/``.

    python -m helm.generate           # refresh the copies
    python -m helm.generate --check   # exit 1 if a copy drifted from its source

Sources: alerts/rules/llmwatch.rules.yml (the PrometheusRule; thresholds come from values),
dashboards/json/*.json (the dashboard ConfigMaps), exporters/otel-collector/collector.yaml.
tests/test_helm.py fails on any drift, and checks values.yaml's thresholds against alerts/config.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "helm" / "llmwatch" / "files"


def copies() -> dict[Path, str]:
    out = {FILES / "alerts" / "llmwatch.rules.yml": (ROOT / "alerts" / "rules" / "llmwatch.rules.yml").read_text(),
           FILES / "collector.yaml": (ROOT / "exporters" / "otel-collector" / "collector.yaml").read_text()}
    for src in sorted((ROOT / "dashboards" / "json").glob("*.json")):
        out[FILES / "dashboards" / src.name] = src.read_text()
    return out


def stale() -> list[Path]:
    expected = copies()
    present = {p for p in FILES.rglob("*") if p.is_file()}
    return sorted({p for p, text in expected.items() if not p.exists() or p.read_text() != text} | (present - set(expected)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helm.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if args.check:
        bad = stale()
        for p in bad:
            print(f"{p} drifted from its source: run python -m helm.generate", file=sys.stderr)
        return 1 if bad else 0
    expected = copies()
    for p in {p for p in FILES.rglob("*") if p.is_file()} - set(expected):
        p.unlink()
    for path, text in expected.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
