"""Printing calls: ``table`` for people; ``json``, ``jsonl`` and ``csv`` (column names) for tools."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sys
import textwrap
import time
from collections.abc import Iterable
from typing import Any, TextIO

from llmwatch.record import short_id
from llmwatch.store.records import StoredCall

FORMATS = ("table", "json", "jsonl", "csv")
_TABLE = (("time", 19), ("id", 8), ("model", 18), ("status", 6), ("latency", 8), ("tokens", 7),
          ("cost", 9), ("prompt", 0))


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: max(0, n - 1)] + "…"


def _cells(c: StoredCall) -> list[str]:
    when = dt.datetime.fromtimestamp(c.start_time, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    status = "ok" if c.status == "ok" else (c.error_type or c.status)
    cost = "?" if c.cost_usd is None else f"${c.cost_usd:.5f}"
    tokens = "" if c.total_tokens is None else f"{c.total_tokens}{'~' if c.tokens_estimated else ''}"
    return [when, short_id(c.record_id), c.model or "", status, f"{c.duration:.3f}s", tokens, cost, c.prompt_text]


def _json_default(value: Any) -> Any:
    return str(value)


def write_calls(calls: Iterable[StoredCall], fmt: str, out: TextIO | None = None) -> int:
    """Write ``calls`` in ``fmt``; returns how many were written."""
    out = sys.stdout if out is None else out
    n = 0
    if fmt == "table":
        width = shutil.get_terminal_size((160, 20)).columns
        fixed = sum(w + 2 for _, w in _TABLE[:-1])
        prompt_w = max(20, width - fixed)
        out.write("  ".join(h.ljust(w or prompt_w) for h, w in _TABLE).rstrip() + "\n")
        for c in calls:
            cells = _cells(c)
            out.write("  ".join(_short(v, w or prompt_w).ljust(w or 0) for v, (_, w) in zip(cells, _TABLE)).rstrip()
                      + "\n")
            n += 1
    elif fmt == "json":
        out.write(json.dumps([c.to_json() for c in calls], indent=2, default=_json_default) + "\n")
        n = -1
    elif fmt == "jsonl":
        for c in calls:
            out.write(json.dumps(c.to_json(), default=_json_default) + "\n")
            n += 1
    elif fmt == "csv":
        writer = None
        for c in calls:
            row = c.to_json()
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: json.dumps(v, default=_json_default) if isinstance(v, (list, dict)) else v
                             for k, v in row.items()})
            n += 1
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return n


def write_matches(matches: Iterable[Any], fmt: str, out: TextIO | None = None) -> None:
    """``similar`` / ``like`` results (:class:`~llmwatch.store.similar.Match`): the call table with a
    similarity column first; the JSON forms add a ``similarity`` key to each call."""
    out = sys.stdout if out is None else out
    matches = list(matches)
    if fmt != "table":
        rows = [m.to_json() for m in matches]
        if fmt == "json":
            out.write(json.dumps(rows, indent=2, default=_json_default) + "\n")
        elif fmt == "jsonl":
            out.writelines(json.dumps(r, default=_json_default) + "\n" for r in rows)
        elif fmt == "csv" and rows:
            w = csv.DictWriter(out, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows({k: json.dumps(v, default=_json_default) if isinstance(v, (list, dict)) else v
                         for k, v in r.items()} for r in rows)
        return
    table = (("sim", 5), *_TABLE)
    prompt_w = max(20, shutil.get_terminal_size((160, 20)).columns - sum(w + 2 for _, w in table[:-1]))
    out.write("  ".join(h.ljust(w or prompt_w) for h, w in table).rstrip() + "\n")
    for m in matches:
        cells = [f"{m.similarity:.3f}", *_cells(m.call)]
        out.write("  ".join(_short(v, w or prompt_w).ljust(w or 0) for v, (_, w) in zip(cells, table)).rstrip() + "\n")


def write_clusters(report: Any, out: TextIO | None = None) -> None:
    """A :class:`~llmwatch.store.clusters.ClusterReport` for people: one block per cluster, largest first."""
    out = sys.stdout if out is None else out
    if not report.clusters:
        out.write("(no calls to cluster)\n")
    for i, c in enumerate(report.clusters, 1):
        cost = f"${c.cost_usd:.5f}" + (f" (+{c.unknown_cost} unpriced)" if c.unknown_cost else "")
        flagged = ", ".join(f"{k} x{v}" for k, v in c.flags.items()) or "none"
        out.write(f"#{i:<3} {c.size} call(s)  errors {c.error_rate:.0%} ({c.errors})  cost {cost}  "
                  f"cohesion {c.cohesion:.3f}  flags {flagged}\n")
        out.write(f"     \"{_short(c.representative, 150)}\"\n")
        out.write(f"     ids {' '.join(short_id(r) for r in c.record_ids)}\n")


def write_rows(rows: list[dict[str, Any]], fmt: str, out: TextIO | None = None) -> None:
    """Write plain dict rows (stats) as a table, JSON, JSONL or CSV."""
    out = sys.stdout if out is None else out
    if fmt == "json":
        out.write(json.dumps(rows, indent=2, default=_json_default) + "\n")
    elif fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(r, default=_json_default) + "\n")
    elif fmt == "csv":
        if rows:
            w = csv.DictWriter(out, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        if not rows:
            out.write("(no calls)\n")
            return
        cols = list(rows[0])
        text = [[_fmt(r[c]) for c in cols] for r in rows]
        widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(cols)]
        out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
        for t in text:
            out.write("  ".join(v.ljust(w) for v, w in zip(t, widths)).rstrip() + "\n")


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def side_by_side(columns: dict[str, str], out: TextIO | None = None) -> None:
    """Print texts in columns headed by their keys (``compare``)."""
    out = sys.stdout if out is None else out
    width = shutil.get_terminal_size((160, 20)).columns
    n = max(1, len(columns))
    colw = max(20, (width - 3 * (n - 1)) // n)
    wrapped = [[k[:colw]] + ["-" * min(colw, max(len(k), 3))] +
               [line for para in (v or "").splitlines() or [""] for line in textwrap.wrap(para, colw) or [""]]
               for k, v in columns.items()]
    height = max(len(w) for w in wrapped) if wrapped else 0
    for i in range(height):
        out.write(" | ".join((w[i] if i < len(w) else "").ljust(colw) for w in wrapped).rstrip() + "\n")


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, or when forced)."""

    def __init__(self, total: int, label: str, enabled: bool | None = None, out: TextIO | None = None) -> None:
        out = sys.stderr if out is None else out
        self.total, self.label, self.out = max(total, 1), label, out
        self.enabled = out.isatty() if enabled is None else enabled
        self.done = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            self.out.write(f"\r{self.label} [{bar:<30}] {self.done}/{self.total} ({frac:.0%})")
            self.out.flush()

    def finish(self) -> None:
        if self.enabled:
            self.out.write("\n")
            self.out.flush()
