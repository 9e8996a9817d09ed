"""``llmwatch agent``: the monitoring daemon beside the app (sidecar or GPU-node DaemonSet).

It serves ``/metrics`` (GPU collector + its own health), ``/healthz``, ``/readyz`` and a
read-only JSON query API over the prompt log; runs the scorer workers and retention; and stops
gracefully on SIGTERM. See README.md, "Running the agent".
"""
