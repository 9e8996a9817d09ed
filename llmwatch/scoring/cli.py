"""``llmwatch score``: back-fill scores for stored calls (resumable: scored calls are skipped)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, cast

EPILOG = """examples:
  llmwatch score --since 7d                       (every scorer but toxicity/moderation needs nothing)
  llmwatch score --since 7d --scorer toxicity --toxicity-checkpoint /models/detoxify
  llmwatch score --since 1d --scorer injection --scorer pii --url postgresql+psycopg://...
  llmwatch score --since 30d --scorer embedding   (prompt embeddings for logs similar / clusters)"""


def register(subparsers: Any) -> None:
    from llmwatch.scoring import SCORERS

    p = subparsers.add_parser("score", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                              help="score stored calls (toxicity, moderation, injection, pii, validation, embedding)")
    p.add_argument("--url", help="store URL (default: LLMWATCH_STORE_URL, else the per-user SQLite file)")
    p.add_argument("--since", default="7d", help="calls started since: 1h, 7d, ISO 8601, epoch (default 7d)")
    p.add_argument("--scorer", dest="scorers", action="append", choices=SCORERS,
                   help="repeatable (default: injection, pii, validation; plus LLMWATCH_SCORERS)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--toxicity-checkpoint", help="local Detoxify checkpoint (offline installs)")
    p.add_argument("--toxicity-device", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _progress(total: int, stream: Any) -> Any:
    state = {"done": 0, "t0": time.monotonic()}

    def step(n: int) -> None:
        state["done"] += n
        done = state["done"]
        width = 30
        frac = min(1.0, done / total) if total else 1.0
        rate = done / max(1e-9, time.monotonic() - state["t0"])
        stream.write(f"\r  [{'#' * int(frac * width):<{width}}] {done}/{total} ({rate:.0f}/s)")
        stream.flush()

    return step


def run(args: argparse.Namespace) -> int:
    from llmwatch.cli import UsageError
    from llmwatch.config import Config, ConfigError
    from llmwatch.scoring import build_scorer
    from llmwatch.scoring.agent import backfill, pending
    from llmwatch.scoring.report import Reporter
    from llmwatch.store.timeparse import parse_time

    try:
        since = parse_time(args.since, "--since")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not 1 <= args.batch_size <= 4096:
        raise UsageError(f"--batch-size must be from 1 to 4096, got {args.batch_size}")
    overrides = {k: v for k, v in (("toxicity_checkpoint", args.toxicity_checkpoint),
                                   ("toxicity_device", args.toxicity_device)) if v}
    try:
        config = Config.resolve(overrides)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    names = args.scorers or list(config.scorers) or ["injection", "pii", "validation"]
    reporter = Reporter(None)
    for name in dict.fromkeys(names):
        scorer = build_scorer(name, config)
        if getattr(scorer, "time_budget", None) is not None:
            cast(Any, scorer).time_budget = None  # no batch timeout here: every call gets every stage
        total = pending(args.url, name, since)
        stage = getattr(scorer, "stage", None)
        print(f"{name}: {total} call(s) to score" + (f" ({stage})" if stage else ""), file=sys.stderr)
        step = None if args.quiet else _progress(total, sys.stderr)
        done = backfill(args.url, scorer, reporter, since, args.batch_size, step)
        if step is not None:
            print(file=sys.stderr)
        print(f"{name}: scored {done} call(s)")
        if name == "embedding":
            _refresh_index(args.url)
    return 0


def _refresh_index(url: str | None) -> None:
    """Bring the nearest-neighbour index up to date now, so the first ``logs similar`` does not wait for it."""
    from llmwatch.store import db
    from llmwatch.store.similar import index

    print("embedding: updating the similarity index", file=sys.stderr)
    ix = index(db.open_engine(url), url)
    print(f"embedding: index {ix.describe() if ix is not None else 'empty (no prompt text to embed)'}")
