"""Render the Grafana dashboards and the README's panel and alert tables from ``dashboards/src``.

Nothing here writes files: ``python scripts/generate.py`` calls :func:`dashboard_files` and
:func:`docs_text` and writes ``dashboards/json/``, the package copy, the Helm chart's copy and the
README together (``--check`` compares instead).
"""

from __future__ import annotations

from pathlib import Path

from .src import gpu, health, overview, prompt_logs, quality, tokens_cost
from .src.build import render
from .src.spec import DashboardSpec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
JSON_DIR = HERE / "json"
DOCS = ROOT / "README.md"
BEGIN = "<!-- BEGIN generated panel tables: python scripts/generate.py -->"
END = "<!-- END generated panel tables -->"
ALERTS_BEGIN = "<!-- BEGIN generated alert table: python scripts/generate.py -->"
ALERTS_END = "<!-- END generated alert table -->"

DASHBOARDS: tuple[DashboardSpec, ...] = (
    overview.DASHBOARD, tokens_cost.DASHBOARD, quality.DASHBOARD, gpu.DASHBOARD,
    prompt_logs.DASHBOARD, health.DASHBOARD,
)


def dashboard_files() -> dict[str, str]:
    """File name (``<uid>.json``) -> Grafana JSON, for every dashboard."""
    return {f"{d.uid}.json": render(d) for d in DASHBOARDS}


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
