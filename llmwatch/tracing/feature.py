"""The tracing feature as ``init()`` starts it and ``shutdown()`` stops it.

Started: parent spans on (:mod:`~llmwatch.tracing.decorators`), every instrumented call adds its
usage to its ancestors (:mod:`~llmwatch.tracing.rollup`), pool threads carry the context
(:mod:`~llmwatch.tracing.propagation`), and LangChain / LlamaIndex are hooked as soon as (or if
ever) the app imports them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from llmwatch.tracing import decorators, propagation, rollup

_INTEGRATIONS = {"langchain": "langchain_core", "llamaindex": "llama_index.core"}
_import_hooks_set = False


def start(state: Any) -> Callable[[], None]:
    """Turn tracing on for ``state``; returns :func:`stop`."""
    global _import_hooks_set
    state.record_enrichers.append(rollup.record_enricher)
    propagation.patch()
    decorators.enable(state)
    if not _import_hooks_set:  # wrapt calls a hook at once when the module is already imported
        import wrapt

        _import_hooks_set = True
        for integration, module in _INTEGRATIONS.items():
            wrapt.register_post_import_hook(_hook(integration), module)
    else:
        for integration, module in _INTEGRATIONS.items():
            if module in sys.modules:
                _auto(integration)
    return stop


def stop() -> None:
    decorators.disable()
    propagation.unpatch()
    for integration in _INTEGRATIONS:
        module = sys.modules.get(f"llmwatch.integrations.{integration}")  # imported only if the app used it
        if module is not None:
            module.uninstrument()


def _hook(integration: str) -> Any:
    def on_import(module: Any) -> None:
        _auto(integration)

    return on_import


def _auto(integration: str) -> None:
    """Runs inside the app's ``import`` of the framework: it must never make that import fail."""
    state = decorators.current_state()
    if state is None:
        return
    try:
        importlib.import_module(f"llmwatch.integrations.{integration}").instrument()
    except Exception as exc:  # noqa: BLE001
        state.instruments.internal_error(f"integration_{integration}", exc)
