"""Parent spans and the context calls carry: workflows, agents, tools, retrievals and roll-ups.

``llmwatch.trace`` / ``workflow`` / ``agent`` / ``tool`` / ``retrieval`` / ``span`` live in
:mod:`llmwatch.tracing.decorators`; :mod:`~llmwatch.tracing.parent_spans` holds the span tree,
:mod:`~llmwatch.tracing.rollup` sums calls into their ancestors, :mod:`~llmwatch.tracing.context`
is ``llmwatch.context`` and :mod:`~llmwatch.tracing.propagation` carries it into pool threads.
"""

from __future__ import annotations

from llmwatch.tracing.decorators import Traced, agent, retrieval, span, tool, trace, workflow

__all__ = ["Traced", "agent", "retrieval", "span", "tool", "trace", "workflow"]
