"""llmwatch: drop-in observability for LLM applications.

    import llmwatch
    llmwatch.init()            # patches the openai client; idempotent
    ...
    llmwatch.shutdown()        # flushes and restores the original methods

Importing this package patches nothing and imports no heavy dependency.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["init", "shutdown", "flush", "is_initialized", "context", "Config", "ConfigError", "__version__",
           "trace", "workflow", "agent", "tool", "retrieval", "span"]
_TRACING = frozenset(("trace", "workflow", "agent", "tool", "retrieval", "span"))


def __getattr__(name: str) -> Any:  # lazy: keep `import llmwatch` cheap and side-effect free
    if name in ("init", "shutdown", "is_initialized", "flush"):
        from llmwatch import _runtime

        return getattr(_runtime, name)
    if name == "context":
        from llmwatch.tracing.context import context

        return context
    if name in _TRACING:
        from llmwatch import tracing

        return getattr(tracing, name)
    if name in ("Config", "ConfigError"):
        from llmwatch import config

        return getattr(config, name)
    raise AttributeError(f"module 'llmwatch' has no attribute {name!r}")
