"""GPU: the agent's NVML metrics (issue 6), OTel hardware semconv names."""

from __future__ import annotations

from llmwatch import names as n

from .promql import GPU, TARGET
from .spec import DashboardSpec, PanelSpec, Query, Row

LEG = "{{instance}} {{hw_name}} {{hw_id}}"

DASHBOARD = DashboardSpec(
    uid="llmwatch-gpu",
    title="llmwatch / GPU",
    description="GPU utilisation, memory, power, temperature, throttling and per-process memory from the llmwatch agent.",
    tags=("llmwatch", "gpu"),
    variables=("job", "environment", "gpu"),
    rows=(
        Row("Load", (
            PanelSpec("NVML available", "Can every agent read its GPUs (1 = yes)?", "stat",
                      (Query(f"min({n.GPU_AVAILABLE.prom_name}{{{TARGET}}})"),), "bool_yes_no", 6, 4),
            PanelSpec("GPUs reporting", "How many GPUs report metrics right now?", "stat",
                      (Query(f"count({n.GPU_MEMORY_LIMIT.prom_name}{{{GPU}}})"),), "short", 6, 4),
            PanelSpec("Average utilisation", "How busy are the GPUs on average?", "stat",
                      (Query(f"avg({n.GPU_UTILIZATION.prom_name}{{{GPU}}})"),), "percentunit", 12, 4),
            PanelSpec("Utilisation", "Which GPUs are busy and which idle?", "timeseries",
                      (Query(f"{n.GPU_UTILIZATION.prom_name}{{{GPU}}}", LEG),), "percentunit"),
            PanelSpec("Memory used", "How much GPU memory is in use, against each GPU's total?", "timeseries",
                      (Query(f"{n.GPU_MEMORY_USAGE.prom_name}{{{GPU}}}", "used " + LEG),
                       Query(f"{n.GPU_MEMORY_LIMIT.prom_name}{{{GPU}}}", "total " + LEG)), "bytes"),
        )),
        Row("Health", (
            PanelSpec("Power draw", "How many watts does each GPU draw?", "timeseries",
                      (Query(f'{n.GPU_POWER.prom_name}{{{GPU}, hw_type="gpu"}}', LEG),), "watt", 8),
            PanelSpec("Temperature", "Is any GPU running hot?", "timeseries",
                      (Query(f'{n.GPU_TEMPERATURE.prom_name}{{{GPU}, hw_type="gpu"}}', LEG),), "celsius", 8),
            PanelSpec("Throttle reasons", "Is a GPU slowing its clocks, and why (thermal, power cap, ...)?", "state-timeline",
                      (Query(f'max by (instance, hw_id, llmwatch_gpu_throttle_reason) ({n.GPU_THROTTLE_ACTIVE.prom_name}{{{GPU}, llmwatch_gpu_throttle_reason!="idle"}})',
                             "{{instance}} {{hw_id}} {{llmwatch_gpu_throttle_reason}}"),), "bool_on_off", 8),
            PanelSpec("Memory by process", "Which processes hold GPU memory?", "timeseries",
                      (Query(f"topk(10, {n.GPU_PROCESS_MEMORY.prom_name}{{{GPU}}})",
                             "{{instance}} {{hw_id}} {{process_executable_name}} ({{process_pid}})"),), "bytes", 24),
        )),
    ),
)
