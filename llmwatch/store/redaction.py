"""The seam through which stored content is redacted.

:func:`llmwatch.store.open_sink` takes ``redactor``: a function from a
:class:`~llmwatch.record.CallRecord` to the record to store. ``init()`` passes the process's one
:class:`llmwatch.scoring.redaction.Redaction` (on by default), so records that reach the store
without passing the SDK's pipeline are masked as well. Records are shared with other sinks, so a
redactor must return a changed *copy* (``dataclasses.replace`` with new content lists) rather
than edit the one it was given.

    def mask_emails(record):
        return dataclasses.replace(record, input_messages=scrub(record.input_messages))

    open_sink(config, redactor=mask_emails)
"""

from __future__ import annotations

from collections.abc import Callable

from llmwatch.record import CallRecord

RecordRedactor = Callable[[CallRecord], CallRecord]
