"""Compose ``authored_f.jsonl`` (source ``authored-f``) from compose_authored_f_{1,2}.py.

    python tests/data/injection/compose_authored_f.py

User-channel messages per language: 12 attacks written as chat messages (system-prompt extraction,
tool hijack through the user's own tools, persona jailbreaks, markdown-image beacons, fake developer
codes, harmful requests in fiction/game framing), plus 3 ordinary tasks each followed by 6 hijacking
afterthoughts -> 30 attacks; benign: 12 look-alike messages (role-play and games, legitimate tool use,
"ignore"/"forget" in ordinary senses, questions about injection) plus the 3 tasks each followed by
6 ordinary afterthoughts -> 30. Written fresh for llmwatch in each language; deterministic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compose_authored_f_1 import F as F1  # noqa: E402
from compose_authored_f_2 import F as F2  # noqa: E402

ATTACK_FAMILY = ["exfiltration", "tool_hijack", "jailbreak", "tool_hijack", "exfiltration", "override", "exfiltration",
                 "jailbreak", "override", "tool_hijack", "exfiltration", "jailbreak"]
SUFFIX_FAMILY = ["exfiltration", "exfiltration", "jailbreak", "tool_hijack", "exfiltration", "override"]
BENIGN_FAMILY = ["roleplay_harmless", "cli_help", "quoted_phrase", "security_question", "tool_use", "tool_use", "task",
                 "roleplay_harmless", "security_question", "tool_use", "security_question", "roleplay_harmless"]


def rows() -> list[dict]:
    out = []

    def add(text: str, label: int, lang: str, family: str) -> None:
        out.append({"text": text, "label": label, "lang": lang, "family": family, "channel": "user",
                    "source": "authored-f"})

    for lang, d in {**F1, **F2}.items():
        sep = "" if lang in ("ja", "zh") else " "
        for t, fam in zip(d["attacks"], ATTACK_FAMILY):
            add(t, 1, lang, fam)
        for task in d["tasks"]:  # every task with every afterthought: the same task, hijacked or not
            for k, (bad, good) in enumerate(zip(d["hijack_suffix"], d["benign_suffix"])):
                add(task + sep + bad, 1, lang, SUFFIX_FAMILY[k])
                add(task + sep + good, 0, lang, "task")
        for t, fam in zip(d["benign"], BENIGN_FAMILY):
            add(t, 0, lang, fam)
    return out


if __name__ == "__main__":
    rs = rows()
    (HERE / "authored_f.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rs),
                                           encoding="utf-8")
    print(len(rs), "rows;", sum(r["label"] for r in rs), "attacks")
