#!/usr/bin/env python
"""Regenerate every generated artefact in the repository, in dependency order.

    python scripts/generate.py           # write what changed (and delete stale generated files)
    python scripts/generate.py --check   # write nothing; exit 1 and list the files that differ

In order, from one in-memory rendering (so the copies are byte-identical to their sources):

1. alert rules        alerts/*.py           -> alerts/rules/*.yml
2. dashboards         dashboards/src/*.py   -> dashboards/json/*.json
3. package data       1 + 2                 -> llmwatch/artefacts/{alerts,dashboards}/ (what a wheel ships)
4. Helm chart copies  1 + 2 + exporters/otel-collector/collector.yaml -> helm/llmwatch/files/
5. README tables      2 + alerts/*.py       -> README.md (the panel and alert tables only)
6. reference          llmwatch/names.py + llmwatch/config.py -> docs/reference.md

The generators live outside the package on purpose: they need grafana-foundation-sdk and PyYAML
(test extras), and an installed llmwatch only ever reads their output, never regenerates it.
``tests/test_dashboards.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import gen_reference  # noqa: E402
from alerts import generate as alerts_gen  # noqa: E402
from dashboards import generate as dashboards_gen  # noqa: E402
from helm import generate as helm_gen  # noqa: E402

PACKAGE = ROOT / "llmwatch" / "artefacts"
README = ROOT / "README.md"
# Folders holding nothing but generated files: a file there that is no longer generated is stale.
OWNED = (alerts_gen.RULES_DIR, dashboards_gen.JSON_DIR, PACKAGE / "alerts", PACKAGE / "dashboards", helm_gen.FILES)


def outputs() -> dict[Path, str]:
    """Every generated file's path -> its expected content."""
    rules = alerts_gen.render()
    dashboards = dashboards_gen.dashboard_files()
    files: dict[Path, str] = {}
    files |= {alerts_gen.RULES_DIR / name: text for name, text in rules.items()}
    files |= {dashboards_gen.JSON_DIR / name: text for name, text in dashboards.items()}
    files |= {PACKAGE / "alerts" / name: text for name, text in rules.items()}
    files |= {PACKAGE / "dashboards" / name: text for name, text in dashboards.items()}
    files |= helm_gen.copies(rules, dashboards)
    files[README] = dashboards_gen.docs_text(README.read_text())
    files[gen_reference.OUTPUT] = gen_reference.render()
    return files


def differences(expected: dict[Path, str]) -> tuple[list[Path], list[Path]]:
    """(files missing or with other content, files in an OWNED folder that nothing generates)."""
    changed = [p for p, text in expected.items() if not p.is_file() or p.read_text() != text]
    present = {p for folder in OWNED if folder.is_dir() for p in folder.rglob("*") if p.is_file()}
    extra = sorted(present - set(expected))
    return changed, extra


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/generate.py", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on any difference")
    args = ap.parse_args(argv)
    expected = outputs()
    changed, extra = differences(expected)
    if args.check:
        for p in changed:
            print(f"differs: {p.relative_to(ROOT)}")
        for p in extra:
            print(f"not generated any more: {p.relative_to(ROOT)}")
        if changed or extra:
            print(f"{len(changed) + len(extra)} generated file(s) out of date: run python scripts/generate.py",
                  file=sys.stderr)
            return 1
        return 0
    for p in extra:
        p.unlink()
        print(f"deleted {p.relative_to(ROOT)}")
    for p in changed:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(expected[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
