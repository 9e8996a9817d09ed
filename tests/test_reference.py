"""docs/reference.md is generated from llmwatch/names.py and llmwatch/config.py and never drifts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from llmwatch import names
from llmwatch.config import Config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gen_reference", None)


def test_reference_doc_matches_a_fresh_regeneration(gen):
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == gen.render(), "docs/reference.md is stale: run python scripts/generate.py"


def test_every_attribute_constant_in_names_is_described(gen):
    declared = gen.attribute_constants()
    missing = {const: key for const, key in declared.items() if key not in gen.ATTRIBUTES}
    assert not missing, f"names.py attributes with no row in scripts/gen_reference.py ATTRIBUTES: {missing}"


def test_reference_describes_no_attribute_names_py_lacks(gen):
    stale = set(gen.ATTRIBUTES) - set(gen.attribute_constants().values())
    assert not stale, f"ATTRIBUTES rows for keys names.py no longer declares: {stale}"


def test_status_follows_the_namespace(gen):
    for key, attr in gen.ATTRIBUTES.items():
        assert (attr.status == "llmwatch") == key.startswith("llmwatch."), key


def test_every_metric_label_attribute_is_marked_as_a_label(gen):
    for spec in names.ALL_METRICS:
        for key in spec.attributes:
            assert gen.ATTRIBUTES[key].where in ("metric", "span+metric"), (spec.otel_name, key)


def test_every_metric_and_option_appears(gen):
    text = gen.render()
    for spec in names.ALL_METRICS:
        assert f"`{spec.prom_name}`" in text and f"`{spec.otel_name}`" in text
    for field in Config.options():
        assert f"`{field.name}`" in text and field.metadata["doc"] in text


def test_every_agent_option_appears_with_its_environment_variable(gen):
    from llmwatch.daemon.config import AgentConfig

    text = gen.render()
    agent = text[text.index("## Agent configuration"):]
    for field in AgentConfig.options():
        assert f"`{field.name}`" in agent and field.metadata["doc"] in agent
        for env in field.metadata["env"]:
            assert f"`{env}`" in agent
