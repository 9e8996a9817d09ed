"""Throughput of the rule-based scorers (injection detector, PII redactor) on the labelled set.

    python bench/scoring_rules.py

Single thread, CPU; texts/s from the injection evaluation set (tests/data) repeated 20 times.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from llmwatch.scoring.injection import RuleDetector

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    path = next(DATA.glob("injection*.json*"))
    raw = path.read_text()
    rows = [json.loads(line) for line in raw.splitlines() if line.strip()] if path.suffix == ".jsonl" else json.loads(raw)
    texts = [r["text"] + " " + " ".join(r.get("context", [])) for r in rows] * 20
    det = RuleDetector()
    t0 = time.perf_counter()
    for t in texts:
        det.detect(t)
    print(f"injection rules: {len(texts) / (time.perf_counter() - t0):,.0f} texts/s over {len(texts)} texts")


if __name__ == "__main__":
    main()
