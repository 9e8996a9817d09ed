"""names.py derives Prometheus names by the OTel -> Prometheus rules, one name per metric."""

from __future__ import annotations

from collections import Counter

from llmwatch import names


def test_core_metric_prometheus_names_match_the_otel_translation():
    got = {spec.otel_name: names.prometheus_name(spec.otel_name, spec.unit, spec.kind) for spec in (
        names.OPERATION_DURATION, names.TOKEN_USAGE, names.TIME_TO_FIRST_CHUNK, names.TIME_PER_OUTPUT_CHUNK,
        names.COST)}
    assert got == {
        "gen_ai.client.operation.duration": "gen_ai_client_operation_duration_seconds",
        "gen_ai.client.token.usage": "gen_ai_client_token_usage",
        "gen_ai.client.operation.time_to_first_chunk": "gen_ai_client_operation_time_to_first_chunk_seconds",
        "gen_ai.client.operation.time_per_output_chunk": "gen_ai_client_operation_time_per_output_chunk_seconds",
        "llmwatch.cost.usd": "llmwatch_cost_usd_total",
    }


def test_no_two_metrics_share_a_prometheus_name():
    counts = Counter(spec.prom_name for spec in names.ALL_METRICS)
    assert [name for name, c in counts.items() if c > 1] == []


def test_no_two_metrics_share_a_prometheus_series():
    counts = Counter(series for spec in names.ALL_METRICS for series in spec.prom_series_names)
    assert [name for name, c in counts.items() if c > 1] == []
