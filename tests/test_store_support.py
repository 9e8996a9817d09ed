"""Shared helpers for the prompt-log tests: real SQLite files and real PostgreSQL databases.

PostgreSQL: the server at 127.0.0.1:5432 (trust auth). Each test gets its own database, dropped
afterwards. Set LLMWATCH_TEST_PG_URL to point elsewhere.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from llmwatch.record import CallRecord
from llmwatch.store import db, open_sink

PG_ADMIN_URL = os.environ.get("LLMWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def create_pg_database() -> tuple[str, object]:
    """A fresh database on the shared server; returns (url, drop function)."""
    name = f"llmwatch_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = str(sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))

    def drop() -> None:
        db.close_engine(url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A real, empty prompt-log database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'calls.db'}"
        yield url
        db.close_engine(url)
        return
    if not pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: start it with "
                    "`pg_ctlcluster --skip-systemctl-redirect 15 main start`")
    url, drop = create_pg_database()
    try:
        yield url
    finally:
        drop()


def make_record(**kw) -> CallRecord:
    """A finished chat call with content; override any field by keyword."""
    start = kw.pop("start_time", time.time() - 60)
    duration = kw.pop("duration", 0.5)
    prompt = kw.pop("prompt", "What is the capital of France?")
    answer = kw.pop("answer", "Paris.")
    defaults = dict(
        operation="chat", provider="openai", request_model="gpt-4o-mini", start_time=start,
        end_time=start + duration, record_id=uuid.uuid4().hex, trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16], response_model=kw.get("request_model", "gpt-4o-mini"),
        input_tokens=12, output_tokens=3, cost_usd=0.0001, service_name="tests",
        input_messages=[{"role": "user", "parts": [{"type": "text", "content": prompt}]}],
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": answer}],
                          "finish_reason": "stop"}],
    )
    defaults.update(kw)
    return CallRecord(**defaults)


def write(url: str, records, tmp_path, **options) -> object:
    """Write ``records`` through a real sink and close it; returns the sink (for its metrics).

    Test records are often months old: retention is off unless a test asks for it."""
    options.setdefault("retention", "none")
    sink = open_sink(url=url, registry=CollectorRegistry(), spool_dir=tmp_path / f"spool-{uuid.uuid4().hex[:6]}",
                     **options)
    sink.write(list(records))
    sink.close()
    return sink


def rows(url: str, sql: str = "SELECT count(*) FROM llmwatch_calls"):
    with db.open_engine(url).connect() as conn:
        return conn.exec_driver_sql(sql).fetchall()


def metric(sink, name: str, **labels) -> float:
    """Current value of one of the sink's Prometheus samples (0 when never incremented)."""
    value = sink.metrics.registry.get_sample_value(name, labels)
    return value or 0.0
