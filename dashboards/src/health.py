"""llmwatch health: is the observability itself keeping up (queue, drops, errors, spool)?"""

from __future__ import annotations

from llmwatch import names as n

from .promql import TARGET, rate
from .spec import DashboardSpec, PanelSpec, Query, Row

DASHBOARD = DashboardSpec(
    uid="llmwatch-health",
    title="llmwatch / llmwatch health",
    description="Whether llmwatch keeps up: scrape targets, queue depth, processed and dropped records, internal errors, prompt-log store and spool.",
    tags=("llmwatch", "meta"),
    variables=("job", "environment"),
    rows=(
        Row("Pipeline", (
            PanelSpec("Targets up", "Can Prometheus scrape every llmwatch target?", "timeseries",
                      (Query(f"up{{{TARGET}}}", "{{job}} {{instance}}"),), "bool_yes_no"),
            PanelSpec("Queue depth", "Are call records piling up before the sinks?", "timeseries",
                      (Query(f"max by (job, instance) ({n.QUEUE_DEPTH.prom_name}{{{TARGET}}})", "{{job}} {{instance}}"),), "short"),
            PanelSpec("Records processed/s", "How many call records reach the sinks per second?", "timeseries",
                      (Query(f"sum by (job) ({rate(n.RECORDS_PROCESSED.prom_name, TARGET)})", "{{job}}"),), "short"),
            PanelSpec("Dropped records/s by reason", "Is llmwatch losing data, and why?", "timeseries",
                      (Query(f"sum by (job, llmwatch_reason) ({rate(n.RECORDS_DROPPED.prom_name, TARGET)})", "sdk {{job}} {{llmwatch_reason}}"),
                       Query(f"sum by (job, llmwatch_reason) ({rate(n.STORE_RECORDS_DROPPED.prom_name, TARGET)})", "store {{job}} {{llmwatch_reason}}")),
                      "short"),
            PanelSpec("Internal errors/s by component", "Is any part of llmwatch failing (caught, logged, never raised)?", "timeseries",
                      (Query(f"sum by (job, llmwatch_component) ({rate(n.INTERNAL_ERRORS.prom_name, TARGET)})", "{{job}} {{llmwatch_component}}"),),
                      "short", 24),
        )),
        Row("Prompt-log store", (
            PanelSpec("Store writes/s", "Are call records reaching the prompt-log database, directly or via the spool?", "timeseries",
                      (Query(f"sum by (job) ({rate(n.STORE_RECORDS_WRITTEN.prom_name, TARGET)})", "written {{job}}"),
                       Query(f"sum by (job) ({rate(n.STORE_RECORDS_SPOOLED.prom_name, TARGET)})", "spooled {{job}}"),
                       Query(f"sum by (job) ({rate(n.STORE_RECORDS_REPLAYED.prom_name, TARGET)})", "replayed {{job}}")), "short"),
            PanelSpec("Store write errors/s", "Is the database refusing writes?", "timeseries",
                      (Query(f"sum by (job) ({rate(n.STORE_WRITE_ERRORS.prom_name, TARGET)})", "{{job}}"),), "short"),
            PanelSpec("Spool size", "How much is waiting on disk for the database to come back?", "timeseries",
                      (Query(f"max by (job, instance) ({n.STORE_SPOOL_SIZE.prom_name}{{{TARGET}}})", "{{job}} {{instance}}"),), "bytes"),
            PanelSpec("Store batch write p95", "How long does writing a batch to the database take?", "timeseries",
                      (Query(f"histogram_quantile(0.95, sum by (le, job) ({rate(n.STORE_BATCH_DURATION.prom_name + '_bucket', TARGET)}))", "{{job}}"),),
                      "s"),
        )),
    ),
)
