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
              spool_dir: str | os.PathLike | None = None, spool_max_bytes: int | None = None,
              retention: float | str | None = None, mask_literals: bool = False,
              **options: Any) -> StoreSink:
    """Open the prompt-log sink described by ``config`` (a :class:`llmwatch.config.Config`).

    Never fails because the database is down: the first write attempts reach it from the writer
    thread, and until they succeed records wait in the disk spool. ``registry`` is the Prometheus
    registry for the store's metrics (default: the global one, registered once).

    ``spool_dir``, ``spool_max_bytes`` (default 1 GiB; env ``LLMWATCH_STORE_SPOOL_DIR`` /
    ``LLMWATCH_STORE_SPOOL_MAX_BYTES``) and ``retention`` (seconds or ``"30d"``; env
    ``LLMWATCH_STORE_RETENTION``) fall back to config fields of those names when they exist.
    """
    from llmwatch.store.metrics import store_metrics
    from llmwatch.store.spool import Spool
    from llmwatch.store.timeparse import parse_duration

    resolved = resolve_url(url or getattr(config, "store_url", None))
    spool_dir = (spool_dir or getattr(config, "store_spool_dir", None)
                 or os.environ.get("LLMWATCH_STORE_SPOOL_DIR") or default_spool_dir(resolved))
    max_bytes = int(spool_max_bytes or getattr(config, "store_spool_max_bytes", None)
                    or os.environ.get("LLMWATCH_STORE_SPOOL_MAX_BYTES") or (1 << 30))
    retention = retention or getattr(config, "store_retention", None) or os.environ.get("LLMWATCH_STORE_RETENTION")
    if isinstance(retention, str):
        retention = parse_duration(retention, "store_retention")
    capture = getattr(config, "store_capture_content", True)
    if "batch_size" not in options and getattr(config, "batch_size", None):
        options["batch_size"] = max(BATCH_SIZE, int(config.batch_size))
    return StoreSink(resolved, store_metrics(registry), Spool(spool_dir, max_bytes=max_bytes),
                     capture_content=capture, mask_literals=mask_literals, retention=retention, **options)
