"""The provider SDKs ``init()`` instruments: each adapter patches its SDK when it is importable.

An adapter module (``llmwatch.instrumentation.<name>``) has ``instrument(state) -> bool`` (False:
its SDK is not installed, nothing patched) and ``uninstrument()`` (restores the exact originals).
All of them build the same :class:`~llmwatch.instrumentation.call.Call`; only their
:class:`~llmwatch.instrumentation.dialect.Dialect` differs.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("llmwatch")

#: Adapter modules, in the order they are patched (and unpatched in reverse).
ADAPTERS = ("openai", "anthropic", "google_genai", "bedrock", "ollama")


def start(state: Any) -> Callable[[], None]:
    """Instrument every installed SDK; returns the stop that restores them all (in reverse)."""
    patched: list[Any] = []
    for name in ADAPTERS:
        module_name = f"llmwatch.instrumentation.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        try:
            adapter = importlib.import_module(module_name)
            if adapter.instrument(state):
                patched.append(adapter)
        except Exception as exc:  # noqa: BLE001 - one SDK's patch must not stop the others or the app
            state.instruments.internal_error(f"instrument_{name}", exc)
            logger.warning("llmwatch: could not instrument %s: %s", name, exc)

    def stop() -> None:
        while patched:
            adapter = patched.pop()
            try:
                adapter.uninstrument()
            except Exception as exc:  # noqa: BLE001 - shutdown must finish
                state.instruments.internal_error("uninstrument", exc)

    return stop


def instrumented(state: Any = None) -> list[str]:
    """Names of the adapters whose SDK is patched now."""
    out = []
    for name in ADAPTERS:
        module_name = f"llmwatch.instrumentation.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        if getattr(module, "is_instrumented", lambda: False)():
            out.append(name)
    return out
