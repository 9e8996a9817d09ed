"""One observed call: its span, timings, metrics and record, finished exactly once.

A :class:`Call` is started before the SDK sends the request and finished with the response, the
exception, or (for streams) the last chunk / ``close()`` / garbage collection. ``finish_*``
methods are idempotent, and every step after the user's own code is guarded: a failure here is
counted in ``llmwatch_internal_errors_total`` and never reaches the application.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmwatch import names as n
from llmwatch.instrumentation import content
from llmwatch.instrumentation.dialect import dialect_for
from llmwatch.instrumentation.extract import ResponseInfo, read_response, request_param_attributes
from llmwatch.instrumentation.finish import cost_attributes, measure
from llmwatch.record import STATUS_ERROR, CallRecord
from llmwatch.semconv import add_deprecated
from llmwatch.tracing.context import current as _current_context
from llmwatch.usage.pricing import CallCost, price

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

    from llmwatch.instrumentation.state import State

# APIs billed on input tokens only (no output price to need).
_INPUT_BILLED = ("embeddings", "moderations")
_perf = time.perf_counter
_now = time.time


class Call:
    __slots__ = ("state", "api", "op", "body", "attrs", "span", "token", "t0", "start", "done", "streamed",
                 "provider", "request_model", "ttfc", "chunk_times", "text", "tool_calls", "info",
                 "abandoned", "host", "port", "duration", "end_ns", "response", "error", "chunks", "context",
                 "dialect", "messages")

    def __init__(self, state: State, api: str, op: str, body: dict[str, Any], attrs: dict[str, Any],
                 streamed: bool) -> None:
        self.state = state
        self.api = api
        self.dialect = dialect_for(api)  # None for OpenAI's own APIs, read below and in extract/content
        # (system, inputs, outputs, redaction counts or None): normalised (and redacted) once for
        # the span, then handed to the record so the pipeline does neither again.
        self.messages: tuple[Any, Any, Any, Any] | None = None
        self.op = op
        self.body = body
        self.attrs = attrs
        self.provider = attrs[n.GEN_AI_PROVIDER_NAME]
        self.request_model = attrs.get(n.GEN_AI_REQUEST_MODEL)
        self.host = attrs.get(n.SERVER_ADDRESS)
        self.port = attrs.get(n.SERVER_PORT)
        self.streamed = streamed
        self.done = False
        self.ttfc: float | None = None
        self.chunk_times: list[float] | None = None
        # list[str] / list[Any] from the first chunk on; Any so the hot path needs no None checks.
        self.text: Any = None
        self.tool_calls: dict[int, dict[str, Any]] | None = None
        self.info: ResponseInfo | None = None
        self.abandoned = False
        self.chunks: Any = None
        self.response: Any = None
        self.error: BaseException | None = None
        self.duration = 0.0
        self.end_ns = 0
        ctx = self.context = _current_context()
        if ctx is not None:
            attrs.update(ctx.span_attributes)
        name = f"{op} {self.request_model}" if self.request_model else op
        self.span = state.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs)
        # Make the span current while the SDK sends, so HTTP-level spans nest beneath it.
        self.token: Token[Context] | None = otel_context.attach(trace.set_span_in_context(self.span))
        self.start = _now()
        self.t0 = _perf()

    def detach(self) -> None:
        token, self.token = self.token, None
        if token is not None:
            try:
                otel_context.detach(token)
            except Exception:  # noqa: BLE001 - detach from another context (async gen): harmless
                pass

    # ------------------------------------------------------------------ outcomes (caller's thread)
    def finish_response(self, response: Any) -> None:
        """A complete (non-streamed) typed response."""
        if self.done:
            return
        self._finish(response=response)

    def finish_error(self, exc: BaseException) -> None:
        if self.done:
            return
        self._finish(error=exc)

    def finish_stream(self, abandoned: bool = False) -> None:
        if self.done:
            return
        self.abandoned = abandoned
        self._finish()

    def _finish(self, response: Any = None, error: BaseException | None = None) -> None:
        """Stamp the end and hand the call to the pipeline: all the caller's thread pays for.

        The span is ended later by the worker with this explicit end time, after it has read
        the response and set the attributes; metrics and the record are made there too. If the
        queue is full the call is completed here instead (and its record counted as dropped).
        """
        self.done = True
        self.duration = _perf() - self.t0
        self.end_ns = time.time_ns()
        self.response = response
        self.error = error
        self.detach()
        pipeline = self.state.pipeline
        if pipeline is None or not pipeline.submit(self):
            self.complete()

    # ------------------------------------------------------------------ streams
    def on_chunk(self, chunk: Any) -> None:
        """Called for every stream chunk on the caller's thread, so it does the least it can: a
        timestamp, and for plain text deltas just the text (strings are not GC-tracked; keeping
        every chunk object alive until the worker runs measurably slows the app's GC). Chunks
        that carry more (the first, finish reasons, tool calls, usage, Responses events) are kept
        and read on the worker."""
        t = _perf()
        times = self.chunk_times
        if times is None:
            self.ttfc = t - self.t0
            times = self.chunk_times = []
            self.chunks = []
            self.text = []
            times.append(t)
            self.chunks.append(chunk)
            return
        times.append(t)
        if self.api == "chat":
            choices = chunk.choices
            if len(choices) == 1 and chunk.usage is None:
                choice = choices[0]
                delta = choice.delta
                if choice.finish_reason is None and not delta.tool_calls:
                    if delta.content:
                        self.text.append(delta.content)
                    return
        elif self.api == "responses":
            if chunk.type == "response.output_text.delta":
                self.text.append(chunk.delta)
                return
        elif self.dialect is not None:
            delta = self.dialect.text_delta(chunk)
            if delta is not None:
                self.text.append(delta)
                return
        # Anything else is kept whole; a marker keeps text order relative to it.
        self.chunks.append((len(self.text), chunk))

    def _read_chunks(self) -> None:
        plain = self.text or []
        self.text = []
        info = self.info = ResponseInfo()
        chunks = self.chunks or ()
        first = True
        pos = 0
        for item in chunks:
            if first:
                first = False
                self._read_chunk(item, info)
                continue
            at, chunk = item
            if at > pos:
                self.text.extend(plain[pos:at])
                pos = at
            self._read_chunk(chunk, info)
        self.text.extend(plain[pos:])
        self.chunks = None

    def _read_chunk(self, chunk: Any, info: ResponseInfo) -> None:
        if self.dialect is not None:
            self.dialect.read_chunk(self, chunk, info)
            return
        api = self.api
        if api == "responses":
            kind = getattr(chunk, "type", None)
            if kind == "response.output_text.delta":
                self.text.append(chunk.delta)
            elif kind in ("response.completed", "response.incomplete", "response.failed", "response.created"):
                resp = chunk.response
                info.model = resp.model or info.model
                info.id = resp.id or info.id
                if kind != "response.created":
                    info.read_responses_usage(resp.usage)
                    reason = content.responses_finish_reason(resp)
                    info.finish_reasons = [reason] if reason else None
            return
        if info.model is None:
            info.model = getattr(chunk, "model", None)
            info.id = getattr(chunk, "id", None)
        for choice in chunk.choices or ():
            if api == "chat":
                delta = choice.delta
                if delta is not None:
                    if delta.content:
                        self.text.append(delta.content)
                    if delta.tool_calls:
                        self._tool_call_delta(delta.tool_calls)
            elif choice.text:
                self.text.append(choice.text)
            if choice.finish_reason:
                if info.finish_reasons is None:
                    info.finish_reasons = []
                info.finish_reasons.append(choice.finish_reason)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            info.read_chat_usage(usage)

    def add_tool_call_delta(self, index: int, call_id: str | None, name: str | None, arguments: str | None) -> None:
        """A piece of a streamed tool call (worker): id and name once, arguments appended."""
        calls = self.tool_calls
        if calls is None:
            calls = self.tool_calls = {}
        call = calls.setdefault(index, {"id": None, "name": None, "arguments": ""})
        if call_id:
            call["id"] = call_id
        if name:
            call["name"] = name
        if arguments:
            call["arguments"] += arguments

    def _tool_call_delta(self, deltas: Any) -> None:
        calls = self.tool_calls
        if calls is None:
            calls = self.tool_calls = {}
        for d in deltas:
            call = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
            if d.id:
                call["id"] = d.id
            fn = d.function
            if fn is not None:
                if fn.name:
                    call["name"] = fn.name
                if fn.arguments:
                    call["arguments"] += fn.arguments

    # ------------------------------------------------------------------ completion (worker thread)
    def complete(self) -> CallRecord | None:
        """The one finish point: read the outcome, price it, describe it on the span, end the span,
        record the metrics, build the record.

        Each step is guarded on its own: a response of an unexpected shape still ends the span
        exactly once and still yields the call's record — with what could be read, its usage
        unknown, and the anomaly counted (``llmwatch_internal_errors_total{llmwatch_component=
        "response_shape"}``)."""
        response, error = self.response, self.error
        self.response = self.error = None
        info = self._read(response)
        error_type = _error_type(error) if error is not None else ""
        cost = price(self.state.prices, info.model, self.request_model, info.input_tokens, info.output_tokens,
                     info.cached_tokens, cache_write_input_tokens=info.cache_write_tokens, failed=error is not None,
                     needs_output=not self._input_billed())
        self._end_span(self._attributes(info, error_type, cost, response), error)
        self._measure(info, error_type, cost)
        return self._build_record(info, error, error_type, cost, response)

    def _input_billed(self) -> bool:
        return self.dialect.input_billed if self.dialect is not None else self.api in _INPUT_BILLED

    def _read(self, response: Any) -> ResponseInfo:
        try:
            if response is not None:
                info = read_response(self.api, response)
            elif self.chunks is not None:
                self._read_chunks()
                info = self.info or ResponseInfo()
            else:
                info = ResponseInfo()
        except Exception as exc:  # noqa: BLE001 - a body of an unexpected shape: keep what was read
            info = self.info or ResponseInfo()
            info.anomaly = f"{type(exc).__name__}: {exc}"[:200]
        self.info = info
        if info.anomaly is not None:
            self.state.instruments.internal_error("response_shape", ValueError(info.anomaly))
        return info

    def _attributes(self, info: ResponseInfo, error_type: str, cost: CallCost, response: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        try:
            attrs.update(request_param_attributes(self.api, self.body))
            info.span_attributes(attrs)
            add_deprecated(attrs, self.state.config.semconv_opt_in)  # old names, only if opted in
            if self.streamed:
                attrs[n.LLMWATCH_STREAM_CHUNKS] = len(self.chunk_times or ())
                if self.ttfc is not None:
                    attrs[n.LLMWATCH_TIME_TO_FIRST_CHUNK] = self.ttfc
                if self.abandoned:
                    attrs[n.LLMWATCH_STREAM_ABANDONED] = True
            if error_type:
                attrs[n.ERROR_TYPE] = error_type
            cost_attributes(attrs, cost)
            state = self.state
            if state.capture_content and self.span.is_recording():
                self._content_attributes(attrs, response)
            for enrich in state.span_enrichers:
                try:
                    enrich(self, attrs)
                except Exception as exc:  # noqa: BLE001
                    state.instruments.internal_error("span_enricher", exc)
        except Exception as exc:  # noqa: BLE001
            self.state.instruments.internal_error("span_attributes", exc)
        return attrs

    def _end_span(self, attrs: dict[str, Any], error: BaseException | None) -> None:
        span = self.span
        try:
            if error is not None:
                redactor = self.state.redactor
                message = str(error) if redactor is None else redactor.text(str(error))
                span.set_status(Status(StatusCode.ERROR, message[:512]))
                if redactor is None:
                    span.record_exception(error)
                else:
                    span.record_exception(error, attributes={
                        "exception.message": message, "exception.stacktrace": redactor.text(_stacktrace(error))})
            span.set_attributes(attrs)
        except Exception as exc:  # noqa: BLE001
            self.state.instruments.internal_error("span_end", exc)
        try:
            span.end(end_time=self.end_ns)
        except Exception as exc:  # noqa: BLE001
            self.state.instruments.internal_error("span_end", exc)

    def _measure(self, info: ResponseInfo, error_type: str, cost: CallCost) -> None:
        try:
            measure(self.state.instruments, self.op, self.provider, self.request_model, info.model, error_type,
                    self.duration, info.input_tokens, info.output_tokens, self.ttfc, cost)
        except Exception as exc:  # noqa: BLE001
            self.state.instruments.internal_error("metrics", exc)

    def _build_record(self, info: ResponseInfo, error: BaseException | None, error_type: str, cost: CallCost,
                      response: Any) -> CallRecord | None:
        state = self.state
        try:
            record = self._record(self.span, info, self.duration, error, error_type, cost.usd, response)
        except Exception as exc:  # noqa: BLE001
            state.instruments.internal_error("record", exc)
            return None
        for enrich_record in state.record_enrichers:
            try:
                enrich_record(self, record)
            except Exception as exc:  # noqa: BLE001
                state.instruments.internal_error("record_enricher", exc)
        return record

    def _content_attributes(self, attrs: dict[str, Any], response: Any) -> None:
        system, inputs = content.request_inputs(self.op, self.api, self.body)
        if response is not None:
            outputs = content.response_outputs(self.api, response)
        elif self.streamed:
            outputs = content.stream_outputs("".join(self.text or ()), self.info.finish_reasons if self.info else None,
                                             list((self.tool_calls or {}).values()))
        else:
            outputs = None
        redactor = self.state.redactor
        counts = None
        if redactor is not None:
            system, inputs, outputs, counts = redactor.content(system, inputs, outputs)
        self.messages = (system, inputs, outputs, counts)
        tools = self.dialect.tool_definitions(self.body) if self.dialect is not None else self.body.get("tools")
        attrs.update(content.span_content_attributes(system, inputs, outputs, tools,
                                                     self.state.config.content_max_length))

    def _record(self, span: Any, info: ResponseInfo, duration: float, error: BaseException | None,
                error_type: str, cost: float | None, response: Any) -> CallRecord:
        ctx = span.get_span_context()
        parent = getattr(span, "parent", None)
        state = self.state
        rec = CallRecord(
            operation=self.op, provider=self.provider, request_model=self.request_model,
            start_time=self.start, end_time=self.start + duration,
            trace_id=format(ctx.trace_id, "032x") if ctx.is_valid else None,
            span_id=format(ctx.span_id, "016x") if ctx.is_valid else None,
            parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
            response_model=info.model, response_id=info.id, server_address=self.host, server_port=self.port,
            streamed=self.streamed, time_to_first_chunk=self.ttfc, finish_reasons=info.finish_reasons,
            input_tokens=info.input_tokens, output_tokens=info.output_tokens,
            cached_input_tokens=info.cached_tokens, reasoning_tokens=info.reasoning_tokens,
            cost_usd=cost, embedding_dimensions=info.dimensions, service_name=state.config.service_name,
            request_params=state.record_params(self.api, self.body),
        )
        if error is not None:
            rec.status = STATUS_ERROR
            rec.error_type = error_type
            rec.error_message = str(error)[:2000]
        if self.streamed:
            rec.chunk_count = len(self.chunk_times or ())
            rec.chunk_times = self.chunk_times
            if self.text:
                rec.stream_text = "".join(self.text)
            if self.tool_calls:
                rec.metadata["tool_calls"] = list(self.tool_calls.values())
            if self.abandoned:
                rec.metadata["stream_abandoned"] = True
        if info.flagged is not None:
            rec.metadata["moderation_flagged"] = info.flagged
        if info.cache_write_tokens:  # no column of its own yet: kept in metadata, no schema migration
            rec.metadata["cache_write_input_tokens"] = info.cache_write_tokens
        if info.anomaly is not None:
            rec.metadata["response_anomaly"] = info.anomaly
        ctx = self.context
        if ctx is not None:
            ctx.fill_record(rec)
        if state.capture_records:
            rec.raw_request = self.body
            rec.raw_response = response
            if self.messages is not None:  # normalised (and redacted) for the span already
                rec.system_instructions, rec.input_messages, rec.output_messages, rec.messages_redacted = self.messages
                self.messages = None
        return rec


def _stacktrace(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _error_type(exc: BaseException) -> str:
    return type(exc).__qualname__
