"""``llmwatch logs ...``: query, show, tail, stats, compare, similar, clusters, flag, feedback, export, prune.

Bad values raise :class:`llmwatch.cli.UsageError` (exit code 2) with a message that names the
accepted form; an unknown call id exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from llmwatch.options import DURATION_FORM
from llmwatch.record import short_id
from llmwatch.store.timeparse import parse_duration

_FILTER_DESTS = ("since", "until", "model", "response_model", "provider", "operation", "status", "error_type",
                 "min_duration", "max_duration", "min_tokens", "max_tokens", "min_cost", "max_cost", "text",
                 "session", "conversation", "user", "template", "template_version", "prompt_hash", "trace_id",
                 "tags", "flagged", "scores", "min_toxicity", "flagged_by", "injection")
EPILOG = """examples:
  llmwatch logs query --since 1d --model gpt-4o --text refund --sort=-duration --limit 20
  llmwatch logs query --status error --format jsonl
  llmwatch logs show 3f2a9c1b
  llmwatch logs tail -f --model 'gpt-4o*'
  llmwatch logs stats --since 1d --by model
  llmwatch logs compare 3f2a9c1b            (or --template support-reply --version 3)
  llmwatch logs similar 3f2a9c1b --limit 5  (prompts that mean the same, in any language)
  llmwatch logs query --like "refund for a damaged item" --since 7d
  llmwatch logs clusters --since 7d --status error
  llmwatch logs flag 3f2a9c1b --label weak-prompt --note "ambiguous instruction"
  llmwatch logs feedback 3f2a9c1b --score -1
  llmwatch logs export --flagged --format argilla --output flagged.jsonl
  llmwatch logs prune --older-than 30d"""


def _usage_error(msg: str) -> Exception:
    from llmwatch.cli import UsageError

    return UsageError(msg)


def _seconds(what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return parse_duration(text, what)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected {DURATION_FORM}") from None
    return parse


def _number(what: str, cast: Callable[[str], Any] = float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            form = "a whole number" if cast is int else "a number"
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected {form}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected a number >= 0")
        return value
    return parse


def _add_filters(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters")
    g.add_argument("--since", help="start of the window: 1h, 7d (ago), today, yesterday, ISO 8601, epoch")
    g.add_argument("--until", help="end of the window (same forms as --since)")
    g.add_argument("--model", help="request model; * is a wildcard (gpt-4o*)")
    g.add_argument("--response-model", help="response model")
    g.add_argument("--provider")
    g.add_argument("--operation", help="chat, embeddings, text_completion, ...")
    g.add_argument("--status", choices=("ok", "error"))
    g.add_argument("--error-type", help="e.g. RateLimitError, timeout")
    g.add_argument("--min-latency", dest="min_duration", type=_seconds("--min-latency"), help="e.g. 2s, 500ms")
    g.add_argument("--max-latency", dest="max_duration", type=_seconds("--max-latency"))
    g.add_argument("--min-tokens", type=_number("--min-tokens", int), help="input + output tokens")
    g.add_argument("--max-tokens", type=_number("--max-tokens", int))
    g.add_argument("--min-cost", type=_number("--min-cost"), help="US dollars")
    g.add_argument("--max-cost", type=_number("--max-cost"))
    g.add_argument("--text", help='full-text search: words and "quoted phrases", all must appear')
    g.add_argument("--session")
    g.add_argument("--conversation")
    g.add_argument("--user")
    g.add_argument("--template", help="prompt template name")
    g.add_argument("--template-version")
    g.add_argument("--prompt-hash")
    g.add_argument("--trace", dest="trace_id")
    g.add_argument("--tag", dest="tags", action="append", default=[], help="repeat for several (all must match)")
    g.add_argument("--flagged", nargs="?", const=True, default=None, metavar="LABEL",
                   help="only flagged calls (optionally with this label)")
    g.add_argument("--score", dest="scores", action="append", default=[], metavar="NAME>VALUE",
                   help="score threshold, e.g. toxicity>0.8 (repeatable)")
    g.add_argument("--min-toxicity", type=_number("--min-toxicity"), metavar="SCORE",
                   help="a toxicity score (prompt or completion) at least this, 0-1")
    g.add_argument("--flagged-by", dest="flagged_by", action="append", default=[], metavar="SCORER",
                   help="calls a scorer flagged: moderation, toxicity, injection, pii, validation (repeatable)")
    g.add_argument("--injection", action="store_true", default=None, help="calls with a detected prompt injection")


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in _FILTER_DESTS if getattr(args, k, None) not in (None, [])}


def _fmt_arg(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json", "jsonl", "csv")) -> None:
    p.add_argument("--format", choices=choices, default="table")


def register(subparsers: Any) -> None:
    """Add ``logs`` and its sub-commands to the ``llmwatch`` parser."""
    logs = subparsers.add_parser("logs", help="query the prompt log (every stored call)", epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    logs.add_argument("--url", help="store URL (default: LLMWATCH_STORE_URL, else the per-user SQLite file)")
    logs.set_defaults(func=lambda a: (logs.print_help(), 2)[1])
    sub = logs.add_subparsers(dest="logs_command", metavar="SUBCOMMAND")

    p = sub.add_parser("query", help="list calls matching filters")
    _add_filters(p)
    p.add_argument("--sort", default="-start_time", help="start_time, duration, cost_usd, total_tokens, ...; "
                   "prefix - for descending, written --sort=-duration (default -start_time)")
    p.add_argument("--limit", type=_number("--limit", int), default=50)
    p.add_argument("--cursor", help="next_cursor printed by the previous page")
    p.add_argument("--like", metavar="TEXT", help="order by similarity of meaning to TEXT (any language); "
                   "filters still apply")
    _fmt_arg(p)
    p.set_defaults(func=_run(_query))

    from llmwatch.store import similar_cli

    similar_cli.register(sub)

    p = sub.add_parser("show", help="one call in full, with the rest of its trace")
    p.add_argument("id", help="record id or a unique prefix (6+ hex digits)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--tree", action="store_true",
                   help="print the whole trace as an indented tree: duration, tokens and cost per node")
    p.set_defaults(func=_run(_show))

    p = sub.add_parser("tail", help="the latest calls; -f follows new ones")
    _add_filters(p)
    p.add_argument("-n", type=_number("-n", int), default=10, help="calls to show first (default 10)")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--interval", type=_seconds("--interval"), default=1.0, help="poll interval with -f")
    p.add_argument("--format", choices=("table", "jsonl"), default="table")
    p.set_defaults(func=_run(_tail))

    p = sub.add_parser("stats", help="count, error rate, p50/p95/p99 latency, tokens, cost per group")
    _add_filters(p)
    from llmwatch.store.analysis import GROUP_KEYS

    p.add_argument("--by", choices=tuple(GROUP_KEYS), default="model")
    p.add_argument("--exact", action="store_true",
                   help="exact percentiles from every call (default: the hourly rollup where it applies, "
                        "bucket-interpolated percentiles)")
    _fmt_arg(p)
    p.set_defaults(func=_run(_stats), since="1d")

    p = sub.add_parser("compare", help="outputs of different models for the same prompt, side by side")
    p.add_argument("id", nargs="?", help="a call whose prompt to compare")
    p.add_argument("--prompt-hash")
    p.add_argument("--template")
    p.add_argument("--version", dest="template_version")
    p.add_argument("--since")
    p.add_argument("--limit", type=_number("--limit", int), default=5, help="prompt groups (default 5)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_run(_compare))

    p = sub.add_parser("flag", help="flag a call for later (e.g. a weak prompt)")
    p.add_argument("id")
    p.add_argument("--label", required=True)
    p.add_argument("--note")
    p.add_argument("--author")
    p.set_defaults(func=_run(_flag))

    p = sub.add_parser("feedback", help="record user feedback on a call")
    p.add_argument("id")
    p.add_argument("--score", required=True, type=_signed("--score"), help="e.g. 1 / -1 or a 1-5 rating")
    p.add_argument("--comment")
    p.add_argument("--author")
    p.set_defaults(func=_run(_feedback))

    p = sub.add_parser("export", help="write calls as JSONL, or as Argilla records for annotation")
    _add_filters(p)
    p.add_argument("--format", choices=("jsonl", "argilla"), default="jsonl")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=_run(_export))

    p = sub.add_parser("prune", help="delete calls older than a duration")
    p.add_argument("--older-than", required=True, type=_seconds("--older-than"), help="e.g. 30d")
    p.set_defaults(func=_run(_prune))


def _signed(what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected a number, e.g. 1, -1 or 4") from None
    return parse


def _run(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        from llmwatch.store.db import StoreError
        from llmwatch.store.query import QueryError

        try:
            return fn(args)
        except (QueryError, StoreError) as exc:
            raise _usage_error(str(exc)) from None
        except LookupError as exc:
            print(f"llmwatch logs: {exc.args[0]}", file=sys.stderr)
            return 1
    return wrapped


def _query(args: argparse.Namespace) -> int:
    from llmwatch.store.query import query
    from llmwatch.store.render import write_calls

    if args.limit < 1:
        raise _usage_error(f"invalid --limit {args.limit}: expected a positive whole number")
    if args.like is not None:
        from llmwatch.store.similar_cli import like_query

        return like_query(args)
    page = query(args.url, sort=args.sort, limit=args.limit, cursor=args.cursor, **_filters(args))
    write_calls(page, args.format)
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from llmwatch.store.query import get
    from llmwatch.store.records import _iso

    d = get(args.id, url=args.url)
    if getattr(args, "tree", False) and args.format == "table":
        from llmwatch.store.tree import write_tree

        write_tree([d.call, *d.trace], highlight=d.call.record_id)
        return 0
    if args.format == "json":
        print(json.dumps(d.to_json(), indent=2, default=str))
        return 0
    c = d.call
    for key, value in c.to_json().items():
        if key in ("system_instructions", "input_messages", "output_messages") or value in (None, [], {}):
            continue
        print(f"{key:24} {json.dumps(value) if isinstance(value, (list, dict)) else value}")
    for title, content in (("system", c.system_instructions), ("prompt", c.input_messages),
                           ("output", c.output_messages)):
        if content:
            print(f"\n--- {title} ---")
            for msg in content:
                if isinstance(msg, dict) and "role" in msg:
                    from llmwatch.store.rows import content_text
                    print(f"[{msg['role']}] {content_text(msg.get('parts', msg.get('content')))}")
                else:
                    print(json.dumps(msg))
    if d.annotations:
        print("\n--- annotations ---")
        for a in d.annotations:
            print(f"{_iso(a.created_at)}  {a.kind:8} {a.label or ''} {'' if a.value is None else a.value} "
                  f"{a.note or ''}".rstrip())
    if d.trace:
        print(f"\n--- trace {c.trace_id}: {len(d.trace)} other call(s) ---")
        for t in d.trace:
            print(f"{_iso(t.start_time)}  {short_id(t.record_id)}  span {t.span_id}  parent {t.parent_span_id}  "
                  f"{t.operation} {t.request_model} {t.status} {t.duration:.3f}s")
    return 0


def _tail(args: argparse.Namespace) -> int:
    from llmwatch.store.query import Follower, query
    from llmwatch.store.render import write_calls

    filters = _filters(args)
    first = list(reversed(query(args.url, limit=max(args.n, 1), **filters))) if args.n else []
    write_calls(first, args.format)
    sys.stdout.flush()
    last = max((c.id for c in first), default=0)
    if not first and args.follow:
        latest = query(args.url, limit=1)
        last = latest[0].id if latest else 0
    follower = Follower(args.url, after=last, **filters) if args.follow else None
    while follower is not None:
        time.sleep(args.interval)
        new = follower.poll()
        for c in new:
            _print_row(c, args.format)
        if new:
            sys.stdout.flush()
    return 0


def _print_row(c: Any, fmt: str) -> None:
    from llmwatch.store.render import _TABLE, _cells, _short

    if fmt == "jsonl":
        print(json.dumps(c.to_json(), default=str))
    else:
        print("  ".join(_short(v, w or 80).ljust(w or 0) for v, (_, w) in zip(_cells(c), _TABLE)).rstrip())


def _stats(args: argparse.Namespace) -> int:
    from llmwatch.store.analysis import aggregate
    from llmwatch.store.render import write_rows

    rows = aggregate(args.url, by=args.by, exact=args.exact, **_filters(args))
    write_rows(rows, args.format)
    if rows:
        how = ("hourly rollup + exact edge hours; percentiles bucket-interpolated (--exact for exact ones)"
               if rows[0]["source"] != "exact" else "exact, from every call")
        print(f"stats: {how}", file=sys.stderr)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from llmwatch.store.analysis import compare
    from llmwatch.store.render import side_by_side

    groups = compare(args.url, record_id=args.id, prompt_hash=args.prompt_hash, template=args.template,
                     template_version=args.template_version, since=args.since, limit=max(args.limit, 1))
    if args.format == "json":
        print(json.dumps([{**g, "answers": {m: c.to_json() for m, c in g["answers"].items()}} for g in groups],
                         indent=2, default=str))
        return 0
    if not groups:
        print("(no calls for that prompt)")
    for g in groups:
        print(f"prompt {g['prompt_hash']}" + (f"  template {g['template']} v{g['template_version']}"
                                               if g["template"] else ""))
        print("  " + " ".join(g["prompt"].split())[:300])
        side_by_side({f"{m} ({c.duration:.2f}s)": c.output_text for m, c in g["answers"].items()})
        print()
    return 0


def _flag(args: argparse.Namespace) -> int:
    from llmwatch.store.annotate import flag

    rid = flag(args.id, args.label, note=args.note, author=args.author, url=args.url)
    print(f"flagged {rid} as {args.label}")
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from llmwatch.store.annotate import feedback

    rid = feedback(args.id, args.score, comment=args.comment, author=args.author, url=args.url)
    print(f"feedback {args.score:g} recorded for {rid}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from llmwatch.store.export import export

    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            n = export(out, args.format, args.url, progress=args.progress, **_filters(args))
        print(f"exported {n} call(s) to {args.output}", file=sys.stderr)
    else:
        export(sys.stdout, args.format, args.url, progress=args.progress, **_filters(args))
    return 0


def _prune(args: argparse.Namespace) -> int:
    from llmwatch.store import db
    from llmwatch.store.maintenance import prune

    n = prune(db.open_engine(args.url), older_than=args.older_than)
    print(f"deleted {n} call(s) older than {args.older_than:g}s")
    return 0
