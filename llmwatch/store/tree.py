"""``llmwatch logs show ID --tree``: a stored trace as an indented tree.

Every stored row keeps its span and parent span ids; workflow, agent, tool and retrieval spans are
rows too (operation ``invoke_workflow``, ``invoke_agent``, ``execute_tool``, ``retrieval``,
``task``), so the whole trace can be rebuilt from the prompt log alone. Each node shows its
duration, its own tokens and cost (LLM calls) or the roll-up of the calls beneath it (parents,
marked with Σ), and its status. A row whose parent was not stored (a span from another service,
an HTTP server span) is shown as a root.

    invoke_workflow answer                      1.204s  Σ 2 calls  1,530 tok  $0.000412
    ├─ retrieval kb                             0.051s
    └─ invoke_agent researcher                  1.150s  Σ 2 calls  1,530 tok  $0.000412
       ├─ chat gpt-4o-mini                      0.610s    812 tok  $0.000201
       └─ execute_tool search                   0.530s  Σ 1 call     718 tok  $0.000211
          └─ chat gpt-4o-mini                   0.520s    718 tok  $0.000211
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO


def label(call: Any) -> str:
    meta = call.metadata or {}
    if meta.get("span_name"):
        return str(meta["span_name"])
    return f"{call.operation} {call.request_model}" if call.request_model else call.operation


def _figures(call: Any) -> str:
    rollup = (call.metadata or {}).get("rollup")
    if call.total_tokens is not None or call.cost_usd is not None:
        tokens = f"{call.total_tokens:,} tok" if call.total_tokens is not None else "? tok"
        cost = f"${call.cost_usd:.6f}" if call.cost_usd is not None else "$?"
        return f"{tokens:>11}  {cost}"
    if rollup and rollup.get("calls"):
        n = rollup["calls"]
        cost = f"${rollup.get('cost_usd', 0.0):.6f}" + ("+?" if rollup.get("cost_unknown_calls") else "")
        return f"Σ {n} call{'s' if n != 1 else ' '}  {rollup.get('total_tokens', 0):,} tok  {cost}"
    return ""


def build(calls: Iterable[Any]) -> tuple[list[Any], dict[str, list[Any]]]:
    """(roots, children by parent span id), each list in start order."""
    calls = sorted(calls, key=lambda c: (c.start_time, c.record_id))
    ids = {c.span_id for c in calls if c.span_id}
    children: dict[str, list[Any]] = {}
    roots = []
    for c in calls:
        if c.parent_span_id and c.parent_span_id in ids and c.parent_span_id != c.span_id:
            children.setdefault(c.parent_span_id, []).append(c)
        else:
            roots.append(c)
    return roots, children


def write_tree(calls: Iterable[Any], highlight: str | None = None, out: TextIO | None = None) -> int:
    """Print the trace; the row ``highlight`` (a record id) is marked with ``*``. Returns rows printed."""
    out = out or sys.stdout
    roots, children = build(calls)
    lines: list[tuple[str, Any]] = []

    def walk(call: Any, prefix: str, branch: str, seen: frozenset[str]) -> None:
        lines.append((prefix + branch + label(call), call))
        kids = children.get(call.span_id or "", [])
        if call.span_id in seen:  # a cycle in bad data: never loop
            return
        seen = seen | {call.span_id}
        inner = prefix if not branch else prefix + ("   " if branch == "└─ " else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, inner, "└─ " if i == len(kids) - 1 else "├─ ", seen)

    for root in roots:
        walk(root, "", "", frozenset())
    width = min(max((len(text) for text, _ in lines), default=0) + 2, 80)
    for text, call in lines:
        mark = "*" if highlight and call.record_id == highlight else " "
        status = "" if call.status == "ok" else f"  [{call.error_type or call.status}]"
        out.write(f"{mark} {text:<{width}}{call.duration:>8.3f}s  {_figures(call)}{status}".rstrip() + "\n")
    return len(lines)
