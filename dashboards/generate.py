"""Write the Grafana dashboards, their provisioning files and the docs' panel tables.

    python -m dashboards.generate           # regenerate dashboards/json/*.json + docs tables
    python -m dashboards.generate --check   # exit 1 if anything committed is stale

tests/test_dashboards.py regenerates everything and fails on any difference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .src import gpu, health, overview, prompt_logs, quality, tokens_cost
from .src.build import render
from .src.spec import DashboardSpec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JSON_DIR = HERE / "json"
DOCS = ROOT / "README.md"
BEGIN = "<!-- BEGIN generated panel tables: python -m dashboards.generate -->"
END = "<!-- END generated panel tables -->"
ALERTS_BEGIN = "<!-- BEGIN generated alert table: python -m dashboards.generate -->"
ALERTS_END = "<!-- END generated alert table -->"

DASHBOARDS: tuple[DashboardSpec, ...] = (
    overview.DASHBOARD, tokens_cost.DASHBOARD, quality.DASHBOARD, gpu.DASHBOARD,
    prompt_logs.DASHBOARD, health.DASHBOARD,
)


def json_files() -> dict[Path, str]:
    return {JSON_DIR / f"{d.uid}.json": render(d) for d in DASHBOARDS}


def panel_tables() -> str:
    out = []
    for d in DASHBOARDS:
        out.append(f"### {d.title.split(' / ', 1)[1]} (`{d.uid}`)\n\n{d.description}\n")
        out.append("| Panel | The question it answers |\n|---|---|")
        out += [f"| {p.title} | {p.question} |" for p in d.panels]
        out.append("")
    return "\n".join(out)


def alert_table() -> str:
    from alerts.config import AlertConfig
    from alerts.rules import alerts

    rows = ["| Alert | Severity | Fires when | Runbook |", "|---|---|---|---|"]
    for a in alerts(AlertConfig()):
        rows.append(f"| `{a.name}` | {a.severity} | {_plain(a.summary)} | "
                    f"[docs/runbooks/{a.name}.md](docs/runbooks/{a.name}.md) |")
    return "\n".join(rows) + "\n"


def _plain(template: str) -> str:
    """An alert summary with its Go-template placeholders shown as <label>."""
    import re

    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", r"`\1`", template)


def docs_text(current: str) -> str:
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    text = f"{head}{BEGIN}\n\n{panel_tables()}\n{END}{tail}"
    head, rest = text.split(ALERTS_BEGIN, 1)
    _, tail = rest.split(ALERTS_END, 1)
    return f"{head}{ALERTS_BEGIN}\n\n{alert_table()}\n{ALERTS_END}{tail}"


def outputs() -> dict[Path, str]:
    files = json_files()
    if DOCS.exists():
        files[DOCS] = docs_text(DOCS.read_text())
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboards.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    files = outputs()
    if args.check:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        for p in stale:
            print(f"{p} is stale: run python -m dashboards.generate", file=sys.stderr)
        return 1 if stale else 0
    JSON_DIR.mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
