"""Request context: who and what a call belongs to, flowing to every span and record inside it.

    with llmwatch.context(session_id="s-1", user_id="u-9", conversation_id="c-3",
                          prompt_template=("support-answer", "v3"), tags=["beta"], metadata={"tier": "gold"}):
        client.chat.completions.create(...)   # span + stored record carry these

Contexts nest: an inner context inherits the outer one's fields and overrides what it sets
(tags are added, metadata merged). The value lives in a ``ContextVar``, so it follows asyncio
tasks; ids never become metric labels (unbounded cardinality).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmwatch import names

_CURRENT: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("llmwatch_context", default=None)

@dataclass(frozen=True)
class RequestContext:
    session_id: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    prompt_template: str | None = None
    prompt_template_version: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    span_attributes: Mapping[str, Any] = field(default_factory=dict)

    def fill_record(self, record: Any) -> None:
        record.session_id = self.session_id
        record.user_id = self.user_id
        record.conversation_id = self.conversation_id
        record.prompt_template = self.prompt_template
        record.prompt_template_version = self.prompt_template_version
        if self.tags:
            record.tags = list(self.tags)
        if self.metadata:
            record.metadata.update(self.metadata)


def current() -> RequestContext | None:
    return _CURRENT.get()


def _attributes(ctx: RequestContext) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if ctx.session_id:
        attrs[names.SESSION_ID] = ctx.session_id
    if ctx.user_id:
        attrs[names.USER_ID] = ctx.user_id
    if ctx.conversation_id:
        attrs[names.GEN_AI_CONVERSATION_ID] = ctx.conversation_id
    if ctx.prompt_template:
        attrs[names.LLMWATCH_PROMPT_TEMPLATE] = ctx.prompt_template
    if ctx.prompt_template_version:
        attrs[names.LLMWATCH_PROMPT_TEMPLATE_VERSION] = ctx.prompt_template_version
    return attrs


def _check_str(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"llmwatch.context: {name} must be a string (or int id), got {type(value).__name__}")


@contextlib.contextmanager
def context(*, session_id: str | None = None, user_id: str | None = None, conversation_id: str | None = None,
            prompt_template: str | tuple[str, str] | None = None, tags: Sequence[str] = (),
            metadata: Mapping[str, Any] | None = None) -> Iterator[RequestContext]:
    """Attach request context to every LLM call (span and stored record) made inside the block."""
    parent = _CURRENT.get() or RequestContext()
    template, version = parent.prompt_template, parent.prompt_template_version
    if prompt_template is not None:
        if isinstance(prompt_template, str):
            template, version = prompt_template, None
        elif isinstance(prompt_template, tuple) and len(prompt_template) == 2 and all(
                isinstance(x, str) for x in prompt_template):
            template, version = prompt_template
        else:
            raise TypeError("llmwatch.context: prompt_template must be a name or a (name, version) tuple of strings")
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise TypeError("llmwatch.context: tags must be a list of strings")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError("llmwatch.context: metadata must be a mapping")
    ctx = RequestContext(
        session_id=_check_str("session_id", session_id) or parent.session_id,
        user_id=_check_str("user_id", user_id) or parent.user_id,
        conversation_id=_check_str("conversation_id", conversation_id) or parent.conversation_id,
        prompt_template=template, prompt_template_version=version,
        tags=tuple(dict.fromkeys((*parent.tags, *tags))),
        metadata={**parent.metadata, **(metadata or {})},
    )
    ctx = RequestContext(**{**ctx.__dict__, "span_attributes": _attributes(ctx)})
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
