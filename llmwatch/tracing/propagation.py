"""Carry the caller's context into ``ThreadPoolExecutor`` workers (patched by ``init()``).

asyncio copies context variables into every task, but ``ThreadPoolExecutor.submit`` does not: a
function run on a pool thread sees that thread's own (empty) context, so an LLM call made there
loses its parent span and its ``llmwatch.context(...)``. ``init()`` wraps ``submit`` so the
function runs in a copy of the submitting thread's context (``contextvars.copy_context().run``,
what ``asyncio.to_thread`` does); ``map`` and ``loop.run_in_executor`` go through ``submit`` and
are covered too. ``shutdown()`` puts the original method back.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_ORIGINAL: Callable[..., Any] | None = None
# The method we replaced, kept after unpatch(): a submit racing with shutdown() (or a reference to
# the wrapper taken while patched) must still reach the real method, never call None.
_SAVED: Callable[..., Any] = ThreadPoolExecutor.__dict__["submit"]


def _submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    ctx = contextvars.copy_context()
    return (_ORIGINAL or _SAVED)(self, functools.partial(ctx.run, fn), *args, **kwargs)


def patch() -> None:
    """Wrap ``ThreadPoolExecutor.submit`` (idempotent)."""
    global _ORIGINAL, _SAVED
    if _ORIGINAL is not None:
        return
    _ORIGINAL = _SAVED = ThreadPoolExecutor.__dict__["submit"]
    functools.update_wrapper(_submit, _ORIGINAL)
    ThreadPoolExecutor.submit = _submit  # type: ignore[method-assign, assignment]  # patched on purpose


def unpatch() -> None:
    """Restore the exact original ``submit``."""
    global _ORIGINAL
    if _ORIGINAL is None:
        return
    ThreadPoolExecutor.submit = _ORIGINAL  # type: ignore[method-assign]
    _ORIGINAL = None


def is_patched() -> bool:
    return _ORIGINAL is not None
