"""One option mechanism: every setting — the SDK's, the store's, the agent's — is validated at start."""

from __future__ import annotations

import pytest

import llmwatch
from llmwatch.config import Config, ConfigError
from llmwatch.daemon.config import AgentConfig


@pytest.mark.parametrize("env, value, accepted", [
    ("LLMWATCH_STORE_SPOOL_MAX_BYTES", "lots", "a size in bytes"),
    ("LLMWATCH_STORE_SPOOL_MAX_BYTES", "1 gigabyte", "1GiB"),
    ("LLMWATCH_STORE_RETENTION", "a month", "7d"),
    ("LLMWATCH_QUEUE_SIZE", "many", "an integer"),
])
def test_a_bad_store_setting_stops_init_like_any_other_option(monkeypatch, env, value, accepted):
    """It used to turn the prompt log off with a warning while the app kept running."""
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        llmwatch.init(store=True)
    message = str(info.value)
    assert env in message and repr(value) in message and accepted in message
    assert not llmwatch.is_initialized()


def test_store_sizes_take_units_and_the_store_uses_them(tmp_path):
    config = Config.resolve({"store_url": f"sqlite:///{tmp_path / 'c.db'}"},
                            environ={"LLMWATCH_STORE_SPOOL_MAX_BYTES": "64MiB", "LLMWATCH_STORE_RETENTION": "90d",
                                     "LLMWATCH_STORE_SPOOL_DIR": str(tmp_path / "spool")})
    assert config.store_spool_max_bytes == 64 << 20 and config.store_retention == 90 * 86400
    from prometheus_client import CollectorRegistry

    from llmwatch.store import open_sink

    sink = open_sink(config, registry=CollectorRegistry())
    try:
        assert sink.spool.max_bytes == 64 << 20 and sink.retention == 90 * 86400
        assert str(sink.spool.dir).startswith(str(tmp_path / "spool"))
    finally:
        sink.close()


def test_the_embedded_log_has_a_retention_by_default_a_server_database_none_and_none_keeps_everything(tmp_path):
    """30 days for the embedded SQLite log; a PostgreSQL log is its operators' to prune (nothing deleted)."""
    from prometheus_client import CollectorRegistry

    from llmwatch.store import open_sink

    assert Config.resolve({}, environ={}).store_retention == "auto"
    assert Config.resolve({"store_retention": "none"}, environ={}).store_retention is None
    for url, expected in ((f"sqlite:///{tmp_path / 'c.db'}", 30 * 86400),
                          ("postgresql+psycopg://postgres@127.0.0.1:1/none", None)):
        config = Config.resolve({"store_url": url, "store_spool_dir": str(tmp_path / "spool")}, environ={})
        sink = open_sink(config, registry=CollectorRegistry())
        try:
            assert sink.retention == expected, url
        finally:
            sink.close(timeout=0.5)


def test_redaction_is_on_by_default_and_off_only_when_asked():
    assert Config.resolve({}, environ={}).redact is True
    assert Config.resolve({}, environ={"LLMWATCH_REDACT": "false"}).redact is False


def test_the_agent_uses_the_same_parsers_and_messages(tmp_path):
    with pytest.raises(ConfigError) as info:
        AgentConfig.load(environ={"LLMWATCH_AGENT_PORT": "eighty"})
    assert "LLMWATCH_AGENT_PORT" in str(info.value) and "a TCP port" in str(info.value)
    with pytest.raises(ConfigError) as info:
        AgentConfig.load(environ={"LLMWATCH_AGENT_SCORERS": "toxicity,spam"})
    assert "toxicity, moderation, injection" in str(info.value)
    cfg = tmp_path / "agent.toml"
    cfg.write_text('retention = "2w"\nbogus = 1\n')
    with pytest.raises(ConfigError) as info:
        AgentConfig.load(cfg, environ={})
    assert "bogus" in str(info.value) and "accepted options" in str(info.value)


def test_the_bottom_layer_imports_no_feature_package():
    import subprocess
    import sys

    code = ("import sys, llmwatch.config, llmwatch.names, llmwatch.options; "
            "print(sorted(m for m in sys.modules if m.startswith('llmwatch.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["llmwatch.config", "llmwatch.names", "llmwatch.options"]  # noqa: S307


def test_importing_a_feature_registers_nothing_init_starts_it_explicitly(observe):
    """Features are started by init() and stopped by shutdown() in reverse; importing one has no effect."""
    import importlib

    from llmwatch import _runtime

    for module in ("llmwatch.gpu.sampler", "llmwatch.scoring.worker", "llmwatch.tracing.feature"):
        importlib.import_module(module)
    assert not hasattr(_runtime, "HOOKS")
    observe()
    rt = _runtime.current()
    assert [name for name, _ in rt.stops] == ["providers", "tracing"]  # gpu and scoring off by default


def test_by_default_the_prompt_log_forgets_calls_older_than_30_days(tmp_path):
    import time

    from prometheus_client import CollectorRegistry

    from llmwatch import logs
    from llmwatch.store import open_sink
    from tests.test_store_support import make_record

    url = f"sqlite:///{tmp_path / 'c.db'}"
    config = Config.resolve({"store_url": url, "store_spool_dir": str(tmp_path / "spool")}, environ={})
    old = make_record(start_time=time.time() - 40 * 86400)
    recent = make_record(start_time=time.time() - 20 * 86400)
    sink = open_sink(config, registry=CollectorRegistry())
    sink.write([old, recent])
    assert sink.flush(30)
    deadline = time.time() + 30
    while logs.count(url) > 1 and time.time() < deadline:  # the writer prunes after a write
        sink.write([make_record()])
        assert sink.flush(30)
        time.sleep(0.2)
    sink.close()
    ids = {c.record_id for c in logs.query(url=url, limit=10)}
    assert old.record_id not in ids and recent.record_id in ids
