"""Turn a DashboardSpec into Grafana 11.6 dashboard JSON with grafana-foundation-sdk."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import (
    bargauge, dashboard as db, heatmap, prometheus, stat, statetimeline, table, timeseries,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as m
from grafana_foundation_sdk.models import prometheus as pm

from llmwatch import names as n

from .promql import ENVIRONMENT, HW_ID, JOB, MODEL_LABEL, PROVIDER
from .spec import DashboardSpec, PanelSpec

PROM_DS = m.DataSourceRef(type_val="prometheus", uid="${datasource}")
PG_DS = m.DataSourceRef(type_val="grafana-postgresql-datasource", uid="${datasource}")

# The metric each dashboard's variables list label values from.
_ANCHOR = {
    "llmwatch-gpu": n.GPU_AVAILABLE.prom_name,
    "llmwatch-health": "up",
}
_PANELS = {
    "timeseries": timeseries.Panel, "stat": stat.Panel, "bargauge": bargauge.Panel, "table": table.Panel,
    "heatmap": heatmap.Panel, "state-timeline": statetimeline.Panel,
}


class _SqlQuery:
    """A raw-SQL target for Grafana's PostgreSQL datasource (the SDK has no builder for it)."""

    def __init__(self, ref_id: str, sql: str, fmt: str) -> None:
        self.ref_id, self.sql, self.fmt = ref_id, sql, fmt

    def build(self) -> "_SqlQuery":
        return self

    def to_json(self) -> dict[str, Any]:
        return {"datasource": PG_DS.to_json(), "editorMode": "code", "format": self.fmt,
                "rawQuery": True, "rawSql": self.sql, "refId": self.ref_id}


def _all_option() -> m.VariableOption:
    return m.VariableOption(selected=True, text="All", value="$__all")


def _query_var(name: str, label: str, query: str, ds: m.DataSourceRef) -> db.QueryVariable:
    return (db.QueryVariable(name).label(label).query(query).datasource(ds)
            .refresh(m.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(m.VariableSort.ALPHABETICAL_ASC)
            .include_all(True).all_value(".*").multi(True).current(_all_option()))


def variables(spec: DashboardSpec) -> list[Any]:
    if spec.datasource == "postgres":
        calls = "llmwatch_calls"
        return [
            db.DatasourceVariable("datasource").label("Prompt-log database").type("grafana-postgresql-datasource"),
            db.DatasourceVariable("tracing").label("Traces").type("tempo"),
            _query_var("job", "Service", f"SELECT DISTINCT service_name FROM {calls} WHERE service_name IS NOT NULL", PG_DS),
            _query_var("provider", "Provider", f"SELECT DISTINCT provider FROM {calls}", PG_DS),
            _query_var("model", "Model", f"SELECT DISTINCT request_model FROM {calls} WHERE request_model IS NOT NULL", PG_DS),
        ]
    anchor = _ANCHOR.get(spec.uid, n.OPERATION_DURATION.prom_name + "_count")
    out: list[Any] = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")]
    matchers: list[str] = []
    labels = {"job": ("Job / service", JOB), "environment": ("Environment", ENVIRONMENT),
              "provider": ("Provider", PROVIDER), "model": ("Model", MODEL_LABEL), "gpu": ("GPU", HW_ID)}
    for var in spec.variables:
        label, key = labels[var]
        metric = n.GPU_MEMORY_LIMIT.prom_name if var == "gpu" else anchor
        selector = "{" + ", ".join(matchers) + "}" if matchers else ""
        out.append(_query_var(var, label, f"label_values({metric}{selector}, {key})", PROM_DS))
        matchers.append(f'{key}=~"${var}"')
    return out


def variable_queries(spec: DashboardSpec) -> dict[str, str]:
    """Variable name -> its query (for the tests)."""
    built = json.loads(render(spec))
    return {v["name"]: v["query"] for v in built["templating"]["list"] if v["type"] == "query"}


def _trace_link() -> m.DynamicConfigValue:
    url = ('/explore?left={"datasource":"${tracing}","queries":[{"refId":"A","queryType":"traceql",'
           '"query":"${__value.raw}"}]}')
    return m.DynamicConfigValue(id_val="links", value=[{"title": "Open trace", "url": url}])


def panel(p: PanelSpec, ds: m.DataSourceRef) -> Any:
    b = _PANELS[p.kind]().title(p.title).description(p.question).datasource(ds).height(p.height).span(p.width)
    if p.kind != "heatmap":
        b = b.unit(p.unit)
    for i, q in enumerate(p.queries):
        ref = chr(ord("A") + i)
        if p.sql:
            b = b.with_target(_SqlQuery(ref, q.expr, q.fmt))
            continue
        t = prometheus.Dataquery().expr(q.expr).ref_id(ref).datasource(ds)
        if q.legend:
            t = t.legend_format(q.legend)
        if q.instant:
            t = t.instant().format(pm.PromQueryFormat(q.fmt))
        elif q.fmt != "time_series":
            t = t.format(pm.PromQueryFormat(q.fmt))
        b = b.with_target(t)
    if p.links_trace_id:
        b = b.override_by_name("trace_id", [_trace_link()])
    if p.kind == "heatmap":
        b = b.calculate(False)
    return b


def build(spec: DashboardSpec) -> Any:
    ds = PG_DS if spec.datasource == "postgres" else PROM_DS
    d = (db.Dashboard(spec.title).uid(spec.uid).description(spec.description).tags(list(spec.tags))
         .time("now-6h", "now").refresh("30s").editable().tooltip(m.DashboardCursorSync.CROSSHAIR))
    for var in variables(spec):
        d = d.with_variable(var)
    d = d.link(db.DashboardLink("llmwatch").type(m.DashboardLinkType.DASHBOARDS).tags(["llmwatch"])
               .as_dropdown(True).include_vars(True).keep_time(True))
    for row in spec.rows:
        d = d.with_row(db.Row(row.title))
        for p in row.panels:
            d = d.with_panel(panel(p, ds))
    return d.build()


def render(spec: DashboardSpec) -> str:
    return json.dumps(build(spec), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
