"""Metrics: the Prometheus/OTel instruments every call records, and the ``/metrics`` server."""
