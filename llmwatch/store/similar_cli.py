"""``llmwatch logs similar``, ``logs clusters`` and ``logs query --like``: the prompt log searched by meaning."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from llmwatch.store.cli import _add_filters, _filters, _fmt_arg, _number, _run, _usage_error


def register(sub: Any) -> None:
    """Add ``similar`` and ``clusters`` to the ``logs`` sub-commands."""
    p = sub.add_parser("similar", help="calls whose prompts mean the same as a call's, in any language")
    p.add_argument("id", help="record id or a unique prefix (6+ hex digits)")
    _add_filters(p)
    p.add_argument("--limit", type=_number("--limit", int), default=10)
    _fmt_arg(p)
    p.set_defaults(func=_run(_similar))

    p = sub.add_parser("clusters", help="calls grouped by meaning: size, error rate, cost, a representative prompt, "
                                        "flags")
    _add_filters(p)
    p.add_argument("--k", type=_number("--k", int), help="number of clusters (default round(sqrt(calls / 2)), "
                                                         "at most 50)")
    p.add_argument("--sample", type=_number("--sample", int), default=5, help="member ids shown per cluster")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_run(_clusters), since="7d")


def like_query(args: argparse.Namespace) -> int:
    """``logs query --like TEXT``: one page ordered by similarity, the other filters still applied."""
    from llmwatch.store.similar import like

    if args.cursor or args.sort != "-start_time":
        raise _usage_error("--like orders by similarity and returns one page: drop --sort and --cursor")
    _write_matches(like(args.like, args.url, limit=args.limit, **_filters(args)), args.format)
    return 0


def _write_matches(matches: Any, fmt: str) -> None:
    from llmwatch.store.render import write_matches

    write_matches(matches, fmt)
    print(f"similarity: {matches.path}" + (f"; {matches.note}" if matches.note else ""), file=sys.stderr)


def _similar(args: argparse.Namespace) -> int:
    from llmwatch.store.similar import similar

    _write_matches(similar(args.id, args.url, limit=args.limit, **_filters(args)), args.format)
    return 0


def _clusters(args: argparse.Namespace) -> int:
    from llmwatch.store.clusters import clusters
    from llmwatch.store.render import write_clusters

    filters = _filters(args)
    report = clusters(args.url, since=filters.pop("since", "7d"), k=args.k, sample=args.sample, **filters)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        write_clusters(report)
    print(f"clusters: {report.calls} call(s) in {report.k} cluster(s), {report.seconds:.2f}s"
          + (f"; {report.note}" if report.note else ""), file=sys.stderr)
    return 0
