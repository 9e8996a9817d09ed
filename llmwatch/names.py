"""Every name llmwatch emits: metric names, units, buckets, label keys, span attribute keys.

This module is the single source of truth. Dashboards, alert rules, the Helm chart and the docs
are checked against it by tests, so a rename here cannot leave a panel or an alert silently empty.

Metrics are declared once, with their OpenTelemetry name and unit; the Prometheus name is *derived*
with the same rules the OTel -> Prometheus translation applies (dots become underscores, the unit
becomes a suffix, counters get ``_total``). That is what lets one set of dashboards serve both the
native ``prometheus_client`` path and the OTLP -> Collector -> Prometheus path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# --------------------------------------------------------------------------------------------
# Span / metric attribute keys (OpenTelemetry GenAI semantic conventions: since core v1.42 they live in
# open-telemetry/semantic-conventions-genai; names here follow its v0.1.0 release)
# --------------------------------------------------------------------------------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
# Input tokens written to the provider's prompt cache (billed above the input rate by some).
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"
# Its name up to core semconv v1.41; emitted next to the new one only when OTEL_SEMCONV_STABILITY_OPT_IN
# asks for both (llmwatch/semconv.py).
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
OPENAI_RESPONSE_SERVICE_TIER = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT = "openai.response.system_fingerprint"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

# llmwatch's own span attributes (not in semconv; namespaced so they never collide)
LLMWATCH_COST_USD = "llmwatch.cost.usd"
LLMWATCH_COST_UNKNOWN = "llmwatch.cost.unknown"
LLMWATCH_STREAM_CHUNKS = "llmwatch.stream.chunk_count"
LLMWATCH_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
LLMWATCH_STREAM_ABANDONED = "llmwatch.stream.abandoned"
LLMWATCH_MODERATION_FLAGGED = "llmwatch.moderation.flagged"

# Evaluations (quality & safety scorers): attributes of the gen_ai.evaluation.result event
EVENT_GEN_AI_EVALUATION_RESULT = "gen_ai.evaluation.result"  # an event name, not an attribute key
GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"

# Retrieval spans from the framework integrations: number of documents returned
LLMWATCH_RETRIEVAL_DOCUMENTS = "llmwatch.retrieval.documents"

# Request context (llmwatch.context(...)): on spans and records, never metric labels
SESSION_ID = "session.id"
USER_ID = "user.id"
LLMWATCH_PROMPT_TEMPLATE = "llmwatch.prompt.template"
LLMWATCH_PROMPT_TEMPLATE_VERSION = "llmwatch.prompt.template_version"

# Values for gen_ai.operation.name
OP_CHAT = "chat"
OP_TEXT_COMPLETION = "text_completion"
OP_EMBEDDINGS = "embeddings"
OP_GENERATE_CONTENT = "generate_content"
OP_MODERATION = "moderation"  # not in semconv's list; the spec allows custom values
# Retrieving a stored response (OpenAI GET /responses/{id}); not a new generation, bills nothing.
OP_FETCH_RESPONSE = "fetch_response"

# Values for gen_ai.provider.name
PROVIDER_OPENAI = "openai"
PROVIDER_AZURE_OPENAI = "azure.ai.openai"
PROVIDER_ANTHROPIC = "anthropic"
PROVIDER_GCP_GEN_AI = "gcp.gen_ai"
PROVIDER_GCP_VERTEX_AI = "gcp.vertex_ai"
PROVIDER_AWS_BEDROCK = "aws.bedrock"
PROVIDER_OLLAMA = "ollama"

# OTEL_SEMCONV_STABILITY_OPT_IN values of the GenAI category (llmwatch/semconv.py): the conventions'
# own (latest names only), and llmwatch's /dup form (also the old names of renamed attributes).
SEMCONV_GEN_AI_OPT_IN = ("gen_ai_latest_experimental", "gen_ai_latest_experimental/dup")

# The quality & safety scorers, by the name options, the CLI and metrics use.
SCORER_NAMES = ("toxicity", "moderation", "injection", "pii", "validation", "embedding")

TOKEN_TYPE_INPUT = "input"
TOKEN_TYPE_OUTPUT = "output"

# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------
MetricKind = Literal["histogram", "counter", "gauge"]

# Semconv-recommended bucket boundaries.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
TIME_PER_CHUNK_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)

# The OTel -> Prometheus unit suffixes (opentelemetry-collector-contrib prometheus translator).
_UNIT_SUFFIX = {
    "s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
    "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
    "W": "watts", "J": "joules", "V": "volts", "A": "amperes", "Cel": "celsius", "Hz": "hertz",
    "%": "percent", "m": "meters",
}


def prometheus_name(otel_name: str, unit: str, kind: MetricKind) -> str:
    """Translate an OTel instrument name + unit into the Prometheus metric name.

    Follows the OTel "Prometheus and OpenMetrics compatibility" rules: invalid characters become
    ``_``; ``{annotations}`` in the unit are dropped; a known unit becomes a suffix unless the name
    already ends with it; unit ``1`` on a gauge becomes ``_ratio``; counters end in ``_total``.

    >>> prometheus_name("gen_ai.client.operation.duration", "s", "histogram")
    'gen_ai_client_operation_duration_seconds'
    """
    name = re.sub(r"[^a-zA-Z0-9_:]", "_", otel_name)
    name = re.sub(r"__+", "_", name)
    unit = re.sub(r"\{[^}]*\}", "", unit).strip()
    suffix = ""
    if unit == "1":
        suffix = "ratio" if kind == "gauge" else ""
    elif unit:
        suffix = _UNIT_SUFFIX.get(unit, re.sub(r"[^a-zA-Z0-9_]", "_", unit).strip("_"))
    if suffix and not name.endswith("_" + suffix):
        name = f"{name}_{suffix}"
    if kind == "counter" and not name.endswith("_total"):
        name += "_total"
    return name


def label_name(attribute_key: str) -> str:
    """Prometheus label name for an OTel attribute key (``gen_ai.request.model`` -> ``gen_ai_request_model``)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", attribute_key)


@dataclass(frozen=True)
class MetricSpec:
    """One metric, declared once. ``attributes`` are OTel attribute keys; labels derive from them."""

    otel_name: str
    kind: MetricKind
    unit: str
    description: str
    attributes: tuple[str, ...]
    buckets: tuple[float, ...] | None = None

    @property
    def prom_name(self) -> str:
        return prometheus_name(self.otel_name, self.unit, self.kind)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label_name(a) for a in self.attributes)

    @property
    def prom_series_names(self) -> tuple[str, ...]:
        """Names of the sample series Prometheus stores for this metric."""
        n = self.prom_name
        if self.kind == "histogram":
            return (f"{n}_bucket", f"{n}_sum", f"{n}_count")
        return (n,)


# Label set shared by the GenAI client metrics. Bounded: never ids, never prompt text.
_CALL_ATTRS = (GEN_AI_OPERATION_NAME, GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_MODEL)

LLMWATCH_ESTIMATED = "llmwatch.estimated"  # "true" | "false"
LLMWATCH_DROP_REASON = "llmwatch.reason"
LLMWATCH_COMPONENT = "llmwatch.component"

OPERATION_DURATION = MetricSpec(
    "gen_ai.client.operation.duration", "histogram", "s", "GenAI operation duration.",
    _CALL_ATTRS + (ERROR_TYPE,), DURATION_BUCKETS,
)
TOKEN_USAGE = MetricSpec(
    "gen_ai.client.token.usage", "histogram", "{token}",
    "Number of input and output tokens used, as reported by the provider (never estimates).",
    _CALL_ATTRS + (GEN_AI_TOKEN_TYPE,), TOKEN_BUCKETS,
)
TIME_TO_FIRST_CHUNK = MetricSpec(
    "gen_ai.client.operation.time_to_first_chunk", "histogram", "s",
    "Time from issuing a streaming request to receiving the first chunk.",
    _CALL_ATTRS + (ERROR_TYPE,), DURATION_BUCKETS,
)
TIME_PER_OUTPUT_CHUNK = MetricSpec(
    "gen_ai.client.operation.time_per_output_chunk", "histogram", "s",
    "Time between consecutive chunks of a streaming response, after the first.",
    _CALL_ATTRS + (ERROR_TYPE,), TIME_PER_CHUNK_BUCKETS,
)
COST = MetricSpec(
    "llmwatch.cost.usd", "counter", "{USD}",
    "Cost of GenAI calls in US dollars, from the bundled (or user) price table. Calls with an "
    "unknown price add nothing here and are counted in llmwatch_unknown_price_calls_total.",
    (GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_MODEL, LLMWATCH_ESTIMATED),
)
UNKNOWN_PRICE_CALLS = MetricSpec(
    "llmwatch.unknown_price.calls", "counter", "{call}",
    "Calls whose model has no known price (their cost is unknown, never $0).",
    (GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_MODEL),
)
ESTIMATED_TOKENS = MetricSpec(
    "llmwatch.estimated_tokens", "counter", "{token}",
    "Tokens estimated with a local tokenizer because the provider reported no usage.",
    (GEN_AI_OPERATION_NAME, GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_TOKEN_TYPE),
)
RECORDS_DROPPED = MetricSpec(
    "llmwatch.records.dropped", "counter", "{record}",
    "Call records llmwatch dropped, by reason (queue_full, sink_error, ...).",
    (LLMWATCH_DROP_REASON,),
)
INTERNAL_ERRORS = MetricSpec(
    "llmwatch.internal.errors", "counter", "{error}",
    "Failures inside llmwatch, caught and logged so they never reach the application.",
    (LLMWATCH_COMPONENT,),
)
QUEUE_DEPTH = MetricSpec(
    "llmwatch.queue.depth", "gauge", "{record}",
    "Call records waiting in the in-process queue for the sinks.", (),
)
RECORDS_PROCESSED = MetricSpec(
    "llmwatch.records.processed", "counter", "{record}",
    "Call records handed to the sinks.", (),
)

CORE_METRICS: tuple[MetricSpec, ...] = (
    OPERATION_DURATION, TOKEN_USAGE, TIME_TO_FIRST_CHUNK, TIME_PER_OUTPUT_CHUNK, COST,
    UNKNOWN_PRICE_CALLS, ESTIMATED_TOKENS, RECORDS_DROPPED, INTERNAL_ERRORS, QUEUE_DEPTH,
    RECORDS_PROCESSED,
)

# --------------------------------------------------------------------------------------------
# Prompt-log store (llmwatch.store)
# --------------------------------------------------------------------------------------------
STORE_RECORDS_WRITTEN = MetricSpec(
    "llmwatch.store.records.written", "counter", "{record}",
    "Call records written to the prompt-log database (direct writes and spool replays).", (),
)
STORE_RECORDS_SPOOLED = MetricSpec(
    "llmwatch.store.records.spooled", "counter", "{record}",
    "Call records written to the local disk spool because the database was unreachable, locked or full.", (),
)
STORE_RECORDS_REPLAYED = MetricSpec(
    "llmwatch.store.records.replayed", "counter", "{record}",
    "Spooled call records replayed into the database once it came back.", (),
)
STORE_RECORDS_DROPPED = MetricSpec(
    "llmwatch.store.records.dropped", "counter", "{record}",
    "Call records the prompt-log store could not keep, by reason (spool_full, spool_error, invalid).",
    (LLMWATCH_DROP_REASON,),
)
STORE_WRITE_ERRORS = MetricSpec(
    "llmwatch.store.write.errors", "counter", "{error}",
    "Failed database writes (each one sends its batch to the disk spool).", (),
)
STORE_SPOOL_SIZE = MetricSpec(
    "llmwatch.store.spool.size", "gauge", "By",
    "Bytes waiting in the prompt-log disk spool.", (),
)
STORE_BATCH_DURATION = MetricSpec(
    "llmwatch.store.batch.duration", "histogram", "s",
    "Time to write one batch of call records to the database.", (), DURATION_BUCKETS,
)

STORE_METRICS: tuple[MetricSpec, ...] = (
    STORE_RECORDS_WRITTEN, STORE_RECORDS_SPOOLED, STORE_RECORDS_REPLAYED, STORE_RECORDS_DROPPED,
    STORE_WRITE_ERRORS, STORE_SPOOL_SIZE, STORE_BATCH_DURATION,
)

# --------------------------------------------------------------------------------------------
# Quality & safety scorers. Dashboards and alerts read these; the scorers must emit exactly these
# names and labels. All share ``gen_ai.request.model`` with the core metrics so ratios against call
# counts join on it.
# --------------------------------------------------------------------------------------------
LLMWATCH_DIRECTION = "llmwatch.direction"  # "input" (prompt) | "output" (completion)
LLMWATCH_CATEGORY = "llmwatch.category"  # scorer/moderation category, e.g. "toxicity", "hate"
LLMWATCH_DETECTOR = "llmwatch.detector"  # which detector fired, e.g. "heuristic", "classifier"
LLMWATCH_RESPONSE_ANOMALY = "llmwatch.response.anomaly"  # what in a 200 response had an unexpected shape
LLMWATCH_REDACTION_KIND = "llmwatch.redaction.kind"  # "email" | "phone" | "credit_card" | ...
LLMWATCH_VALIDATOR = "llmwatch.validator"  # e.g. "json_schema", "regex", "max_length"
LLMWATCH_FEEDBACK_KIND = "llmwatch.feedback.kind"  # e.g. "thumbs", "rating"

SCORE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)

TOXICITY_SCORE = MetricSpec(
    "llmwatch.toxicity.score", "histogram", "1",
    "Toxicity score in [0, 1] of one text, observed once per scored text and category "
    "(direction input = prompt, output = completion). Alerts count the share above le=\"0.8\".",
    (GEN_AI_REQUEST_MODEL, LLMWATCH_DIRECTION, LLMWATCH_CATEGORY), SCORE_BUCKETS,
)
MODERATION_FLAGS = MetricSpec(
    "llmwatch.moderation.flags", "counter", "{flag}",
    "Texts flagged by moderation, +1 per flagged category (a text flagged for two categories adds 2).",
    (GEN_AI_REQUEST_MODEL, LLMWATCH_DIRECTION, LLMWATCH_CATEGORY),
)
INJECTION_DETECTIONS = MetricSpec(
    "llmwatch.injection.detections", "counter", "{detection}",
    "Prompts a prompt-injection detector flagged, +1 per flagged prompt and detector.",
    (GEN_AI_REQUEST_MODEL, LLMWATCH_DETECTOR),
)
REDACTIONS = MetricSpec(
    "llmwatch.redactions", "counter", "{redaction}",
    "PII spans redacted before storage, +1 per redacted span, by kind and direction.",
    (LLMWATCH_REDACTION_KIND, LLMWATCH_DIRECTION),
)
VALIDATION_FAILURES = MetricSpec(
    "llmwatch.validation.failures", "counter", "{failure}",
    "Responses that failed an output validator (JSON schema, regex, length, ...), +1 per failure.",
    (GEN_AI_REQUEST_MODEL, LLMWATCH_VALIDATOR),
)
FEEDBACK_SCORE = MetricSpec(
    "llmwatch.feedback.score", "histogram", "1",
    "User feedback normalised to [0, 1] (thumbs down = 0, thumbs up = 1; ratings scaled), one "
    "observation per feedback event.",
    (GEN_AI_REQUEST_MODEL, LLMWATCH_FEEDBACK_KIND), (0.0, 0.25, 0.5, 0.75, 1.0),
)

SCORER_AVAILABLE = MetricSpec(
    "llmwatch.scorer.available", "gauge", "{state}",
    "1 when a configured scorer can run here (its extra, model and weights are installed), 0 when it "
    "cannot; the log line and the scorer's status say why (e.g. \"toxicity: no weights (run `llmwatch "
    "models fetch detoxify original`)\"). One series per configured scorer.",
    (GEN_AI_EVALUATION_NAME,),
)

QUALITY_METRICS: tuple[MetricSpec, ...] = (
    TOXICITY_SCORE, MODERATION_FLAGS, INJECTION_DETECTIONS, REDACTIONS, VALIDATION_FAILURES,
    FEEDBACK_SCORE, SCORER_AVAILABLE,
)

# --------------------------------------------------------------------------------------------
# GPU (the agent and init(gpu=True)). OTel hardware semconv ``hw.*`` names, translated to Prometheus by the same
# rules as everything else; llmwatch.gpu.* where semconv has nothing. One series per GPU, labelled
# ``hw_id`` (the GPU UUID) and ``hw_name`` (the product name).
# --------------------------------------------------------------------------------------------
HW_ID = "hw.id"
HW_NAME = "hw.name"
HW_TYPE = "hw.type"  # always "gpu" here
# hw_thermal|sw_thermal|hw_power_brake|sw_power_cap|hw_slowdown|...
LLMWATCH_THROTTLE_REASON = "llmwatch.gpu.throttle.reason"
PROCESS_PID = "process.pid"
PROCESS_EXECUTABLE_NAME = "process.executable.name"

LLMWATCH_GPU_INDEX = "llmwatch.gpu.index"  # NVML device index, "0", "1", ... (the UUID is the stable id)
LLMWATCH_GPU_CLOCK_DOMAIN = "llmwatch.gpu.clock.domain"  # "sm" | "memory"

_GPU_ATTRS = (HW_ID, HW_NAME, LLMWATCH_GPU_INDEX)

GPU_UTILIZATION = MetricSpec(
    "hw.gpu.utilization", "gauge", "1", "Fraction of time the GPU was busy, 0..1 (NVML utilization.gpu / 100).",
    _GPU_ATTRS,
)
GPU_MEMORY_USAGE = MetricSpec(
    "hw.gpu.memory.usage", "gauge", "By", "GPU memory in use, bytes (NVML memory.used).", _GPU_ATTRS,
)
GPU_MEMORY_LIMIT = MetricSpec(
    "hw.gpu.memory.limit", "gauge", "By", "Total GPU memory, bytes (NVML memory.total).", _GPU_ATTRS,
)
GPU_POWER = MetricSpec(
    "hw.power", "gauge", "W", "GPU power draw, watts (NVML reports mW: divide by 1000); hw.type=\"gpu\".",
    _GPU_ATTRS + (HW_TYPE,),
)
GPU_TEMPERATURE = MetricSpec(
    "hw.temperature", "gauge", "Cel", "GPU core temperature, degrees Celsius; hw.type=\"gpu\".",
    _GPU_ATTRS + (HW_TYPE,),
)
GPU_THROTTLE_ACTIVE = MetricSpec(
    "llmwatch.gpu.throttle.active", "gauge", "{state}",
    "1 while the named clock-throttle reason is active on the GPU, else 0; one series per GPU and "
    "reason (NVML clocks-event reasons: hw_thermal, sw_thermal, hw_power_brake, sw_power_cap, "
    "hw_slowdown, sync_boost, idle).",
    _GPU_ATTRS + (LLMWATCH_THROTTLE_REASON,),
)
GPU_PROCESS_MEMORY = MetricSpec(
    "llmwatch.gpu.process.memory.usage", "gauge", "By",
    "GPU memory used by one process, bytes (NVML running compute processes; omitted when NVML reports None).",
    _GPU_ATTRS + (PROCESS_PID, PROCESS_EXECUTABLE_NAME),
)
GPU_AVAILABLE = MetricSpec(
    "llmwatch.gpu.available", "gauge", "{state}",
    "1 when the agent's NVML source initialised and reads the GPUs, 0 when NVML is unavailable "
    "(library missing, driver error). Always exported by the GPU collector.", (),
)

GPU_ENERGY = MetricSpec(
    "hw.energy", "counter", "J",
    "Energy the GPU consumed since the driver was loaded, joules (NVML total energy, mJ / 1000); hw.type=\"gpu\".",
    _GPU_ATTRS + (HW_TYPE,),
)
GPU_CLOCK = MetricSpec(
    "llmwatch.gpu.clock.frequency", "gauge", "Hz",
    "Current GPU clock, hertz (NVML reports MHz); llmwatch.gpu.clock.domain is sm or memory.",
    _GPU_ATTRS + (LLMWATCH_GPU_CLOCK_DOMAIN,),
)
GPU_ECC_ERRORS = MetricSpec(
    "hw.errors", "counter", "{error}",
    "GPU memory ECC errors since the driver was loaded (NVML volatile counts); error.type is "
    "corrected or uncorrected; hw.type=\"gpu\".",
    _GPU_ATTRS + (HW_TYPE, ERROR_TYPE),
)

GPU_METRICS: tuple[MetricSpec, ...] = (
    GPU_UTILIZATION, GPU_MEMORY_USAGE, GPU_MEMORY_LIMIT, GPU_POWER, GPU_TEMPERATURE,
    GPU_THROTTLE_ACTIVE, GPU_PROCESS_MEMORY, GPU_AVAILABLE, GPU_ENERGY, GPU_CLOCK, GPU_ECC_ERRORS,
)

# Per-request GPU attribution (``llmwatch.init(gpu=True)``): span attributes over the call's own
# time window, from the SDK's NVML sampler. Device-wide figures: overlapping calls each see the
# whole device (see README.md, "Per-request GPU attribution").
LLMWATCH_GPU_UTILIZATION_MEAN = "llmwatch.gpu.utilization.mean"
LLMWATCH_GPU_UTILIZATION_MAX = "llmwatch.gpu.utilization.max"
LLMWATCH_GPU_MEMORY_DELTA = "llmwatch.gpu.memory.delta"
LLMWATCH_GPU_SAMPLES = "llmwatch.gpu.samples"

# --------------------------------------------------------------------------------------------
# The agent's own health (``llmwatch agent``)
# --------------------------------------------------------------------------------------------
HTTP_ROUTE = "http.route"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"

AGENT_HTTP_REQUESTS = MetricSpec(
    "llmwatch.agent.http.requests", "counter", "{request}",
    "Requests the agent's HTTP server answered, by route and status code.",
    (HTTP_ROUTE, HTTP_RESPONSE_STATUS_CODE),
)
AGENT_RETENTION_DELETED = MetricSpec(
    "llmwatch.agent.retention.deleted", "counter", "{record}",
    "Calls the agent's retention job deleted from the prompt log.", (),
)
AGENT_RETENTION_RUNS = MetricSpec(
    "llmwatch.agent.retention.runs", "counter", "{run}",
    "Retention passes, by outcome (error.type empty on success).", (ERROR_TYPE,),
)
AGENT_COMPONENT_UP = MetricSpec(
    "llmwatch.agent.component.up", "gauge", "{state}",
    "1 while an agent component (http, gpu, scorers, retention) is running, else 0.",
    (LLMWATCH_COMPONENT,),
)

AGENT_METRICS: tuple[MetricSpec, ...] = (
    AGENT_HTTP_REQUESTS, AGENT_RETENTION_DELETED, AGENT_RETENTION_RUNS, AGENT_COMPONENT_UP,
)

# Every metric llmwatch (SDK, store, scorers, agent) can emit. Later modules append their specs
# here, in this file, so the dashboards/alerts/chart tests see the complete list.
ALL_METRICS: tuple[MetricSpec, ...] = (CORE_METRICS + STORE_METRICS + QUALITY_METRICS + GPU_METRICS
                                   + AGENT_METRICS)


def by_prom_name() -> dict[str, MetricSpec]:
    """Map every Prometheus series name (incl. ``_bucket``/``_sum``/``_count``) to its spec."""
    out: dict[str, MetricSpec] = {}
    for spec in ALL_METRICS:
        for series in spec.prom_series_names:
            out[series] = spec
    return out


# --------------------------------------------------------------------------------------------
# Chains, agents, tools and retrievals: parent spans around LLM calls, and roll-ups of
# the calls beneath them. Span names follow semconv: "invoke_agent {gen_ai.agent.name}",
# "execute_tool {gen_ai.tool.name}", "retrieval {gen_ai.data_source.id}", "invoke_workflow {name}".
# --------------------------------------------------------------------------------------------
OP_INVOKE_WORKFLOW = "invoke_workflow"
OP_INVOKE_AGENT = "invoke_agent"
OP_EXECUTE_TOOL = "execute_tool"
OP_RETRIEVAL = "retrieval"
OP_TASK = "task"  # llmwatch's own: any other step, e.g. llmwatch.span("rerank")

# llmwatch.trace(kind=...) -> gen_ai.operation.name of the span (and operation of its prompt-log row)
SPAN_KINDS: dict[str, str] = {
    "workflow": OP_INVOKE_WORKFLOW, "agent": OP_INVOKE_AGENT, "tool": OP_EXECUTE_TOOL,
    "retrieval": OP_RETRIEVAL, "task": OP_TASK,
}

GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_AGENT_ID = "gen_ai.agent.id"
GEN_AI_AGENT_DESCRIPTION = "gen_ai.agent.description"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"  # opt-in content
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"  # opt-in content
GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id"
LLMWATCH_WORKFLOW_NAME = "llmwatch.workflow.name"
LLMWATCH_SPAN_KIND = "llmwatch.span.kind"  # workflow | agent | tool | retrieval | task | llm | embeddings
LLMWATCH_SPAN_SOURCE = "llmwatch.span.source"  # llmwatch | langchain | llamaindex

# Cumulative roll-ups on a parent span: the LLM calls anywhere beneath it.
LLMWATCH_ROLLUP_CALLS = "llmwatch.rollup.calls"
LLMWATCH_ROLLUP_INPUT_TOKENS = "llmwatch.rollup.input_tokens"
LLMWATCH_ROLLUP_OUTPUT_TOKENS = "llmwatch.rollup.output_tokens"
LLMWATCH_ROLLUP_COST_USD = "llmwatch.rollup.cost.usd"  # sum of known costs
LLMWATCH_ROLLUP_COST_UNKNOWN_CALLS = "llmwatch.rollup.cost_unknown_calls"  # calls with no known price

# Durations of the parent spans (semantic-conventions-genai v0.1.0): one observation per span, equal to
# the span's duration. Workflows are recorded on gen_ai.invoke_agent.duration with
# gen_ai.operation.name=invoke_workflow and the workflow's name in gen_ai.agent.name (the release
# merged the proposed gen_ai.invoke_workflow.duration into it). Agent runs last longer than a model
# call: buckets as OpenTelemetry's util-genai reference implementation declares them.
AGENT_DURATION_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
INVOKE_AGENT_DURATION = MetricSpec(
    "gen_ai.invoke_agent.duration", "histogram", "s",
    "End-to-end duration of one agent (or workflow: gen_ai.operation.name=invoke_workflow) invocation.",
    (GEN_AI_OPERATION_NAME, GEN_AI_AGENT_NAME, ERROR_TYPE), AGENT_DURATION_BUCKETS,
)
EXECUTE_TOOL_DURATION = MetricSpec(
    "gen_ai.execute_tool.duration", "histogram", "s", "Duration of one tool execution.",
    (GEN_AI_OPERATION_NAME, GEN_AI_TOOL_NAME, GEN_AI_TOOL_TYPE, ERROR_TYPE), DURATION_BUCKETS,
)
PARENT_SPAN_METRICS: tuple[MetricSpec, ...] = (INVOKE_AGENT_DURATION, EXECUTE_TOOL_DURATION)
ALL_METRICS = ALL_METRICS + PARENT_SPAN_METRICS
