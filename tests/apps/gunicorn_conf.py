"""gunicorn hooks for llmwatch in prometheus_client multiprocess mode (what a user's config would hold).

``PROMETHEUS_MULTIPROC_DIR`` must be set in the environment before gunicorn starts, so every
process picks file-backed metric values at import.
"""

from __future__ import annotations

import os

# gunicorn >= 25 opens a control socket at ~/.gunicorn/gunicorn.ctl, one path shared by every
# instance on the machine; these test servers need none (older versions ignore the setting).
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001 - gunicorn hook signature
    if os.environ.get("LLMWATCH_INIT_AT_IMPORT") != "1":
        import llmwatch

        # No /metrics server per worker: the app's /metrics route serves all workers' values.
        llmwatch.init(store=False, prometheus_port=None)


def child_exit(server, worker):  # noqa: ANN001 - gunicorn hook signature
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
