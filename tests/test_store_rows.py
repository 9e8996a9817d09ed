"""The row builder: one walk over the content gives the same prompt hash and search text as the
reference functions (prompt_hash / content_text), for every content shape; rows match the model."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from llmwatch.record import CallRecord
from llmwatch.store.models import calls
from llmwatch.store.rows import COLUMNS, JSON_COLUMNS, build_row, content_text, encode_json, prompt_hash

text = st.text(max_size=12)
part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "content": text}),
    st.fixed_dictionaries({"type": st.sampled_from(["text", "tool_call", "image"])},
                          optional={"content": text, "text": text, "name": text,
                                    "arguments": st.one_of(text, st.dictionaries(text, st.integers(), max_size=2))}),
    text,
)
message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool"]), "parts": st.lists(part, max_size=3)}),
    st.fixed_dictionaries({"role": st.sampled_from(["user", "system"])},
                          optional={"content": st.one_of(text, st.lists(part, max_size=2)), "name": text,
                                    "parts": st.one_of(text, st.lists(part, max_size=2)), "finish_reason": text}),
    text,
)
content = st.one_of(st.none(), st.lists(message, max_size=3), text)


@settings(max_examples=300, deadline=None)
@given(content, content, content, st.booleans())
def test_one_walk_equals_the_reference_hash_and_search_text(si, im, om, mask):
    rec = CallRecord(operation="chat", provider="openai", request_model="m", start_time=1.0, end_time=2.0,
                     record_id="r", system_instructions=si, input_messages=im, output_messages=om)
    row = dict(zip(COLUMNS, build_row(rec, mask_literals=mask)))
    assert row["prompt_hash"] == prompt_hash(si, im, mask)
    assert row["search_text"] == content_text(si, im, om)


def test_row_columns_follow_the_model_and_json_columns_decode_to_the_record():
    assert COLUMNS == tuple(c.name for c in calls.columns if c.name != "id")
    rec = CallRecord(operation="chat", provider="openai", request_model="m", start_time=1.0, end_time=2.5,
                     record_id="r", input_messages=[{"role": "user", "parts": [{"type": "text", "content": "hé"}]}],
                     tags=["a", "b"], metadata={"k": float("nan"), "n": 1}, request_params={"temperature": 0.2})
    row = dict(zip(COLUMNS, build_row(rec)))
    assert {k for k, v in row.items() if isinstance(v, str) and k in JSON_COLUMNS} == \
        {"input_messages", "tags", "metadata", "request_params"}
    assert json.loads(row["input_messages"]) == rec.input_messages
    assert json.loads(row["metadata"]) == {"k": "nan", "n": 1}  # jsonb takes no NaN: kept as text
    assert row["duration"] == 1.5 and row["total_tokens"] is None
    assert build_row(rec, capture_content=False)[COLUMNS.index("input_messages")] is None
    assert encode_json({"t": (1, 2), "o": object}) == '{"t":[1,2],"o":"<class \'object\'>"}'
