"""The package describes itself as it is: current packaging metadata, no history in its docstrings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_licence_is_an_spdx_expression_not_the_deprecated_table():
    """``license = {text = ...}`` made every install print setuptools' deprecation banner."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str) and project["project"]["license"] == "Apache-2.0"
    requires = " ".join(project["build-system"]["requires"])
    assert re.search(r"setuptools>=(7[7-9]|[89]\d|\d{3})", requires), requires  # SPDX strings need setuptools 77


def test_the_code_does_not_narrate_its_history():
    """Docstrings and comments say what the code does, not which issue added it or what will land."""
    history = re.compile(r"\bissue \d+\b|\(issue\b|once that lands|\bwill land\b", re.IGNORECASE)
    offenders = [f"{path.relative_to(ROOT)}:{no}: {line.strip()}"
                 for path in sorted((ROOT / "llmwatch").rglob("*.py"))
                 for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if history.search(line)]
    offenders += [f"pyproject.toml:{no}: {line.strip()}"
                  for no, line in enumerate((ROOT / "pyproject.toml").read_text().splitlines(), 1)
                  if history.search(line)]
    assert not offenders, "\n".join(offenders)


def test_the_package_ships_its_type_information():
    assert (ROOT / "llmwatch" / "py.typed").is_file()


def test_the_readme_layout_table_names_every_package_and_top_level_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Repository layout"):]
    table = table[: table.find("\n## ", 10)] if "\n## " in table[10:] else table
    package = ROOT / "llmwatch"
    parts = [p.name for p in package.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")]
    missing = [name for name in sorted(parts) if name.removesuffix(".py") not in table]
    assert not missing, f"README 'Repository layout' does not mention: {missing}"
