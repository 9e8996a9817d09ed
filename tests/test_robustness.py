"""Never break the host app; lose nothing silently; the lifecycle is safe to repeat."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

import openai
import pytest
from opentelemetry.trace import StatusCode

import llmwatch
from llmwatch import names as n
from tests.conftest import USER

pytestmark = pytest.mark.openai2

DURATION_COUNT = n.OPERATION_DURATION.prom_name + "_count"


@pytest.mark.parametrize("status,exc_type", [(500, openai.InternalServerError), (400, openai.BadRequestError),
                                             (404, openai.NotFoundError), (429, openai.RateLimitError)])
def test_provider_errors_pass_through_unchanged_and_are_recorded(observe, sim, status, exc_type):
    plain = openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0)
    with pytest.raises(exc_type) as bare:
        plain.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-error": str(status)})
    o = observe()
    with pytest.raises(exc_type) as seen:
        plain.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-error": str(status)})
    assert type(seen.value) is type(bare.value)
    assert str(seen.value) == str(bare.value)
    assert seen.value.status_code == bare.value.status_code == status
    assert seen.value.body == bare.value.body
    span = o.spans()[0]
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[n.ERROR_TYPE] == exc_type.__qualname__
    assert o.value(DURATION_COUNT, error_type=exc_type.__qualname__) == 1
    rec = o.records()[0]
    assert rec.status == "error" and rec.error_type == exc_type.__qualname__ and rec.cost_usd is None


def test_a_retried_429_is_one_call_with_one_span(observe, sim):
    o = observe()
    c = openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=2)
    r = c.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-rate-limit": "1"})
    span = o.spans()[0]
    assert len(o.spans()) == 1 and span.status.status_code != StatusCode.ERROR
    assert span.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == r.usage.completion_tokens


def test_connection_error_and_timeout_pass_through(observe):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    o = observe()
    c = openai.OpenAI(base_url=f"http://127.0.0.1:{dead_port}/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        c.chat.completions.create(model="gpt-4o", messages=USER)
    assert o.spans()[0].attributes[n.ERROR_TYPE] == "APIConnectionError"


def test_timeout_passes_through(observe, sim):
    o = observe()
    c = openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-sim-latency-ms": "2000"})
    assert o.spans()[0].attributes[n.ERROR_TYPE] == "APITimeoutError"


def test_malformed_body_error_is_the_sdks_own(observe, sim):
    plain = openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0)
    hdr = {"x-sim-malformed": "1"}
    try:
        expected = plain.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=hdr)
        expected_exc = None
    except Exception as exc:  # noqa: BLE001 - whatever the SDK does, llmwatch must do the same
        expected_exc = exc
    o = observe()
    if expected_exc is None:
        got = plain.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=hdr)
        assert type(got) is type(expected)
    else:
        with pytest.raises(type(expected_exc)) as info:
            plain.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=hdr)
        assert str(info.value) == str(expected_exc)
    assert len(o.spans()) == 1


class ExplodingSink:
    def write(self, records):
        raise RuntimeError("sink down")

    def close(self):
        raise RuntimeError("close failed too")


def test_a_failing_sink_is_counted_never_raised(observe, client):
    import llmwatch._runtime as rt

    o = observe()
    rt.current().pipeline.add_sink(ExplodingSink())
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert o.value(n.RECORDS_DROPPED.prom_name, llmwatch_reason="sink_error") == 1
    assert o.value(n.INTERNAL_ERRORS.prom_name, llmwatch_component="sink") == 1
    assert len(o.records()) == 1, "other sinks still get the record"


def test_a_broken_tracer_never_breaks_the_call(observe, client):
    from llmwatch.instrumentation import openai as instr

    o = observe()

    class BrokenTracer:
        def start_span(self, *a, **k):
            raise RuntimeError("tracer exploded")

    instr._STATE.tracer = BrokenTracer()
    r = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert r.choices[0].message.content
    assert o.value(n.INTERNAL_ERRORS.prom_name, llmwatch_component="begin") == 1


def test_full_queue_drops_count_and_spans_still_end(observe, client):
    import llmwatch._runtime as rt

    o = observe(queue_size=1, flush_interval=60)
    pipeline = rt.current().pipeline
    pipeline._wake.clear()
    for _ in range(4):
        client.chat.completions.create(model="gpt-4o", messages=USER)
    dropped = o.value(n.RECORDS_DROPPED.prom_name, llmwatch_reason="queue_full")
    assert dropped >= 3
    assert len(o.spans()) == 4, "a dropped record's span is completed inline"
    assert o.value(DURATION_COUNT) == 4
    assert len(o.records()) == 4 - dropped


def test_a_batch_of_waiting_calls_wakes_the_worker_before_its_interval(observe, client):
    """With a long flush_interval the worker still drains as soon as batch_size calls wait, so a
    busy app never fills the queue between drains; fewer wait for the interval (or flush())."""
    import time

    import llmwatch._runtime as rt
    from tests.promstack import wait_for

    o = observe(flush_interval=60, batch_size=3)
    time.sleep(0.1)  # the worker is in its first 60 s wait
    sink = o.sink
    client.chat.completions.create(model="gpt-4o", messages=USER)
    client.chat.completions.create(model="gpt-4o", messages=USER)
    time.sleep(0.3)
    assert sink.records == [], "two calls (under batch_size) wait for the interval"
    client.chat.completions.create(model="gpt-4o", messages=USER)
    wait_for(lambda: len(sink.records) == 3, 30, "the third call to wake the worker", 0.02)
    assert rt.current().pipeline.depth == 0


def test_unknown_model_price_is_unknown_never_zero(observe, client):
    o = observe()
    client.chat.completions.create(model="my-finetune-xyz", messages=USER)
    span = o.spans()[0]
    assert span.attributes[n.LLMWATCH_COST_UNKNOWN] is True and n.LLMWATCH_COST_USD not in span.attributes
    assert o.records()[0].cost_usd is None
    assert o.value(n.UNKNOWN_PRICE_CALLS.prom_name, gen_ai_request_model="my-finetune-xyz") == 1
    assert o.value(n.COST.prom_name) == 0


def test_uninstrument_restores_the_exact_original_methods(observe):
    from openai import _base_client

    before = (_base_client.SyncAPIClient.__dict__["request"], _base_client.AsyncAPIClient.__dict__["request"])
    observe()
    assert _base_client.SyncAPIClient.__dict__["request"] is not before[0]
    llmwatch.shutdown()
    after = (_base_client.SyncAPIClient.__dict__["request"], _base_client.AsyncAPIClient.__dict__["request"])
    assert after[0] is before[0] and after[1] is before[1]


def test_init_twice_and_shutdown_twice_are_harmless(observe, client):
    o = observe()
    again = llmwatch.init(service_name="other")
    assert again is o.config
    client.chat.completions.create(model="gpt-4o", messages=USER)
    assert len(o.spans()) == 1, "one patch, one span"
    llmwatch.shutdown()
    llmwatch.shutdown()
    assert not llmwatch.is_initialized()


def test_import_patches_nothing_and_loads_no_heavy_dependency():
    code = (
        "import sys, openai\n"
        "from openai import _base_client\n"
        "orig = _base_client.SyncAPIClient.__dict__['request']\n"
        "import llmwatch\n"
        "assert _base_client.SyncAPIClient.__dict__['request'] is orig\n"
        "heavy = [m for m in ('opentelemetry.sdk', 'prometheus_client', 'sqlalchemy', 'tiktoken') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_network_at_import_or_init(monkeypatch, tmp_path):
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network used: %r' % (a,))\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import llmwatch\n"
        f"llmwatch.init(store_url='sqlite:///{tmp_path}/p.db')\n"
        "llmwatch.shutdown()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("options,needle", [
    ({"prometheus_port": "abc"}, "prometheus_port"),
    ({"queue_size": 0}, "queue_size"),
    ({"capture_content": "maybe"}, "capture_content"),
    ({"flush_interval": -1}, "flush_interval"),
    ({"no_such_option": 1}, "no_such_option"),
])
def test_bad_options_fail_at_init_naming_the_option_and_what_is_accepted(options, needle):
    with pytest.raises(llmwatch.ConfigError) as info:
        llmwatch.init(**options)
    assert needle in str(info.value) and "accepted" in str(info.value)
    assert not llmwatch.is_initialized()


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("LLMWATCH_QUEUE_SIZE", "lots")
    with pytest.raises(llmwatch.ConfigError) as info:
        llmwatch.init()
    assert "LLMWATCH_QUEUE_SIZE" in str(info.value) and "integer" in str(info.value)


def test_argument_beats_environment_beats_default(monkeypatch):
    from llmwatch.config import Config

    monkeypatch.setenv("LLMWATCH_SERVICE_NAME", "from-env")
    assert Config.resolve({}).service_name == "from-env"
    assert Config.resolve({"service_name": "from-arg"}).service_name == "from-arg"
    monkeypatch.delenv("LLMWATCH_SERVICE_NAME")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    assert Config.resolve({}).service_name == "llm-app"


def test_prometheus_port_serves_metrics(client, sim):
    from prometheus_client import CollectorRegistry

    cfg = llmwatch.init(prometheus_port=0, registry=CollectorRegistry(), store=False)
    try:
        import llmwatch._runtime as rt

        port = rt.current().metrics_server.server_port
        client.chat.completions.create(model="gpt-4o", messages=USER)
        llmwatch.flush()
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'gen_ai_client_operation_duration_seconds_count{error_type="",gen_ai_operation_name="chat"' in body
        assert cfg.prometheus_host == "127.0.0.1"
    finally:
        llmwatch.shutdown()


def test_an_app_provided_httpx_transport_is_untouched(observe, sim):
    """Apps that bring their own http client keep it; llmwatch sits above the transport."""
    o = observe()
    c = openai.OpenAI(base_url=sim.base_url, api_key="k", http_client=openai.DefaultHttpxClient())
    c.chat.completions.create(model="gpt-4o", messages=USER)
    assert len(o.spans()) == 1


def test_request_context_flows_to_span_and_record(observe, client):
    o = observe()
    with llmwatch.context(session_id="s-1", user_id="u-9", prompt_template=("support-answer", "v3"),
                          tags=["beta"], metadata={"tier": "gold"}):
        with llmwatch.context(conversation_id="c-3", tags=["inner"]):
            client.chat.completions.create(model="gpt-4o", messages=USER)
    client.chat.completions.create(model="gpt-4o", messages=USER)
    first, second = o.spans()
    assert first.attributes["session.id"] == "s-1" and first.attributes["user.id"] == "u-9"
    assert first.attributes[n.GEN_AI_CONVERSATION_ID] == "c-3"
    assert "session.id" not in second.attributes
    rec = o.records()[0]
    assert (rec.session_id, rec.user_id, rec.conversation_id) == ("s-1", "u-9", "c-3")
    assert (rec.prompt_template, rec.prompt_template_version) == ("support-answer", "v3")
    assert rec.tags == ["beta", "inner"] and rec.metadata["tier"] == "gold"
    assert o.records()[1].session_id is None


def test_bad_context_values_are_rejected_clearly():
    with pytest.raises(TypeError, match="prompt_template"):
        with llmwatch.context(prompt_template=("only-name",)):
            pass
    with pytest.raises(TypeError, match="tags"):
        with llmwatch.context(tags="beta"):
            pass


def test_otel_meter_provider_gets_the_same_metrics_under_semconv_names(client):
    """With a meter provider, the OTel instruments carry the semconv names whose Prometheus
    translation is exactly the native /metrics name (one set of dashboards for both paths)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from prometheus_client import CollectorRegistry

    reader = InMemoryMetricReader()
    llmwatch.init(meter_provider=MeterProvider(metric_readers=[reader]), registry=CollectorRegistry(), store=False)
    try:
        resp = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        llmwatch.flush()
        data = reader.get_metrics_data()
        metrics = {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        assert n.OPERATION_DURATION.otel_name in metrics and n.TOKEN_USAGE.otel_name in metrics
        assert n.prometheus_name(metrics[n.OPERATION_DURATION.otel_name].name,
                                 metrics[n.OPERATION_DURATION.otel_name].unit, "histogram") == \
            "gen_ai_client_operation_duration_seconds"
        points = metrics[n.TOKEN_USAGE.otel_name].data.data_points
        by_type = {p.attributes[n.GEN_AI_TOKEN_TYPE]: p.sum for p in points}
        assert by_type == {"input": resp.usage.prompt_tokens, "output": resp.usage.completion_tokens}
        duration_point = metrics[n.OPERATION_DURATION.otel_name].data.data_points[0]
        assert n.ERROR_TYPE not in duration_point.attributes, "error.type only on failures"
        assert duration_point.attributes[n.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    finally:
        llmwatch.shutdown()


def test_a_stream_finished_after_shutdown_still_ends_its_span(observe, client):
    o = observe()
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    next(iter(stream))
    llmwatch.shutdown()
    for _ in stream:
        pass
    spans = o.exporter.get_finished_spans()
    assert len(spans) == 1 and spans[0].attributes[n.LLMWATCH_STREAM_CHUNKS] > 1
    assert o.value(n.RECORDS_DROPPED.prom_name, llmwatch_reason="after_shutdown") == 1
