"""A built wheel, installed into a fresh virtualenv, works away from the checkout.

An editable install (or running from the repository) hides files the wheel does not carry: a path
computed from ``__file__/..`` finds ``dashboards/json`` in a checkout and nothing in site-packages.
So this builds the wheel from a copy of just what the wheel is made of (``pyproject.toml``,
``README.md``, ``llmwatch/``), installs it with the ``openai`` extra into a new virtualenv without
system site-packages, and runs the commands a user would, from a folder outside the checkout.
Dependencies come from PyPI through pip's cache; it takes a minute or so, hence ``slow``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = {
    "llmwatch-overview": "llmwatch / Overview",
    "llmwatch-tokens-cost": "llmwatch / Tokens & cost",
    "llmwatch-quality-safety": "llmwatch / Quality & safety",
    "llmwatch-gpu": "llmwatch / GPU",
    "llmwatch-prompt-logs": "llmwatch / Prompt logs",
    "llmwatch-health": "llmwatch / llmwatch health",
}


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} exited {out.returncode}\n{out.stdout}\n{out.stderr}"
    return out


def _build_isolation_flag() -> list[str]:
    """Build with this interpreter's setuptools when it is new enough (no download, faster)."""
    try:
        import setuptools
    except ImportError:
        return []
    major = int(setuptools.__version__.split(".")[0])
    return ["--no-build-isolation"] if major >= 77 else []


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder of a fresh venv with the wheel + openai extra, a working folder outside the checkout, env)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", src)
    shutil.copy2(ROOT / "README.md", src)
    shutil.copytree(ROOT / "llmwatch", src / "llmwatch",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("OPENAI_", "LLMWATCH_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *_build_isolation_flag(), "-q", "-w", str(dist), str(src)],
         tmp, env)
    (wheel,) = dist.glob("llmwatch-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([str(bindir / "python"), "-m", "pip", "install", "-q", f"{wheel}[openai]"], tmp, env)
    work = tmp / "elsewhere"
    work.mkdir()
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return wheel, bindir, work, env


def test_the_wheel_carries_the_dashboards_and_alert_rules(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"llmwatch/artefacts/dashboards/{uid}.json" for uid in DASHBOARDS} <= names
    assert {"llmwatch/artefacts/alerts/llmwatch.rules.yml", "llmwatch/artefacts/alerts/thresholds.rules.yml"} <= names


def test_installed_package_is_not_the_checkout(installed):
    _, bindir, work, env = installed
    out = _run([str(bindir / "python"), "-c", "import llmwatch; print(llmwatch.__file__)"], work, env)
    assert not Path(out.stdout.strip()).resolve().is_relative_to(ROOT)


def test_dashboards_list_names_every_bundled_dashboard(installed):
    _, bindir, work, env = installed
    out = _run([str(bindir / "llmwatch"), "dashboards", "list"], work, env).stdout
    for uid, title in DASHBOARDS.items():
        assert f"{uid}\t{title}\t" in out, out


def test_bundled_alert_rules_are_readable_from_the_installed_package(installed):
    _, bindir, work, env = installed
    code = "from llmwatch import artefacts; print(artefacts.rule_file('llmwatch.rules.yml'))"
    out = _run([str(bindir / "python"), "-c", code], work, env).stdout
    assert "alert: LLMWatchErrorRateHigh" in out and "record: llmwatch:gen_ai_calls:rate5m" in out


def test_agent_check_accepts_a_config_file(installed):
    _, bindir, work, env = installed
    config = work / "agent.toml"
    config.write_text('host = "127.0.0.1"\nport = 0\ngpu_source = "fake"\nscoring = false\n')
    out = _run([str(bindir / "llmwatch"), "agent", "--config", str(config), "--check"], work, env)
    assert "configuration OK" in out.stdout


def test_demo_runs_a_small_workload_and_prints_its_summary(installed):
    _, bindir, work, env = installed
    out = _run([str(bindir / "llmwatch"), "demo", "--calls", "5", "--port", "0"], work, env, timeout=300).stdout
    assert "bundled simulator" in out
    assert "==> what llmwatch captured" in out
    assert "calls made by the app" in out and "LLM call spans" in out
    assert "cost (priced calls)" in out
