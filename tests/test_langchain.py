"""LangChain runs become a nested span tree — with real ``langchain-core`` runnables, its fake chat
models, and ``langchain-openai``'s ``ChatOpenAI`` pointed at the simulator (the instrumented openai
call nests under the LangChain model run, which then only wraps it: no duplicate tokens).

The handler is registered by ``init()`` itself (no callbacks passed) unless a test says otherwise.
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("langchain_core")

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_core.runnables import RunnableLambda  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

import llmwatch  # noqa: E402
from llmwatch import names as n  # noqa: E402
from tests.conftest import USER  # noqa: E402
from tests.test_tracing import assert_child, parent_of  # noqa: E402

PROMPT = ChatPromptTemplate.from_messages([("system", "Be terse."), ("user", "{question}")])


def fake_model(n_replies: int = 1) -> GenericFakeChatModel:
    replies = [AIMessage(content="an answer", usage_metadata={"input_tokens": 11, "output_tokens": 4,
                                                               "total_tokens": 15}) for _ in range(n_replies)]
    return GenericFakeChatModel(messages=iter(replies))


def named(spans, name):
    found = [s for s in spans if s.name == name]
    assert found, f"no span {name!r} in {[s.name for s in spans]}"
    return found


def test_prompt_model_parser_chain_is_a_tree_with_the_models_tokens(observe):
    o = observe()
    chain = PROMPT | fake_model() | StrOutputParser()
    assert chain.invoke({"question": "why?"}) == "an answer"
    spans = o.spans()
    (seq,) = named(spans, "invoke_workflow RunnableSequence")
    (prompt,) = named(spans, "ChatPromptTemplate")
    (model,) = named(spans, "chat")  # the fake model names no model
    (parser,) = named(spans, "StrOutputParser")
    assert seq.parent is None
    for child in (prompt, model, parser):
        assert_child(child, seq)
    assert model.attributes[n.GEN_AI_OPERATION_NAME] == "chat"
    assert model.attributes[n.GEN_AI_USAGE_INPUT_TOKENS] == 11
    assert model.attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] == 4
    assert seq.attributes[n.LLMWATCH_ROLLUP_INPUT_TOKENS] == 11
    assert seq.attributes[n.LLMWATCH_ROLLUP_CALLS] == 1
    rows = {r.span_id: r for r in o.records()}
    model_row = rows[format(model.context.span_id, "016x")]
    # provider: LangChain's ls_provider for the model class; the run is the call itself, so it owns the tokens
    assert (model_row.operation, model_row.input_tokens, model_row.provider) == ("chat", 11, "genericfakechatmodel")
    assert rows[format(prompt.context.span_id, "016x")].parent_span_id == format(seq.context.span_id, "016x")


def test_ainvoke_astream_and_batch_keep_the_tree(observe):
    o = observe()

    async def main():
        chain = PROMPT | fake_model(1) | StrOutputParser()
        await chain.ainvoke({"question": "a"})
        chain = PROMPT | fake_model(1) | StrOutputParser()
        return "".join([c async for c in chain.astream({"question": "b"})])

    assert asyncio.run(main()) == "an answer"
    (PROMPT | fake_model(2) | StrOutputParser()).batch([{"question": "c"}, {"question": "d"}])
    # batch starts both runs, then ends them in order: no ended run may stay current afterwards
    from opentelemetry import trace

    assert not trace.get_current_span().get_span_context().is_valid
    spans = o.spans()
    roots = named(spans, "invoke_workflow RunnableSequence")
    assert len(roots) == 4
    models = named(spans, "chat")
    assert len(models) == 4
    root_ids = {r.context.span_id for r in roots}
    assert all(parent_of(m) in root_ids for m in models)
    assert sorted(parent_of(m) for m in models) == sorted(root_ids)  # one model under each root


def test_tools_and_retrievers_map_to_semconv_spans(observe):
    o = observe()

    @tool
    def lookup(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    class KB(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun):
            return [Document(page_content="doc1"), Document(page_content="doc2")]

    out = lookup.invoke({"name": "lookup", "args": {"city": "Oslo"}, "id": "call_42", "type": "tool_call"})
    assert out.content == "sunny in Oslo"
    assert len(KB().invoke("q")) == 2
    spans = o.spans()
    (t,) = named(spans, "execute_tool lookup")
    assert t.attributes[n.GEN_AI_TOOL_CALL_ID] == "call_42"
    assert t.attributes[n.GEN_AI_TOOL_DESCRIPTION] == "Weather for a city."
    (r,) = named(spans, "retrieval KB")
    assert r.attributes["llmwatch.retrieval.documents"] == 2


def test_chat_openai_call_nests_under_the_langchain_run_without_duplicating_it(observe, sim):
    langchain_openai = pytest.importorskip("langchain_openai")
    o = observe()
    model = langchain_openai.ChatOpenAI(model="gpt-4o-mini", base_url=sim.base_url, api_key="sk-test", max_retries=0)
    chain = PROMPT | model | StrOutputParser()
    chain.invoke({"question": "why?"})
    spans = o.spans()
    (seq,) = named(spans, "invoke_workflow RunnableSequence")
    (wrapper,) = named(spans, "ChatOpenAI")  # the LangChain model run, only wrapping the real call
    (call,) = named(spans, "chat gpt-4o-mini")  # the instrumented openai call: the one LLM span
    assert_child(wrapper, seq)
    assert_child(call, wrapper)
    assert n.GEN_AI_USAGE_INPUT_TOKENS not in wrapper.attributes
    assert wrapper.attributes[n.LLMWATCH_ROLLUP_INPUT_TOKENS] == call.attributes[n.GEN_AI_USAGE_INPUT_TOKENS]
    assert seq.attributes[n.LLMWATCH_ROLLUP_CALLS] == 1
    assert sum(1 for r in o.records() if r.operation == "chat") == 1  # one stored LLM call, not two
    assert o.value(n.OPERATION_DURATION.prom_name + "_count") == 1


def test_astream_of_chat_openai_nests_too(observe, sim):
    langchain_openai = pytest.importorskip("langchain_openai")
    o = observe()
    model = langchain_openai.ChatOpenAI(model="gpt-4o-mini", base_url=sim.base_url, api_key="sk-test", max_retries=0)

    async def main():
        return "".join([c async for c in (PROMPT | model | StrOutputParser()).astream({"question": "x"})])

    assert asyncio.run(main())
    spans = o.spans()
    (wrapper,) = named(spans, "ChatOpenAI")
    (call,) = named(spans, "chat gpt-4o-mini")
    assert_child(call, wrapper)


def test_custom_runnable_calling_the_instrumented_client_nests_under_its_run(observe, client):
    o = observe()

    def ask(inputs):
        return client.chat.completions.create(model="gpt-4o-mini", messages=USER).choices[0].message.content

    chain = RunnableLambda(lambda q: {"q": q}, name="prepare") | RunnableLambda(ask, name="ask")
    chain.invoke("hello")
    spans = o.spans()
    (ask_span,) = named(spans, "ask")
    (call,) = named(spans, "chat gpt-4o-mini")
    assert_child(call, ask_span)
    (root,) = named(spans, "invoke_workflow RunnableSequence")
    assert root.attributes[n.LLMWATCH_ROLLUP_CALLS] == 1


def test_langchain_inside_an_llmwatch_workflow_nests_under_it(observe):
    o = observe()

    @llmwatch.workflow
    def handle(question):
        return (PROMPT | fake_model() | StrOutputParser()).invoke({"question": question})

    handle("q")
    spans = o.spans()
    (wf,) = named(spans, "invoke_workflow handle")
    (seq,) = named(spans, "invoke_workflow RunnableSequence")
    assert_child(seq, wf)
    assert wf.attributes[n.LLMWATCH_ROLLUP_INPUT_TOKENS] == 11


def test_explicit_handler_as_well_as_auto_registration_does_not_double(observe):
    from llmwatch.integrations.langchain import LlmwatchCallbackHandler, callback_handler

    o = observe()
    (PROMPT | fake_model() | StrOutputParser()).invoke(
        {"question": "q"}, config={"callbacks": [callback_handler(), LlmwatchCallbackHandler()]})
    assert len(named(o.spans(), "invoke_workflow RunnableSequence")) == 1


def test_chain_error_is_recorded_and_raised_unchanged(observe):
    o = observe()
    err = KeyError("missing")

    def boom(_):
        raise err

    with pytest.raises(KeyError) as info:
        (PROMPT | RunnableLambda(boom, name="boom")).invoke({"question": "q"})
    assert info.value is err
    (b,) = named(o.spans(), "boom")
    assert b.attributes[n.ERROR_TYPE] == "KeyError"


def test_shutdown_unregisters_the_handler(observe):
    from langchain_core.tracers import context as lc_context

    from llmwatch.integrations import langchain as integ

    observe()
    assert any(h[0] is integ._VAR for h in lc_context._configure_hooks)
    llmwatch.shutdown()
    assert not any(h[0] is integ._VAR for h in lc_context._configure_hooks)
    (PROMPT | fake_model() | StrOutputParser()).invoke({"question": "q"})  # still works, unobserved
