"""Exporting calls: JSONL (the JSON column names, one call a line) and Argilla records.

The Argilla format is one flat JSON object per line, the shape ``Dataset.records.log()`` of
Argilla 2.x accepts when the dataset settings name the same fields, questions and metadata::

    {"id": "<record id>", "prompt": "...", "response": "...", "label": "<first flag label>",
     "model": "gpt-4o", "provider": "openai", "template": "...", "flag_note": "...", ...}

    settings = rg.Settings(fields=[rg.TextField("prompt"), rg.TextField("response")],
                           questions=[rg.LabelQuestion("label", labels=[...])],
                           metadata=[rg.TermsMetadataProperty("model"), ...])
    dataset.records.log([json.loads(line) for line in open("flagged.jsonl")])
"""

from __future__ import annotations

import json
from typing import Any, TextIO

import sqlalchemy as sa

from llmwatch.store import db
from llmwatch.store.models import flags
from llmwatch.store.query import count, query
from llmwatch.store.records import StoredCall
from llmwatch.store.render import Progress

EXPORT_FORMATS = ("jsonl", "argilla")


def argilla_record(call: StoredCall, flag_rows: list[Any]) -> dict[str, Any]:
    """The Argilla record for one call (see module docstring)."""
    first = flag_rows[0] if flag_rows else None
    return {
        "id": call.record_id, "prompt": call.prompt_text, "response": call.output_text,
        "label": first.label if first else None, "flag_note": first.note if first else None,
        "model": call.model, "provider": call.provider, "operation": call.operation,
        "template": call.prompt_template, "template_version": call.prompt_template_version,
        "status": call.status, "duration": call.duration, "total_tokens": call.total_tokens,
        "start_time": call.to_json()["start_time"], "flags": [f.label for f in flag_rows],
    }


def export(out: TextIO, fmt: str = "jsonl", url: str | None = None, progress: bool | None = None,
           page_size: int = 1000, **filters: Any) -> int:
    """Write every call matching ``filters`` to ``out`` (oldest first); returns how many."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    total = count(url, **filters)
    bar = Progress(total, "exporting", enabled=progress)
    engine = db.open_engine(url)
    written, cursor = 0, None
    while True:
        page = query(url, sort="start_time", limit=page_size, cursor=cursor, **filters)
        notes: dict[str, list[Any]] = {}
        if fmt == "argilla" and page:
            with engine.connect() as conn:
                for r in conn.execute(sa.select(flags).where(flags.c.record_id.in_([c.record_id for c in page]))
                                      .order_by(flags.c.created_at)):
                    notes.setdefault(r.record_id, []).append(r)
        for call in page:
            obj = call.to_json() if fmt == "jsonl" else argilla_record(call, notes.get(call.record_id, []))
            out.write(json.dumps(obj, default=str) + "\n")
        written += len(page)
        bar.advance(len(page))
        cursor = page.next_cursor
        if not cursor:
            break
    bar.finish()
    return written
