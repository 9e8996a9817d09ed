"""What the shared call core asks of a provider's wire format.

Every observed LLM call — whoever made it — goes through one
:class:`~llmwatch.instrumentation.call.Call`: its span, timings, finish point, metrics and record.
The provider-specific parts are small and live behind a :class:`Dialect`, one per API shape
(``anthropic.messages``, ``gcp.gen_ai.generate_content``, ``aws.bedrock.converse``, ``ollama.chat``,
...): which request parameters become attributes, how a response (or a stream's chunks) reports
model, id, finish reasons and usage, and how prompts and outputs map to the semconv message shape.
OpenAI's own APIs (``chat``, ``responses``, ``embeddings``, ``moderations``, ``completions``) are read
by the code in :mod:`~llmwatch.instrumentation.extract` and :mod:`~llmwatch.instrumentation.content`
directly.

A dialect is found by the ``api`` name stored on the record (``request_params["api"]``), through
the static table :data:`DIALECTS` below: nothing registers itself at import time, and the module
holding a dialect is imported the first time a call of that API is seen.

Only :meth:`Dialect.text_delta` runs on the caller's thread (once per stream chunk, so a few
attribute reads at most); everything else runs on the record worker.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmwatch.instrumentation.call import Call
    from llmwatch.instrumentation.extract import ResponseInfo

Messages = list[dict[str, Any]]


class Dialect:
    """One provider API's wire format, as the call core needs it (override what applies)."""

    #: The name stored as ``request_params["api"]`` (e.g. ``"anthropic.messages"``).
    api: str = ""
    #: Priced on input tokens only (embeddings): no output count is needed to price the call.
    input_billed: bool = False

    def param_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        """``gen_ai.request.*`` attributes from the request body (temperature, max tokens, ...)."""
        return {}

    def record_params(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request parameters kept on the stored record (``api`` is added by the core)."""
        return {}

    def read_response(self, info: ResponseInfo, response: Any) -> None:
        """Fill ``info`` (model, id, finish reasons, usage, ...) from a complete response."""

    def text_delta(self, chunk: Any) -> str | None:
        """Caller's thread, per stream chunk: the chunk's text if it carries only text, else None
        (the chunk is then kept whole and read by :meth:`read_chunk` on the worker)."""
        return None

    def read_chunk(self, call: Call, chunk: Any, info: ResponseInfo) -> None:
        """Worker: read one kept stream chunk into ``info``; text goes to ``call.text``, tool-call
        pieces to ``call.add_tool_call_delta``."""

    def inputs(self, operation: str, body: dict[str, Any]) -> tuple[Messages | None, Messages]:
        """(system instructions, input messages) in the semconv message shape."""
        return None, []

    def outputs(self, response: Any) -> Messages | None:
        """Output messages of a complete response (None where the API has none: embeddings)."""
        return None

    def tool_definitions(self, body: dict[str, Any]) -> Any:
        """The tools offered to the model, for ``gen_ai.tool.definitions`` (worker, content on only).
        The default reads an OpenAI-style ``tools`` list from the body."""
        return body.get("tools")


# api -> "module:attribute" of its Dialect instance. Imported on first use.
DIALECTS: dict[str, str] = {
    "anthropic.messages": "llmwatch.instrumentation.anthropic:MESSAGES",
    "ollama.chat": "llmwatch.instrumentation.ollama:CHAT",
    "ollama.generate": "llmwatch.instrumentation.ollama:GENERATE",
    "ollama.embed": "llmwatch.instrumentation.ollama:EMBED",
    "gcp.gen_ai.generate_content": "llmwatch.instrumentation.google_genai_wire:GENERATE",
    "gcp.gen_ai.embed_content": "llmwatch.instrumentation.google_genai_wire:EMBED",
    "aws.bedrock.converse": "llmwatch.instrumentation.bedrock_wire:CONVERSE",
    "aws.bedrock.invoke_model": "llmwatch.instrumentation.bedrock_invoke_wire:INVOKE_MODEL",
    "aws.bedrock.invoke_model.embeddings": "llmwatch.instrumentation.bedrock_invoke_wire:INVOKE_MODEL_EMBEDDINGS",
}

_LOADED: dict[str, Dialect | None] = {}


def dialect_for(api: str | None) -> Dialect | None:
    """The dialect of ``api``, or None for OpenAI's own APIs (and unknown names)."""
    if not api:
        return None
    try:
        return _LOADED[api]
    except KeyError:
        pass
    target = DIALECTS.get(api)
    dialect: Dialect | None = None
    if target is not None:
        module, _, attr = target.partition(":")
        dialect = getattr(importlib.import_module(module), attr)
    _LOADED[api] = dialect
    return dialect
