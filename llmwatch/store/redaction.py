"""The redaction hook for stored content: every record passes through it before it is written.

The safety issue registers its PII redactor here; by default nothing is registered and records
pass unchanged. A redactor takes a :class:`~llmwatch.record.CallRecord` and returns the record to
store. Records are shared with other sinks, so a redactor must return a changed *copy*
(``dataclasses.replace`` with new content lists) rather than edit the one it was given.

    from llmwatch.store.redaction import register_redactor

    def mask_emails(record):
        return dataclasses.replace(record, input_messages=scrub(record.input_messages))

    register_redactor(mask_emails)
"""

from __future__ import annotations

from typing import Callable

from llmwatch.record import CallRecord

Redactor = Callable[[CallRecord], CallRecord]
_redactors: list[Redactor] = []


def register_redactor(fn: Redactor) -> Redactor:
    """Add ``fn`` to the chain (idempotent); returns it, so it can be used as a decorator."""
    if fn not in _redactors:
        _redactors.append(fn)
    return fn


def unregister_redactor(fn: Redactor) -> None:
    """Remove ``fn`` from the chain if present."""
    if fn in _redactors:
        _redactors.remove(fn)


def redact_record(record: CallRecord) -> CallRecord:
    """Apply every registered redactor in registration order; return the record to store."""
    for fn in _redactors:
        record = fn(record)
    return record
