"""LlamaIndex: its instrumentation dispatcher's spans become llmwatch spans.

``init()`` adds a span handler to LlamaIndex's root dispatcher as soon as ``llama_index.core`` is
imported (``shutdown()`` removes it). Of the many spans LlamaIndex opens, those that tell the
story become llmwatch spans; the rest are skipped, and their children attach to the nearest
mapped ancestor:

    query engine ``query``          -> invoke_workflow {QueryEngineClass}
    retriever ``retrieve``          -> retrieval {RetrieverClass}
    synthesizer ``synthesize``      -> task "synthesize"
    tool ``call``                   -> execute_tool {tool name}
    LLM ``chat``/``complete`` (+ async/stream)  -> chat|text_completion {model}
    embedding ``get_*embedding*``   -> embeddings {model}

The span is made current while LlamaIndex runs the method, so an instrumented openai call inside
(``llama-index-llms-openai``) nests under the LLM span, which then only wraps it (no double count).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-export without __all__
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler

from llmwatch import names as n
from llmwatch.tracing.parent_spans import LLMUsage, Node, detach_run

_OPEN: dict[str, tuple[Node, Any]] = {}
_HANDLER: LlmwatchSpanHandler | None = None

_LLM_METHODS = {"chat": n.OP_CHAT, "achat": n.OP_CHAT, "stream_chat": n.OP_CHAT, "astream_chat": n.OP_CHAT,
                "complete": n.OP_TEXT_COMPLETION, "acomplete": n.OP_TEXT_COMPLETION,
                "stream_complete": n.OP_TEXT_COMPLETION, "astream_complete": n.OP_TEXT_COMPLETION}
_EMBED_METHODS = {"get_query_embedding", "aget_query_embedding", "get_text_embedding", "aget_text_embedding",
                  "get_text_embedding_batch", "aget_text_embedding_batch"}


def _state() -> Any:
    from llmwatch.tracing.decorators import current_state

    return current_state()


def _method(id_: str) -> str:
    head = id_[:-37] if len(id_) > 37 and id_[-37] == "-" else id_  # "<Class>.<method>-<uuid4>"
    return head.rsplit(".", 1)[-1]


def _classify(instance: Any, method: str, bound_args: Any) -> tuple[str, str | None, LLMUsage | None] | None:
    """(kind, name, llm usage) for spans worth showing; None for LlamaIndex's internal steps."""
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.base import BaseLLM
    from llama_index.core.response_synthesizers.base import BaseSynthesizer
    from llama_index.core.tools.types import BaseTool

    if instance is None:
        return None
    cls = type(instance).__name__
    if isinstance(instance, BaseLLM) and method in _LLM_METHODS:
        model = getattr(getattr(instance, "metadata", None), "model_name", None)
        return "llm", None, LLMUsage(_LLM_METHODS[method], "llamaindex", model, cls)
    if isinstance(instance, BaseEmbedding) and method in _EMBED_METHODS:
        return "llm", None, LLMUsage(n.OP_EMBEDDINGS, "llamaindex", getattr(instance, "model_name", None), cls)
    if isinstance(instance, BaseQueryEngine) and method in ("query", "aquery"):
        return "workflow", cls, None
    if isinstance(instance, BaseRetriever) and method in ("retrieve", "aretrieve"):
        return "retrieval", cls, None
    if isinstance(instance, BaseSynthesizer) and method in ("synthesize", "asynthesize"):
        return "task", "synthesize", None
    if isinstance(instance, BaseTool) and method in ("call", "acall", "__call__"):
        return "tool", getattr(getattr(instance, "metadata", None), "name", None) or cls, None
    return None


class LlmwatchSpanHandler(BaseSpanHandler[Any]):
    """Opens an llmwatch span for each mapped LlamaIndex span; never raises into LlamaIndex."""

    def span_enter(self, id_: str, bound_args: Any, instance: Any = None, parent_id: str | None = None,
                   tags: Any = None, **kwargs: Any) -> None:
        state = _state()
        if state is None:
            return
        try:
            mapped = _classify(instance, _method(id_), bound_args)
            if mapped is None:
                return
            kind, name, llm = mapped
            if llm is not None and _inside_same_llm(parent_id, llm):
                return  # e.g. LLM.predict -> complete -> the subclass's complete: one span
            node = Node(state, kind, name, source="llamaindex", llm=llm)
            _OPEN[id_] = (node, node.attach())
        except Exception as exc:  # noqa: BLE001
            state.instruments.internal_error("llamaindex", exc)

    def span_exit(self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any) -> None:
        entry = _OPEN.pop(id_, None)
        if entry is None:
            return
        node, token = entry
        detach_run(node, token)
        try:
            if node.llm is not None:
                _read_usage(node.llm, result)
            elif node.kind == "retrieval" and isinstance(result, list):
                node.set_attribute(n.LLMWATCH_RETRIEVAL_DOCUMENTS, len(result))
            node.end()
        except Exception as exc:  # noqa: BLE001
            node.state.instruments.internal_error("llamaindex", exc)

    def span_drop(self, id_: str, bound_args: Any, instance: Any = None, err: BaseException | None = None,
                  **kwargs: Any) -> None:
        entry = _OPEN.pop(id_, None)
        if entry is None:
            return
        node, token = entry
        detach_run(node, token)
        node.end(error=err)

    # BaseSpanHandler's abstract hooks: unused, the overrides above do the work.
    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None


def _inside_same_llm(parent_id: str | None, llm: LLMUsage) -> bool:
    from opentelemetry import trace

    from llmwatch.tracing import rollup

    current = rollup.lookup(trace.get_current_span().get_span_context().span_id)
    return current is not None and current.llm is not None and current.llm.op == llm.op \
        and current.llm.wrapper_name == llm.wrapper_name


def _read_usage(llm: LLMUsage, result: Any) -> None:
    raw = getattr(result, "raw", None)
    usage = raw.get("usage") if isinstance(raw, dict) else getattr(raw, "usage", None)
    if usage is None:
        extra = getattr(result, "additional_kwargs", None) or {}
        usage = extra if "prompt_tokens" in extra else None
    if usage is None:
        return
    get = usage.get if isinstance(usage, dict) else lambda k, d=None: getattr(usage, k, d)
    inp, out = get("prompt_tokens", get("input_tokens")), get("completion_tokens", get("output_tokens"))
    llm.input_tokens = int(inp) if inp is not None else None
    llm.output_tokens = int(out) if out is not None else None
    llm.response_model = (raw.get("model") if isinstance(raw, dict) else getattr(raw, "model", None)) or None


def instrument() -> None:
    """Add the span handler to LlamaIndex's root dispatcher (idempotent)."""
    global _HANDLER
    root = get_dispatcher()
    if _HANDLER is None:
        _HANDLER = LlmwatchSpanHandler()
    if not any(h is _HANDLER for h in root.span_handlers):
        root.add_span_handler(_HANDLER)


def uninstrument() -> None:
    """Remove the handler again (what ``shutdown()`` does)."""
    root = get_dispatcher()
    root.span_handlers[:] = [h for h in root.span_handlers if h is not _HANDLER]
    _OPEN.clear()
