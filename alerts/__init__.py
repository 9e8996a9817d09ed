"""Prometheus recording rules and alerts for llmwatch, generated from Python (see generate.py)."""
