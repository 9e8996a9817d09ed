"""Workflow / agent / tool / retrieval spans: trees with asserted parent ids, roll-ups, rows.

Real openai client against the simulator; the tree is read back from the OTel SDK's in-memory
exporter and from the records the prompt log would receive.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from opentelemetry.trace import StatusCode

import llmwatch
from llmwatch import names as n
from llmwatch.tracing import agent
from tests.conftest import USER

pytestmark = pytest.mark.openai2


def by_name(spans):
    out = {}
    for s in spans:
        assert s.name not in out, f"duplicate span {s.name}"
        out[s.name] = s
    return out


def parent_of(span):
    return span.parent.span_id if span.parent is not None else None


def assert_child(child, parent):
    assert parent_of(child) == parent.context.span_id, f"{child.name} is not under {parent.name}"
    assert child.context.trace_id == parent.context.trace_id


def test_three_level_chain_nests_by_parent_id_and_rolls_up_tokens(observe, client):
    o = observe()

    @llmwatch.tool
    def search(query):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        return "found"

    @agent("researcher")
    def research(topic):
        return search(topic)

    @llmwatch.workflow
    def answer(question):
        return research(question)

    assert answer("q") == "found"
    s = by_name(o.spans())
    wf, ag, tl, chat = s["invoke_workflow answer"], s["invoke_agent researcher"], s["execute_tool search"], \
        s["chat gpt-4o-mini"]
    assert wf.parent is None
    assert_child(ag, wf)
    assert_child(tl, ag)
    assert_child(chat, tl)
    assert ag.attributes[n.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert ag.attributes[n.GEN_AI_AGENT_NAME] == "researcher"
    assert tl.attributes[n.GEN_AI_TOOL_NAME] == "search"
    tokens_in = chat.attributes[n.GEN_AI_USAGE_INPUT_TOKENS]
    tokens_out = chat.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS]
    for parent in (wf, ag, tl):
        assert parent.attributes[n.LLMWATCH_ROLLUP_CALLS] == 1
        assert parent.attributes[n.LLMWATCH_ROLLUP_INPUT_TOKENS] == tokens_in
        assert parent.attributes[n.LLMWATCH_ROLLUP_OUTPUT_TOKENS] == tokens_out
        assert parent.attributes[n.LLMWATCH_ROLLUP_COST_USD] == pytest.approx(chat.attributes[n.LLMWATCH_COST_USD])
        # a parent ends after its children, with the caller's timing
        assert parent.end_time >= chat.end_time
    # rows: every node is a prompt-log row with its parent id; roll-ups never in the token columns
    recs = {r.span_id: r for r in o.records()}
    assert len(recs) == 4
    fmt = lambda s: format(s.context.span_id, "016x")  # noqa: E731
    assert recs[fmt(ag)].parent_span_id == fmt(wf) and recs[fmt(chat)].parent_span_id == fmt(tl)
    assert recs[fmt(wf)].operation == "invoke_workflow" and recs[fmt(tl)].operation == "execute_tool"
    assert recs[fmt(wf)].input_tokens is None and recs[fmt(wf)].cost_usd is None
    assert recs[fmt(wf)].metadata["rollup"]["total_tokens"] == tokens_in + tokens_out


def test_rollup_sums_several_calls_and_only_beneath(observe, client):
    o = observe()
    with llmwatch.workflow("two-calls"):
        with agent("a"):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        with agent("b"):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    s = by_name([x for x in o.spans() if not x.name.startswith("chat")])
    assert s["invoke_workflow two-calls"].attributes[n.LLMWATCH_ROLLUP_CALLS] == 3
    assert s["invoke_agent a"].attributes[n.LLMWATCH_ROLLUP_CALLS] == 1
    assert s["invoke_agent b"].attributes[n.LLMWATCH_ROLLUP_CALLS] == 2


def test_asyncio_gather_and_tasks_keep_each_call_under_its_own_agent(observe, aclient):
    o = observe()

    @agent
    async def worker(i):
        await asyncio.sleep(0.01 * (3 - i))  # finish out of order
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=USER, user=f"w{i}")

    @llmwatch.workflow
    async def fan_out():
        await asyncio.gather(worker(0), worker(1))
        await asyncio.create_task(worker(2))

    asyncio.run(fan_out())
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow fan_out")
    agents = [s for s in spans if s.name == "invoke_agent worker"]
    chats = [s for s in spans if s.name.startswith("chat")]
    assert len(agents) == 3 and len(chats) == 3
    for a in agents:
        assert_child(a, wf)
        assert sum(1 for c in chats if parent_of(c) == a.context.span_id) == 1
    assert wf.attributes[n.LLMWATCH_ROLLUP_CALLS] == 3


def test_generator_consumed_in_another_thread_after_the_workflow_returned(observe, client):
    o = observe()

    @llmwatch.tool
    def stream_answers(k):
        for _ in range(k):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
            yield "x"

    @llmwatch.workflow
    def make():
        return stream_answers(2)

    gen = make()  # created inside the workflow, iterated after it ended, on another thread
    out: list = []
    t = threading.Thread(target=lambda: out.extend(gen))
    t.start()
    t.join()
    assert out == ["x", "x"]
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow make")
    tl = next(s for s in spans if s.name == "execute_tool stream_answers")
    chats = [s for s in spans if s.name.startswith("chat")]
    assert_child(tl, wf)
    assert len(chats) == 2 and all(parent_of(c) == tl.context.span_id for c in chats)
    assert tl.attributes[n.LLMWATCH_ROLLUP_CALLS] == 2


def test_generator_span_does_not_leak_into_the_consumer_between_items(observe, client):
    o = observe()

    @llmwatch.retrieval("kb")
    def docs():
        yield "a"
        yield "b"

    with llmwatch.workflow("consumer"):
        for _ in docs():
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # consumer's call
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow consumer")
    rt = next(s for s in spans if s.name == "retrieval kb")
    assert_child(rt, wf)
    assert rt.attributes[n.GEN_AI_DATA_SOURCE_ID] == "kb"
    for c in (s for s in spans if s.name.startswith("chat")):
        assert_child(c, wf)


def test_async_generator_consumed_by_another_task(observe, aclient):
    o = observe()

    @agent
    async def talk():
        for _ in range(2):
            await aclient.chat.completions.create(model="gpt-4o-mini", messages=USER)
            yield "x"

    async def consume(agen):
        return [x async for x in agen]

    async def main():
        with llmwatch.workflow("outer"):
            agen = talk()
        return await asyncio.create_task(consume(agen))  # consumed outside the workflow, in a new task

    assert asyncio.run(main()) == ["x", "x"]
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow outer")
    ag = next(s for s in spans if s.name == "invoke_agent talk")
    assert_child(ag, wf)
    assert [parent_of(c) for c in spans if c.name.startswith("chat")] == [ag.context.span_id] * 2


def test_generator_closed_early_still_ends_its_span(observe):
    o = observe()

    @llmwatch.tool
    def numbers():
        yield from range(10)

    g = numbers()
    assert next(g) == 0
    g.close()
    (tl,) = o.spans()
    assert tl.name == "execute_tool numbers" and tl.end_time is not None
    assert tl.status.status_code != StatusCode.ERROR


def test_user_exception_passes_through_unchanged_and_marks_the_span(observe):
    o = observe()

    class Boom(Exception):
        pass

    err = Boom("no")

    @llmwatch.tool
    def explode():
        raise err

    with pytest.raises(Boom) as info:
        explode()
    assert info.value is err
    (tl,) = o.spans()
    assert tl.status.status_code == StatusCode.ERROR
    assert tl.attributes[n.ERROR_TYPE] == "test_user_exception_passes_through_unchanged_and_marks_the_span.<locals>.Boom"
    (rec,) = o.records()
    assert rec.status == "error" and rec.operation == "execute_tool"


def test_tool_call_id_and_content_are_opt_in(observe):
    o = observe(capture_content=True)

    @llmwatch.tool(description="Adds")
    def add(a, b):
        return a + b

    assert add(2, b=3) == 5
    with llmwatch.tool("lookup", call_id="call_1") as t:
        t.set_result({"hit": True})
    s = by_name(o.spans())
    a = s["execute_tool add"].attributes
    assert a[n.GEN_AI_TOOL_DESCRIPTION] == "Adds"
    assert a[n.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"a": 2, "b": 3}'
    assert a[n.GEN_AI_TOOL_CALL_RESULT] == "5"
    assert s["execute_tool lookup"].attributes[n.GEN_AI_TOOL_CALL_ID] == "call_1"
    assert s["execute_tool lookup"].attributes[n.GEN_AI_TOOL_CALL_RESULT] == '{"hit": true}'


def test_tool_content_stays_off_spans_by_default(observe):
    o = observe()

    @llmwatch.tool
    def add(a, b):
        return a + b

    add(1, 2)
    (tl,) = o.spans()
    assert n.GEN_AI_TOOL_CALL_ARGUMENTS not in tl.attributes and n.GEN_AI_TOOL_CALL_RESULT not in tl.attributes


def test_request_context_flows_to_parent_spans_and_their_rows(observe, client):
    o = observe()
    with llmwatch.context(session_id="s-1", user_id="u-1", prompt_template=("support-answer", "v3"), tags=["beta"]):
        with llmwatch.span("rerank", kind="retrieval"):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    rt = next(s for s in o.spans() if s.name == "retrieval rerank")
    assert rt.attributes["session.id"] == "s-1" and rt.attributes["user.id"] == "u-1"
    assert rt.attributes["llmwatch.prompt.template"] == "support-answer"
    rec = next(r for r in o.records() if r.operation == "retrieval")
    assert (rec.session_id, rec.user_id, rec.prompt_template_version, rec.tags) == ("s-1", "u-1", "v3", ["beta"])


def test_plain_span_is_a_task_named_as_given(observe):
    o = observe()

    @llmwatch.span("post-process")
    def post():
        return 1

    post()
    (t,) = o.spans()
    assert t.name == "post-process" and t.attributes[n.LLMWATCH_SPAN_KIND] == "task"


def test_async_with_block(observe, aclient):
    o = observe()

    async def main():
        async with agent("async-block"):
            await aclient.chat.completions.create(model="gpt-4o-mini", messages=USER)

    asyncio.run(main())
    s = by_name(o.spans())
    assert_child(s["chat gpt-4o-mini"], s["invoke_agent async-block"])


def test_decorators_pass_through_before_init_and_after_shutdown(observe):
    calls = []

    @llmwatch.workflow
    def f(x):
        calls.append(x)
        return x * 2

    @llmwatch.tool
    def g():
        yield 1

    assert f(2) == 4 and list(g()) == [1]
    with llmwatch.span("nothing") as s:
        s.set_attribute("k", "v")
    o = observe()
    f(1)
    llmwatch.shutdown()
    f(3)
    assert len(o.exporter.get_finished_spans()) == 1
    assert calls == [2, 1, 3]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        llmwatch.trace(kind="chain")


def test_logs_show_tree_prints_the_stored_trace_with_parents_tokens_and_cost(observe, client, tmp_path, capsys):
    from llmwatch.cli import main

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    observe(store=True, store_url=url)

    @llmwatch.tool
    def search(q):
        return client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    @agent("researcher")
    def research(q):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        return search(q)

    with llmwatch.workflow("answer"):
        with llmwatch.retrieval("kb"):
            pass
        research("q")
    llmwatch.flush()
    from llmwatch.store.query import query

    rows = query(url, limit=50)
    assert {r.operation for r in rows} == {"invoke_workflow", "invoke_agent", "execute_tool", "retrieval", "chat"}
    chat_in_tool = next(r for r in rows if r.operation == "chat" and r.parent_span_id == next(
        t.span_id for t in rows if t.operation == "execute_tool"))
    capsys.readouterr()
    assert main(["logs", "--url", url, "show", chat_in_tool.record_id, "--tree"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [re.match(r"(.*?)\s+\d+\.\d{3}s", line[2:]).group(1) for line in lines]
    assert names == ["invoke_workflow answer", "├─ retrieval kb", "└─ invoke_agent researcher",
                     "   ├─ chat gpt-4o-mini", "   └─ execute_tool search", "      └─ chat gpt-4o-mini"]
    assert lines[-1].startswith("*")  # the call asked for is marked
    total = sum(r.total_tokens for r in rows if r.operation == "chat")
    assert "Σ 2 calls" in lines[0] and f"{total:,} tok" in lines[0]
    assert "Σ 1 call " in lines[4]
    assert "tok" in lines[5] and "$" in lines[5]


def test_llmwatch_agent_stays_the_decorator_after_the_cli_is_imported():
    """The daemon lives in llmwatch.daemon so no subpackage can shadow the public decorators."""
    import importlib

    importlib.import_module("llmwatch.cli").build_parser()
    assert callable(llmwatch.agent) and callable(llmwatch.context) and callable(llmwatch.tool)
