"""llmwatch health: is the observability itself keeping up (queue, drops, errors, spool)?"""

from __future__ import annotations

from llmwatch import names as n

from .promql import COMPONENT, INSTANCE, JOB, LE, REASON, TARGET, labels, legend, rate

BY_TARGET = labels(JOB, INSTANCE)
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
                      (Query(f"up{{{TARGET}}}", legend(JOB, INSTANCE)),), "bool_yes_no"),
            PanelSpec("Queue depth", "Are call records piling up before the sinks?", "timeseries",
                      (Query(f"max by ({BY_TARGET}) ({n.QUEUE_DEPTH.prom_name}{{{TARGET}}})", legend(JOB, INSTANCE)),), "short"),
            PanelSpec("Records processed/s", "How many call records reach the sinks per second?", "timeseries",
                      (Query(f"sum by ({JOB}) ({rate(n.RECORDS_PROCESSED.prom_name, TARGET)})", legend(JOB)),), "short"),
            PanelSpec("Dropped records/s by reason", "Is llmwatch losing data, and why?", "timeseries",
                      (Query(f"sum by ({labels(JOB, REASON)}) ({rate(n.RECORDS_DROPPED.prom_name, TARGET)})", f"sdk {legend(JOB, REASON)}"),
                       Query(f"sum by ({labels(JOB, REASON)}) ({rate(n.STORE_RECORDS_DROPPED.prom_name, TARGET)})",
                             f"store {legend(JOB, REASON)}")),
                      "short"),
            PanelSpec("Internal errors/s by component", "Is any part of llmwatch failing (caught, logged, never raised)?", "timeseries",
                      (Query(f"sum by ({labels(JOB, COMPONENT)}) ({rate(n.INTERNAL_ERRORS.prom_name, TARGET)})", legend(JOB, COMPONENT)),),
                      "short", 24),
        )),
        Row("Prompt-log store", (
            PanelSpec("Store writes/s", "Are call records reaching the prompt-log database, directly or via the spool?", "timeseries",
                      (Query(f"sum by ({JOB}) ({rate(n.STORE_RECORDS_WRITTEN.prom_name, TARGET)})", f"written {legend(JOB)}"),
                       Query(f"sum by ({JOB}) ({rate(n.STORE_RECORDS_SPOOLED.prom_name, TARGET)})", f"spooled {legend(JOB)}"),
                       Query(f"sum by ({JOB}) ({rate(n.STORE_RECORDS_REPLAYED.prom_name, TARGET)})", f"replayed {legend(JOB)}")),
                      "short"),
            PanelSpec("Store write errors/s", "Is the database refusing writes?", "timeseries",
                      (Query(f"sum by ({JOB}) ({rate(n.STORE_WRITE_ERRORS.prom_name, TARGET)})", legend(JOB)),), "short"),
            PanelSpec("Spool size", "How much is waiting on disk for the database to come back?", "timeseries",
                      (Query(f"max by ({BY_TARGET}) ({n.STORE_SPOOL_SIZE.prom_name}{{{TARGET}}})", legend(JOB, INSTANCE)),), "bytes"),
            PanelSpec("Store batch write p95", "How long does writing a batch to the database take?", "timeseries",
                      (Query(f"histogram_quantile(0.95, sum by ({LE}, {JOB}) ({rate(n.STORE_BATCH_DURATION.prom_name + '_bucket', TARGET)}))",
                             legend(JOB)),),
                      "s"),
        )),
    ),
)
