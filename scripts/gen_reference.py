#!/usr/bin/env python
"""Generate ``docs/reference.md``: every attribute, metric and configuration option llmwatch has.

Names, units, buckets and labels come from :mod:`llmwatch.names`; options from
:meth:`llmwatch.config.Config.options`. What the code cannot say about itself — an attribute's
semconv status, its type and when it is set — is written down once here, in ``ATTRIBUTES``, keyed
by the ``names`` constants. ``tests/test_reference.py`` regenerates the file and fails on any
difference, and fails when ``names.py`` declares an attribute this table does not describe.

``python scripts/generate.py`` (all generated artefacts; ``--check`` to compare) calls
:func:`render`; this script alone rewrites only ``docs/reference.md``:

    python scripts/gen_reference.py            # rewrite docs/reference.md
    python scripts/gen_reference.py --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llmwatch import names as n
from llmwatch.config import Config

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "reference.md"

Status = Literal["stable", "development", "llmwatch"]
Where = Literal["span", "metric", "span+metric", "declared"]

# Constants in names.py that hold attribute *values*, not attribute keys.
VALUE_PREFIXES = ("OP_", "PROVIDER_", "TOKEN_TYPE_", "EVENT_")

STATUS_TEXT = {
    "stable": "stable semconv",
    "development": "semconv (development)",
    "llmwatch": "llmwatch-specific",
}


@dataclass(frozen=True)
class Attr:
    status: Status
    type: str
    where: Where  # span attribute, metric label only, both, or declared but not emitted yet
    when: str


# fmt: off
ATTRIBUTES: dict[str, Attr] = {
    # --- request (set when the span starts, from the request body)
    n.GEN_AI_OPERATION_NAME: Attr("development", "string", "span+metric",
        "Always: `chat` (chat completions and Responses API), `text_completion`, `embeddings`, `moderation`, "
        "`fetch_response` (retrieving a stored response: not priced, its usage not counted again), "
        "`generate_content`; parent spans: `invoke_workflow`, `invoke_agent`, `execute_tool`, `retrieval`, `task`."),
    n.GEN_AI_PROVIDER_NAME: Attr("development", "string", "span+metric",
        "Model-call spans only (never internal agent/tool/workflow spans): `openai`, `azure.ai.openai` for "
        "Azure clients, `anthropic`, `gcp.gen_ai`/`gcp.vertex_ai`, `aws.bedrock`, `ollama`, or the "
        "`provider_name` option."),
    n.GEN_AI_REQUEST_MODEL: Attr("development", "string", "span+metric",
        "When the request names a model (it always does for the OpenAI API); also in the span name."),
    n.SERVER_ADDRESS: Attr("stable", "string", "span", "Always: host of the client's `base_url`."),
    n.SERVER_PORT: Attr("stable", "int", "span", "Always: port of `base_url` (443/80 when implicit)."),
    n.GEN_AI_REQUEST_TEMPERATURE: Attr("development", "double", "span", "When the request sets `temperature`."),
    n.GEN_AI_REQUEST_TOP_P: Attr("development", "double", "span", "When the request sets `top_p`."),
    n.GEN_AI_REQUEST_TOP_K: Attr("development", "int", "span",
        "When the request sets a top-K sampling parameter (e.g. Anthropic, Gemini, Ollama `top_k`)."),
    n.GEN_AI_REQUEST_SEED: Attr("development", "int", "span", "When the request sets `seed`."),
    n.GEN_AI_REQUEST_FREQUENCY_PENALTY: Attr("development", "double", "span",
        "When the request sets `frequency_penalty`."),
    n.GEN_AI_REQUEST_PRESENCE_PENALTY: Attr("development", "double", "span",
        "When the request sets `presence_penalty`."),
    n.GEN_AI_REQUEST_MAX_TOKENS: Attr("development", "int", "span",
        "When the request sets `max_tokens`, `max_completion_tokens` or `max_output_tokens`."),
    n.GEN_AI_REQUEST_STOP_SEQUENCES: Attr("development", "string[]", "span", "When the request sets `stop`."),
    n.GEN_AI_REQUEST_CHOICE_COUNT: Attr("development", "int", "span", "When the request sets `n` other than 1."),
    n.GEN_AI_REQUEST_STREAM: Attr("development", "boolean", "span", "When the request streams (`stream=true`)."),
    n.GEN_AI_REQUEST_ENCODING_FORMATS: Attr("development", "string[]", "span",
        "Embeddings calls: the requested `encoding_format` (default `float`)."),
    n.GEN_AI_OUTPUT_TYPE: Attr("development", "string", "span",
        "Chat/Responses calls with a response format: `json` (json_schema/json_object) or `text`."),
    # --- response (set when the call ends)
    n.GEN_AI_RESPONSE_MODEL: Attr("development", "string", "span+metric",
        "When the response names its model (metric label is empty otherwise)."),
    n.GEN_AI_RESPONSE_ID: Attr("development", "string", "span", "When the response carries an id."),
    n.GEN_AI_RESPONSE_FINISH_REASONS: Attr("development", "string[]", "span",
        "Chat, completions and Responses calls that returned choices / a status."),
    n.GEN_AI_USAGE_INPUT_TOKENS: Attr("development", "int", "span",
        "When the provider reports usage (streams: only with `include_usage`); never estimated."),
    n.GEN_AI_USAGE_OUTPUT_TOKENS: Attr("development", "int", "span",
        "When the provider reports output usage; never estimated."),
    n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Attr("development", "int", "span",
        "When the provider reports a non-zero count of cached prompt tokens."),
    n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Attr("development", "int", "span",
        "When the provider reports a non-zero count of input tokens written to its prompt cache (part of "
        "`gen_ai.usage.input_tokens`; priced at the model's `cache_write_input` rate)."),
    n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Attr("development", "int", "span",
        "Deprecated name of `gen_ai.usage.cache_write.input_tokens` (core semconv v1.41): emitted next to it "
        "only with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental/dup`."),
    n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Attr("development", "int", "span",
        "When the provider reports a non-zero count of reasoning tokens."),
    n.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Attr("development", "int", "span",
        "Embeddings calls returning float vectors: length of the first vector."),
    n.LLMWATCH_TIME_TO_FIRST_CHUNK: Attr("development", "double (s)", "span",
        "Streamed calls that received at least one chunk: seconds from request to first chunk."),
    n.OPENAI_RESPONSE_SERVICE_TIER: Attr("development", "string", "span",
        "When the response reports its `service_tier`."),
    n.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Attr("development", "string", "span",
        "Chat/completions responses that carry a `system_fingerprint`."),
    n.ERROR_TYPE: Attr("stable", "string", "span+metric",
        "Failed calls: the exception's class name (e.g. `InternalServerError`, `APIConnectionError`). "
        "The span status is ERROR with the exception recorded as an event."),
    # --- content (opt-in)
    n.GEN_AI_INPUT_MESSAGES: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`: the input messages, each part capped at `content_max_length`."),
    n.GEN_AI_OUTPUT_MESSAGES: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`: the output messages (streams: the accumulated text and tool calls)."),
    n.GEN_AI_SYSTEM_INSTRUCTIONS: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`, when the request has system/developer instructions."),
    n.GEN_AI_TOOL_DEFINITIONS: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`, when the request declares tools."),
    n.GEN_AI_CONVERSATION_ID: Attr("development", "string", "span",
        "Inside `llmwatch.context(conversation_id=...)`."),
    n.SESSION_ID: Attr("development", "string", "span", "Inside `llmwatch.context(session_id=...)`."),
    n.USER_ID: Attr("development", "string", "span", "Inside `llmwatch.context(user_id=...)`."),
    n.LLMWATCH_PROMPT_TEMPLATE: Attr("llmwatch", "string", "span",
        "Inside `llmwatch.context(prompt_template=name or (name, version))`."),
    n.LLMWATCH_PROMPT_TEMPLATE_VERSION: Attr("llmwatch", "string", "span",
        "Inside `llmwatch.context(prompt_template=(name, version))`."),
    # --- llmwatch's own span attributes
    n.LLMWATCH_COST_USD: Attr("llmwatch", "double (USD)", "span",
        "Successful calls with usage whose model has a known price."),
    n.LLMWATCH_COST_UNKNOWN: Attr("llmwatch", "boolean", "span",
        "Successful calls with usage whose model has no known price (cost is unknown, never $0)."),
    n.LLMWATCH_STREAM_CHUNKS: Attr("llmwatch", "int", "span", "Streamed calls: number of chunks received."),
    n.LLMWATCH_STREAM_ABANDONED: Attr("llmwatch", "boolean", "span",
        "Streamed calls the application closed or dropped before the end of the stream."),
    n.LLMWATCH_MODERATION_FLAGGED: Attr("llmwatch", "boolean", "span",
        "Moderation calls: whether any result was flagged."),
    n.LLMWATCH_RESPONSE_ANOMALY: Attr("llmwatch", "string", "span",
        "Successful calls whose response had an unexpected shape (e.g. a usage field that is not a "
        "token count): what was wrong; the value is left unknown rather than guessed."),
    # --- parent spans: workflows, agents, tools, retrievals (llmwatch.trace, LangChain, LlamaIndex)
    n.GEN_AI_AGENT_NAME: Attr("development", "string", "span+metric",
        "`invoke_agent` spans: the agent's name; `invoke_workflow` spans: the workflow's name."),
    n.GEN_AI_AGENT_ID: Attr("development", "string", "span", "`invoke_agent` spans given `id=`."),
    n.GEN_AI_AGENT_DESCRIPTION: Attr("development", "string", "span", "`invoke_agent` spans given `description=`."),
    n.GEN_AI_TOOL_NAME: Attr("development", "string", "span+metric", "`execute_tool` spans: the tool's name."),
    n.GEN_AI_TOOL_TYPE: Attr("development", "string", "span+metric", "`execute_tool` spans: `function`."),
    n.GEN_AI_TOOL_DESCRIPTION: Attr("development", "string", "span",
        "`execute_tool` spans given `description=` (LangChain: the tool's description)."),
    n.GEN_AI_TOOL_CALL_ID: Attr("development", "string", "span",
        "`execute_tool` spans given `call_id=` (LangChain: the tool call's id)."),
    n.GEN_AI_TOOL_CALL_ARGUMENTS: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`: the tool's arguments, capped at `content_max_length`."),
    n.GEN_AI_TOOL_CALL_RESULT: Attr("development", "string (JSON)", "span",
        "Only with `capture_content`: the tool's result, capped at `content_max_length`."),
    n.GEN_AI_DATA_SOURCE_ID: Attr("development", "string", "span", "`retrieval` spans: the data source's name."),
    n.LLMWATCH_WORKFLOW_NAME: Attr("llmwatch", "string", "span", "`invoke_workflow` spans: the workflow's name."),
    n.LLMWATCH_SPAN_KIND: Attr("llmwatch", "string", "span",
        "Parent spans: `workflow`, `agent`, `tool`, `retrieval`, `task`, or `llm` for a framework model run "
        "that is the LLM call itself."),
    n.LLMWATCH_SPAN_SOURCE: Attr("llmwatch", "string", "span",
        "Parent spans: who opened it: `llmwatch` (decorators), `langchain` or `llamaindex`."),
    n.LLMWATCH_ROLLUP_CALLS: Attr("llmwatch", "int", "span",
        "Parent spans with LLM calls beneath them: how many (at any depth)."),
    n.LLMWATCH_ROLLUP_INPUT_TOKENS: Attr("llmwatch", "int", "span",
        "Parent spans: input tokens of the calls beneath them (provider-reported)."),
    n.LLMWATCH_ROLLUP_OUTPUT_TOKENS: Attr("llmwatch", "int", "span",
        "Parent spans: output tokens of the calls beneath them (provider-reported)."),
    n.LLMWATCH_ROLLUP_COST_USD: Attr("llmwatch", "double (USD)", "span",
        "Parent spans: cost of the calls beneath them whose price is known."),
    n.LLMWATCH_ROLLUP_COST_UNKNOWN_CALLS: Attr("llmwatch", "int", "span",
        "Parent spans: calls beneath them with usage but no known price (not in the cost)."),
    # --- metric labels only
    n.GEN_AI_TOKEN_TYPE: Attr("development", "string", "metric", "`gen_ai.client.token.usage`: `input` or `output`."),
    n.LLMWATCH_ESTIMATED: Attr("llmwatch", "string", "metric", "Cost counter: `true` when the tokens were estimated."),
    n.LLMWATCH_DROP_REASON: Attr("llmwatch", "string", "metric", "Dropped-record counters: why (`queue_full`, ...)."),
    n.LLMWATCH_COMPONENT: Attr("llmwatch", "string", "metric", "Internal-error counter: the failing component."),
    n.LLMWATCH_DIRECTION: Attr("llmwatch", "string", "metric", "Quality metrics: `input` (prompt) or `output`."),
    n.LLMWATCH_CATEGORY: Attr("llmwatch", "string", "metric", "Toxicity/moderation: the category scored or flagged."),
    n.LLMWATCH_DETECTOR: Attr("llmwatch", "string", "metric", "Injection detections: the detector that fired."),
    n.LLMWATCH_REDACTION_KIND: Attr("llmwatch", "string", "metric", "Redactions: the PII kind (`email`, ...)."),
    n.LLMWATCH_VALIDATOR: Attr("llmwatch", "string", "metric", "Validation failures: the validator."),
    n.LLMWATCH_FEEDBACK_KIND: Attr("llmwatch", "string", "metric", "Feedback score: `thumbs`, `rating`, ..."),
    n.HW_ID: Attr("development", "string", "metric", "GPU metrics: the GPU UUID."),
    n.HW_NAME: Attr("development", "string", "metric", "GPU metrics: the product name."),
    n.HW_TYPE: Attr("development", "string", "metric", "`hw.power` / `hw.temperature`: always `gpu`."),
    n.LLMWATCH_THROTTLE_REASON: Attr("llmwatch", "string", "metric", "GPU throttle gauge: the NVML clocks-event reason."),
    n.PROCESS_PID: Attr("development", "int", "metric", "GPU per-process memory: the process id."),
    n.PROCESS_EXECUTABLE_NAME: Attr("development", "string", "metric", "GPU per-process memory: the executable."),
    n.LLMWATCH_GPU_INDEX: Attr("llmwatch", "string", "metric", "GPU metrics: the NVML device index."),
    n.LLMWATCH_GPU_CLOCK_DOMAIN: Attr("llmwatch", "string", "metric", "GPU clock gauge: `sm` or `memory`."),
    n.HTTP_ROUTE: Attr("stable", "string", "metric", "Agent HTTP requests: the route template."),
    n.HTTP_RESPONSE_STATUS_CODE: Attr("stable", "string", "metric", "Agent HTTP requests: the status code."),
    n.LLMWATCH_GPU_UTILIZATION_MEAN: Attr("llmwatch", "double", "span",
        "`init(gpu=True)`: mean GPU utilisation (0..1) over the call's window (device-wide)."),
    n.LLMWATCH_GPU_UTILIZATION_MAX: Attr("llmwatch", "double", "span",
        "`init(gpu=True)`: max GPU utilisation (0..1) over the call's window (device-wide)."),
    n.LLMWATCH_GPU_MEMORY_DELTA: Attr("llmwatch", "int", "span",
        "`init(gpu=True)`: GPU memory in use at the window's end minus before it, bytes (device-wide)."),
    n.GEN_AI_EVALUATION_NAME: Attr("development", "string", "span+metric",
        "`gen_ai.evaluation.result` events (on the `evaluation <scorer>` child span): the scorer; "
        "the label of `llmwatch_scorer_available`."),
    n.GEN_AI_EVALUATION_SCORE_VALUE: Attr("development", "double", "span",
        "`gen_ai.evaluation.result` events: the score."),
    n.GEN_AI_EVALUATION_SCORE_LABEL: Attr("development", "string", "span",
        "`gen_ai.evaluation.result` events: `flagged`/`ok`, `pass`/`fail`."),
    n.GEN_AI_EVALUATION_EXPLANATION: Attr("development", "string", "span",
        "`gen_ai.evaluation.result` events: matched signals or the validator's reason (redacted)."),
    n.LLMWATCH_RETRIEVAL_DOCUMENTS: Attr("llmwatch", "int", "span",
        "Retrieval spans from the LangChain/LlamaIndex integrations: documents returned."),
    n.LLMWATCH_GPU_SAMPLES: Attr("llmwatch", "int", "span",
        "`init(gpu=True)`: GPU samples the attribution is based on."),
}
# fmt: on


def attribute_constants() -> dict[str, str]:
    """Every attribute-key constant in ``names.py`` (constant name -> key)."""
    return {
        k: v for k, v in vars(n).items()
        if k.isupper() and not k.startswith("_") and isinstance(v, str) and not k.startswith(VALUE_PREFIXES)
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _constant_names() -> dict[str, str]:
    by_key: dict[str, str] = {}
    for const, key in attribute_constants().items():
        by_key.setdefault(key, const)
    return by_key


def _attribute_section(title: str, where: tuple[str, ...], intro: str) -> list[str]:
    consts = _constant_names()
    rows = [[f"`{key}`", f"`names.{consts.get(key, '?')}`", STATUS_TEXT[a.status], a.type,
             f"`{n.label_name(key)}`" if a.where in ("metric", "span+metric") else "", a.when]
            for key, a in ATTRIBUTES.items() if a.where in where]
    return [f"## {title}", "", intro, "",
            *_table(["Attribute", "Constant", "Status", "Type", "Metric label", "When it is set"], rows), ""]


def _fmt_buckets(buckets: tuple[float, ...] | None) -> str:
    if not buckets:
        return ""
    return ", ".join(f"{b:g}" for b in buckets)


def _metric_section() -> list[str]:
    rows = [[f"`{s.prom_name}`", f"`{s.otel_name}`", s.kind, f"`{s.unit}`",
             ", ".join(f"`{label}`" for label in s.labels), _fmt_buckets(s.buckets), s.description]
            for s in n.ALL_METRICS]
    return ["## Metrics", "",
            "Every metric in `names.ALL_METRICS`. The Prometheus name is derived from the OTel name and unit "
            "by the OTel → Prometheus rules (`names.prometheus_name`), so native `prometheus_client` "
            "metrics and OTLP → Collector → Prometheus metrics share one name. Histograms also expose "
            "`_bucket`, `_sum` and `_count` series.", "",
            *_table(["Prometheus name", "OTel name", "Type", "Unit", "Labels", "Buckets", "Description"], rows),
            ""]


def _default(value: object) -> str:
    return "none" if value is None else f"`{value!r}`" if isinstance(value, str) else f"`{value}`"


def _config_section() -> list[str]:
    rows = [[f"`{f.name}`", ", ".join(f"`{e}`" for e in f.metadata["env"]), _default(f.default),
             f.metadata["doc"]] for f in Config.options()]
    return ["## Configuration", "",
            "Options of `llmwatch.init()`; precedence is keyword argument > environment variable "
            "(first listed wins) > default.", "",
            *_table(["Option", "Environment", "Default", "Description"], rows), ""]


def _agent_config_section() -> list[str]:
    from llmwatch.daemon.config import AgentConfig

    rows = [[f"`{f.name}`", ", ".join(f"`{e}`" for e in f.metadata["env"]), _default(f.default),
             f.metadata["doc"]] for f in AgentConfig.options()]
    return ["## Agent configuration", "",
            "Options of `llmwatch agent` (keys of its `--config` TOML file); precedence is environment "
            "variable > file > default. Declared through the same mechanism as the SDK's options "
            "(`llmwatch/options.py`) and validated at start.", "",
            *_table(["Key", "Environment", "Default", "Description"], rows), ""]


def render() -> str:
    lines = [
        "# llmwatch reference",
        "",
        "<!-- Generated by scripts/gen_reference.py from llmwatch/names.py and llmwatch/config.py. "
        "Do not edit: run `python scripts/generate.py`. -->",
        "",
        "Status: *stable semconv* and *semconv (development)* are OpenTelemetry semantic-convention "
        "attributes at that stability; *llmwatch-specific* keys are not in semconv and live in the "
        "`llmwatch.*` namespace.",
        "",
        *_attribute_section("Span attributes", ("span", "span+metric"),
                            "Set on each GenAI client span (span name `{gen_ai.operation.name} "
                            "{gen_ai.request.model}`, kind CLIENT). Those with a metric label are also "
                            "labels of the metrics below."),
        *_attribute_section("Metric-only attributes", ("metric",),
                            "Attribute keys used only as metric labels (Prometheus label = key with `.` → `_`)."),
        *_attribute_section("Declared, not emitted", ("declared",),
                            "Keys `names.py` reserves that no code path sets yet."),
        *_metric_section(),
        *_config_section(),
        *_agent_config_section(),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/reference.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python scripts/generate.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
