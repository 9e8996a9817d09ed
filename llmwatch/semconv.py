"""Which GenAI semantic-convention names llmwatch emits: decided once, from one option.

The GenAI conventions moved out of core OpenTelemetry semconv (core v1.42 deprecated its copy)
into ``open-telemetry/semantic-conventions-genai``; llmwatch follows that repository's v0.1.0
release. For renamed names, the conventions' transition plan uses ``OTEL_SEMCONV_STABILITY_OPT_IN``,
the comma-separated list of per-category opt-ins every OpenTelemetry instrumentation in the process
shares (``http``, ``database/dup``, ...). The one GenAI value the conventions define is
``gen_ai_latest_experimental``: emit the latest conventions and not the old names.

llmwatch emits the latest names by default (its default does not change with this option), so
``gen_ai_latest_experimental`` only confirms that. For a migration window,
``gen_ai_latest_experimental/dup`` also emits each renamed attribute under its old name, so a
dashboard on either name keeps working. The GenAI conventions define no ``/dup`` value; the form is
the one OpenTelemetry defines for the HTTP and database migrations, so this value is llmwatch's.

The option is :attr:`llmwatch.Config.semconv_opt_in` (parsed by ``options.semconv_opt_in``, so a
misspelt GenAI value fails at ``init()``); the one place that applies it is :func:`add_deprecated`,
called where a call's span attributes are assembled.

    >>> attrs = {"gen_ai.usage.cache_write.input_tokens": 1200}
    >>> add_deprecated(attrs, ("http", "gen_ai_latest_experimental/dup"))
    >>> attrs["gen_ai.usage.cache_creation.input_tokens"]
    1200
"""

from __future__ import annotations

from typing import Any

from llmwatch import names as n

__all__ = ["LATEST", "DUP", "RENAMED", "emits_deprecated", "add_deprecated"]

LATEST, DUP = n.SEMCONV_GEN_AI_OPT_IN

# Current name -> its name in core semconv v1.41, the last release with the GenAI conventions.
RENAMED: dict[str, str] = {
    n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
}


def emits_deprecated(opt_in: tuple[str, ...]) -> bool:
    """True when the old names of renamed attributes are emitted too."""
    return DUP in opt_in


def add_deprecated(attrs: dict[str, Any], opt_in: tuple[str, ...]) -> None:
    """Copy each renamed attribute in ``attrs`` to its old name, when the option asks for both."""
    if not opt_in or DUP not in opt_in:
        return
    for new, old in RENAMED.items():
        value = attrs.get(new)
        if value is not None:
            attrs[old] = value
