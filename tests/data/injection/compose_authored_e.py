"""Compose ``authored_e.jsonl`` (source ``authored-e``) from the hand-written parts in compose_authored_e_{1,2}.py.

    python tests/data/injection/compose_authored_e.py

Per language: 10 planted instructions (4 tool hijacks, 3 exfiltration, 3 overrides addressed to the AI)
each placed into 3 of 8 ordinary carriers (email, web page, tool JSON, code comment, file metadata,
review, wiki page, calendar entry) at the start, middle or end -> 30 attacks (context channel); benign:
the 8 carriers clean, 9 carriers with an ordinary instruction to the *reader* ("reply by Friday"),
9 look-alike pages (imperative UI text, recipes/how-tos, articles quoting attacks, runbooks) and
5 user messages (harmless role-play, a security question, a request to write an email) -> 31.
Written fresh for llmwatch in each language (not translated sentence by sentence); deterministic.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compose_authored_e_1 import E as E1  # noqa: E402
from compose_authored_e_2 import E as E2  # noqa: E402

CARRIER_FAMILY = ["document", "web_page", "tool_result", "code", "metadata", "document", "document", "document"]
LOOK_FAMILY = ["web_page"] * 3 + ["howto"] * 2 + ["doc_about_injection"] * 2 + ["sysadmin"] * 2
USER_FAMILY = ["roleplay_harmless"] * 3 + ["security_question", "task"]


def plant(carrier: str, sentence: str, where: str, lang: str = "en") -> str:
    sep = "\n" if "\n" in carrier else ("" if lang in ("ja", "zh") else " ")
    parts = carrier.split("\n") if sep == "\n" else re.split(r"(?<=[.!?。！？])\s*", carrier)
    parts = [p for p in parts if p]
    i = {"start": 0, "middle": max(1, len(parts) // 2), "end": len(parts)}[where]
    return sep.join(parts[:i] + [sentence] + parts[i:])


def rows() -> list[dict]:
    out = []
    for lang, d in {**E1, **E2}.items():
        rng = random.Random(f"authored-e:{lang}")
        planted = ([(s, "tool_hijack") for s in d["inject_tool"]] + [(s, "exfiltration") for s in d["inject_exfil"]]
                   + [(s, "indirect") for s in d["inject_override"]])
        carriers = d["carriers"]
        for k, (sent, fam) in enumerate(planted):
            for j, where in enumerate(("start", "middle", "end")):
                c = carriers[(k * 3 + j + rng.randrange(2)) % len(carriers)]
                out.append({"text": plant(c, sent, where, lang), "label": 1, "lang": lang, "family": fam,
                            "channel": "context", "source": "authored-e"})
        for c, fam in zip(carriers, CARRIER_FAMILY):
            out.append({"text": c, "label": 0, "lang": lang, "family": fam, "channel": "context",
                        "source": "authored-e"})
        for k, sent in enumerate(d["benign_instructions"]):
            for j in range(3):
                c = carriers[(k * 3 + j) % len(carriers)]
                out.append({"text": plant(c, sent, ("end", "middle", "start")[j], lang), "label": 0, "lang": lang,
                            "family": "document", "channel": "context", "source": "authored-e"})
        for t, fam in zip(d["lookalikes_context"], LOOK_FAMILY):
            out.append({"text": t, "label": 0, "lang": lang, "family": fam, "channel": "context",
                        "source": "authored-e"})
        for t, fam in zip(d["lookalikes_user"], USER_FAMILY):
            out.append({"text": t, "label": 0, "lang": lang, "family": fam, "channel": "user",
                        "source": "authored-e"})
    return out


if __name__ == "__main__":
    rs = rows()
    (HERE / "authored_e.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs),
                                           encoding="utf-8")
    print(len(rs), "rows;", sum(r["label"] for r in rs), "attacks")
