"""The generated artefacts the installed program ships: Grafana dashboards and Prometheus rules.

They are package data, read through :mod:`importlib.resources`, so they are there in a wheel as in
a checkout. ``scripts/generate.py`` writes them (with the committed copies under ``dashboards/``,
``alerts/`` and ``helm/``), and ``scripts/generate.py --check``, which the tests run, fails when
any copy drifts from its source.

    >>> from llmwatch import artefacts
    >>> sorted(d["uid"] for d in artefacts.dashboards())[:1]
    ['llmwatch-gpu']
    >>> "LLMWatchErrorRateHigh" in artefacts.rule_file("llmwatch.rules.yml")
    True
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importlib.resources.abc is 3.11+; only the annotations need it
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["dashboard_files", "dashboards", "rule_file", "rule_files"]

DASHBOARDS_DIR = "dashboards"
ALERTS_DIR = "alerts"


def _folder(name: str) -> Traversable:
    return resources.files(__name__).joinpath(name)


def _files(name: str, suffix: str) -> dict[str, Traversable]:
    folder = _folder(name)
    if not folder.is_dir():
        return {}
    return {f.name: f for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(suffix)}


def dashboard_files() -> dict[str, str]:
    """File name -> Grafana dashboard JSON text, for every bundled dashboard."""
    return {name: f.read_text(encoding="utf-8") for name, f in _files(DASHBOARDS_DIR, ".json").items()}


def dashboards() -> list[dict[str, Any]]:
    """The bundled Grafana dashboards, parsed, in file-name order."""
    return [json.loads(text) for text in dashboard_files().values()]


def rule_files() -> dict[str, str]:
    """File name -> Prometheus rule file text (``llmwatch.rules.yml``, ``thresholds.rules.yml``)."""
    return {name: f.read_text(encoding="utf-8") for name, f in _files(ALERTS_DIR, ".yml").items()}


def rule_file(name: str) -> str:
    """One bundled rule file's text; ``KeyError`` names the files there are."""
    files = rule_files()
    if name not in files:
        raise KeyError(f"no bundled rule file {name!r}; there are {sorted(files)}")
    return files[name]
