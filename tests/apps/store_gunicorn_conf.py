"""gunicorn hooks for llmwatch with the prompt log on: init in each worker, flush on worker exit.

Used by tests/test_multiprocess_store.py; the store URL and spool directory come from
``LLMWATCH_STORE_URL`` / ``LLMWATCH_STORE_SPOOL_DIR`` (shared by every worker).
"""

from __future__ import annotations

control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001 - gunicorn hook signature
    import llmwatch

    llmwatch.init(store=True, prometheus_port=None, estimate_tokens=False)


def worker_exit(server, worker):  # noqa: ANN001 - runs in the worker as it stops
    import llmwatch

    llmwatch.shutdown()  # drains the queue into the database, or into this worker's spool segment
