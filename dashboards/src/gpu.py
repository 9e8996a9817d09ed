"""GPU: the agent's NVML metrics (issue 6), OTel hardware semconv names."""

from __future__ import annotations

from llmwatch import names as n

from .promql import GPU, HW_ID, HW_NAME, HW_TYPE, INSTANCE, PROCESS_EXECUTABLE_NAME, PROCESS_PID, TARGET, THROTTLE_REASON, legend
from .spec import DashboardSpec, PanelSpec, Query, Row

LEG = legend(INSTANCE, HW_NAME, HW_ID)
IS_GPU = f'{HW_TYPE}="gpu"'

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
                      (Query(f'{n.GPU_POWER.prom_name}{{{GPU}, {IS_GPU}}}', LEG),), "watt", 8),
            PanelSpec("Temperature", "Is any GPU running hot?", "timeseries",
                      (Query(f'{n.GPU_TEMPERATURE.prom_name}{{{GPU}, {IS_GPU}}}', LEG),), "celsius", 8),
            PanelSpec("Throttle reasons", "Is a GPU slowing its clocks, and why (thermal, power cap, ...)?", "state-timeline",
                      (Query(f'max by ({INSTANCE}, {HW_ID}, {THROTTLE_REASON}) ({n.GPU_THROTTLE_ACTIVE.prom_name}{{{GPU}, {THROTTLE_REASON}!="idle"}})',
                             legend(INSTANCE, HW_ID, THROTTLE_REASON)),), "bool_on_off", 8),
            PanelSpec("Memory by process", "Which processes hold GPU memory?", "timeseries",
                      (Query(f"topk(10, {n.GPU_PROCESS_MEMORY.prom_name}{{{GPU}}})",
                             f"{legend(INSTANCE, HW_ID, PROCESS_EXECUTABLE_NAME)} ({legend(PROCESS_PID)})"),), "bytes", 24),
        )),
    ),
)
