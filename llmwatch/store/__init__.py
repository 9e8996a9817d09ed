"""The prompt-log store: every LLM call kept in SQL (embedded SQLite, PostgreSQL at scale).

``llmwatch.init()`` calls :func:`open_sink` when ``config.store`` is true; the SDK's record
pipeline then hands it batches of finished calls. Query them with :mod:`llmwatch.logs` or the
``llmwatch logs`` command.

    from llmwatch.config import Config
    from llmwatch.store import open_sink

    sink = open_sink(Config.resolve({"store_url": "sqlite:///calls.db"}))
    sink.write(records)     # cheap: queues for the writer thread
    sink.close()            # flushes (to the database, or to the disk spool if it is down)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from llmwatch.store.db import StoreError, default_url, open_engine, resolve_url
from llmwatch.store.sink import BATCH_SIZE, StoreSink

__all__ = ["open_sink", "StoreSink", "StoreError", "default_url", "resolve_url", "open_engine",
           "default_spool_dir"]


def default_spool_dir(url: str) -> Path:
    """``<user data dir>/llmwatch/spool/<hash of the URL>``: one spool per database."""
    import platformdirs

    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return platformdirs.user_data_path("llmwatch") / "spool" / key


def open_sink(config: Any = None, registry: Any = None, *, url: str | None = None,
              spool_dir: str | os.PathLike[str] | None = None, spool_max_bytes: int | None = None,
              retention: float | str | None = None, mask_literals: bool = False,
              redactor: Any = None, **options: Any) -> StoreSink:
    """Open the prompt-log sink described by ``config`` (a :class:`llmwatch.config.Config`).

    Never fails because the database is down: the first write attempts reach it from the writer
    thread, and until they succeed records wait in the disk spool. ``registry`` is the Prometheus
    registry for the store's metrics (default: the global one, registered once).

    The spool folder, its bound and the retention come from the config's ``store_spool_dir``,
    ``store_spool_max_bytes`` and ``store_retention`` (validated there, like every option; with no
    config, :class:`~llmwatch.config.Config` is resolved from the environment); the keyword
    arguments of the same meaning override them (``retention="none"`` keeps everything). ``redactor``
    masks records that reach the store without passing the SDK's pipeline (which redacts them first).
    """
    from llmwatch.config import Config
    from llmwatch.options import EMBEDDED_RETENTION
    from llmwatch.options import retention as parse_retention
    from llmwatch.store.metrics import store_metrics
    from llmwatch.store.spool import Spool

    if config is None:
        config = Config.resolve({})
    resolved = resolve_url(url or config.store_url)
    spool_dir = spool_dir or config.store_spool_dir or default_spool_dir(resolved)
    max_bytes = int(spool_max_bytes or config.store_spool_max_bytes)
    try:  # seconds, "90d", "none" to keep everything, or "auto"
        chosen = parse_retention(config.store_retention if retention is None else retention)
    except ValueError as exc:
        raise ValueError(f"invalid retention {retention!r}: expected {exc}") from None
    keep: float | None
    if isinstance(chosen, str):  # "auto": the embedded log is bounded, a server database is its operators'
        keep = EMBEDDED_RETENTION if resolved.startswith("sqlite") else None
    else:
        keep = chosen
    if "batch_size" not in options:
        options["batch_size"] = max(BATCH_SIZE, int(config.batch_size))
    return StoreSink(resolved, store_metrics(registry), Spool(spool_dir, max_bytes=max_bytes),
                     capture_content=config.store_capture_content, mask_literals=mask_literals,
                     retention=keep, redactor=redactor,
                     **{"commit_delay": config.store_commit_delay, **options})
