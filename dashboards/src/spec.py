"""What a dashboard *says*, independent of Grafana's JSON: panels, their queries and questions.

The same specs build the Grafana JSON (``build.py``), the README tables (``generate.py``) and the
tests that run every query against a real Prometheus, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PanelKind = Literal["timeseries", "stat", "bargauge", "table", "heatmap", "state-timeline"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False  # tables and "over the range" stats
    fmt: str = "time_series"  # time_series | table | heatmap


@dataclass(frozen=True)
class PanelSpec:
    title: str
    question: str  # the question this panel answers; shown as the panel description
    kind: PanelKind
    queries: tuple[Query, ...]
    unit: str = "short"
    width: int = 12
    height: int = 8
    # for SQL panels: raw SQL instead of PromQL (queries then hold SQL in expr)
    sql: bool = False
    links_trace_id: bool = False


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[PanelSpec, ...]


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[Row, ...]
    # which template variables this dashboard offers (besides the datasource)
    variables: tuple[str, ...] = ("job", "environment", "provider", "model")
    datasource: Literal["prometheus", "postgres"] = "prometheus"
    extra: dict = field(default_factory=dict)

    @property
    def panels(self) -> tuple[PanelSpec, ...]:
        return tuple(p for r in self.rows for p in r.panels)
