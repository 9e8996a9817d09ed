"""One redaction for the whole process: the span path, the record pipeline and the store share it.

``init()`` builds a single :class:`Redaction` when ``redact`` is on (the default) and hands it to
each place content leaves the process:

* the span path (``State.redactor``): content attributes and error messages on exported spans;
* the record pipeline (a processor on its worker): every record, in place, before any sink or
  scorer sees it, counting what it masked in ``llmwatch_redactions_total`` by kind and direction;
* the store (``open_sink(redactor=...)``): records that reach it some other way (replayed,
  written directly) are masked on a copy; records the pipeline already masked pass untouched;
* evaluation events: explanations can quote content, so the reporter masks them too.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from llmwatch.record import CallRecord
from llmwatch.scoring.pii import Redactor

Count = Callable[[str, str, int], None]
logger = logging.getLogger("llmwatch")


class Redaction:
    """A :class:`~llmwatch.scoring.pii.Redactor` plus where its counts go."""

    def __init__(self, redactor: Redactor, count: Count | None = None) -> None:
        self.redactor = redactor
        self._count = count

    @classmethod
    def from_config(cls, config: Any, count: Count | None = None) -> Redaction | None:
        """``None`` when the user opted out with ``redact=False``."""
        if not config.redact:
            return None
        return cls(Redactor(config.redact_patterns), count)

    # span path (the record worker, before the span ends)
    def text(self, text: str) -> str:
        return self.redactor.text(text)[0]

    def messages(self, messages: Any) -> Any:
        return self.redactor.messages(messages)

    def content(self, system: Any, inputs: Any, outputs: Any) -> tuple[Any, Any, Any, tuple[Any, Any]]:
        """A call's messages redacted once, for its span and its record alike, with what was
        masked (input kinds, output kinds) for the record path to count."""
        inp: collections.Counter[str] = collections.Counter()
        out: collections.Counter[str] = collections.Counter()
        value = self.redactor.value
        return value(system, inp), value(inputs, inp), value(outputs, out), (inp, out)

    # pipeline processor
    def __call__(self, record: CallRecord) -> None:
        """Redact in place; if that fails, drop the record's content rather than keep it unmasked
        (fail closed), then raise so the pipeline counts the failure."""
        try:
            self.redactor.record(record, self._count)
        except Exception:
            _drop_content(record)
            raise

    # store
    def for_store(self, record: CallRecord) -> CallRecord:
        if record.metadata.get("redacted"):
            return record
        copy = dataclasses.replace(record, metadata=dict(record.metadata))
        try:
            self.redactor.record(copy, self._count)
        except Exception:  # noqa: BLE001 - keep the call, without the content that could not be masked
            logger.warning("llmwatch: redaction failed; record %s stored without its content",
                           getattr(record, "record_id", "?"), exc_info=True)
            _drop_content(copy)
        return copy


def _drop_content(record: CallRecord) -> None:
    record.system_instructions = record.input_messages = record.output_messages = None
    record.stream_text = record.error_message = None
    record.metadata = {"redaction_failed": True}
