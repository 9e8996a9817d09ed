"""Grafana dashboards for llmwatch, generated from Python (see generate.py)."""
