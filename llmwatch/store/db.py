"""Opening the prompt-log database: URL resolution, engine set-up, migrations at open.

``open_engine(url)`` returns an engine whose schema is at the head Alembic revision. Concurrent
openers are serialised (a PostgreSQL advisory lock; a lock file next to a SQLite database), so
two processes starting at once never race to create the tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "llmwatch_alembic_version"
_PG_LOCK_KEY = 0x6C6C6D77  # "llmw": advisory-lock key for migrations
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class StoreError(RuntimeError):
    """The prompt-log database cannot be opened or used (bad URL, unsupported backend, ...)."""


def default_url() -> str:
    """The embedded default: ``sqlite:///<user data dir>/llmwatch/calls.db``."""
    import platformdirs

    return f"sqlite:///{platformdirs.user_data_path('llmwatch') / 'calls.db'}"


def resolve_url(url: str | None = None) -> str:
    """Explicit ``url`` > ``LLMWATCH_STORE_URL`` > the per-user SQLite default."""
    return url or os.environ.get("LLMWATCH_STORE_URL") or default_url()


def sqlite_path(url: str) -> str | None:
    """The database file behind a ``sqlite:///`` URL (None: not SQLite, in-memory or a URI)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        return None
    db = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return str(Path(db).expanduser())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers (the CLI) run while the writer writes; NORMAL is durable across app crashes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=2000")
    # The default 2 MiB page cache holds too little of the 11 secondary indexes: random record and
    # trace ids then miss on nearly every insert (ingest fell from 16k to 9.6k records/s between
    # 30k and 100k rows). Pages are allocated as used, so small logs stay small.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # Session settings for the store's own connections only. A one-day window is ~333k start_time
    # entries: in the default 4 MB the full-text BitmapAnd went lossy and rechecked ~240k rows
    # (p95 244 ms on 10M rows; 106 ms with 32 MB), and percentile sorts spilled to disk. JIT
    # compiles for ~250 ms, longer than these index-driven queries run.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    with dbapi_conn.cursor() as cur:
        cur.execute("SET work_mem = '32MB'")
        cur.execute("SET jit = off")
    dbapi_conn.autocommit = autocommit


def create_engine(url: str) -> Engine:
    """A new engine for ``url`` (no migrations). SQLite files get WAL and a short busy timeout."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy raises several types
        raise StoreError(f"invalid store URL {url!r}: expected e.g. sqlite:///path/calls.db or "
                         f"postgresql+psycopg://user@host/db ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 2.0, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        args = {"connect_timeout": 3} if parsed.get_driver_name() in ("psycopg", "psycopg2") else {}
        engine = sa.create_engine(parsed, connect_args=args, pool_pre_ping=True)
        sa.event.listen(engine, "connect", _postgres_session)
        return engine
    raise StoreError(f"unsupported store backend {backend!r} in {url!r}: use sqlite:///... or postgresql+psycopg://...")


@contextlib.contextmanager
def _migration_lock(engine: Engine, conn: sa.Connection) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_KEY})")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
        return
    db = engine.url.database
    if not db or db == ":memory:":
        yield
        return
    with open(f"{db}.migrate.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _alembic_config(conn: sa.Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


def current_revision(conn: sa.Connection) -> str | None:
    """The schema revision of the database behind ``conn`` (None: not created yet)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema in place to ``revision`` (default: the newest)."""
    from alembic import command

    with engine.connect() as conn:
        with _migration_lock(engine, conn):
            if revision == "head" and current_revision(conn) == head_revision():
                conn.commit()
                return
            command.upgrade(_alembic_config(conn), revision)
            conn.commit()


def open_engine(url: str | None = None) -> Engine:
    """A cached engine for ``url`` with the schema migrated to head; one per URL per process."""
    url = resolve_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def close_engine(url: str | None = None) -> None:
    """Dispose of the cached engine for ``url`` (its pooled connections are closed)."""
    with _engines_lock:
        engine = _engines.pop(resolve_url(url), None)
    if engine is not None:
        engine.dispose()


def _forget_engines_after_fork() -> None:
    # Pooled connections belong to the parent; the child opens its own.
    global _engines_lock
    _engines_lock = threading.Lock()
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_engines_after_fork)
