"""Parents and request context survive ``ThreadPoolExecutor`` (patched by init(), restored by shutdown())."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

import llmwatch
from llmwatch.tracing import propagation
from tests.conftest import USER
from tests.test_tracing import assert_child

pytestmark = pytest.mark.openai2

ORIGINAL_SUBMIT = ThreadPoolExecutor.submit


def test_submit_and_map_run_in_the_submitters_context(observe, client):
    o = observe()

    def ask(_=None):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    with llmwatch.context(session_id="s-7"), llmwatch.workflow("fan-out"):
        with ThreadPoolExecutor(max_workers=3) as pool:
            pool.submit(ask).result()
            list(pool.map(ask, range(3)))
    spans = o.spans()
    wf = next(s for s in spans if s.name == "invoke_workflow fan-out")
    chats = [s for s in spans if s.name.startswith("chat")]
    assert len(chats) == 4
    for c in chats:
        assert_child(c, wf)
        assert c.attributes["session.id"] == "s-7"
    assert wf.attributes["llmwatch.rollup.calls"] == 4
    assert {r.session_id for r in o.records() if r.operation == "chat"} == {"s-7"}


def test_run_in_executor_keeps_the_parent(observe, client):
    o = observe()

    def ask():
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    async def main():
        async with llmwatch.span("blocking-io", kind="agent"):
            await asyncio.get_running_loop().run_in_executor(None, ask)

    asyncio.run(main())
    spans = o.spans()
    ag = next(s for s in spans if s.name == "invoke_agent blocking-io")
    assert_child(next(s for s in spans if s.name.startswith("chat")), ag)


def test_shutdown_restores_the_exact_original_submit(observe):
    observe()
    assert ThreadPoolExecutor.submit is not ORIGINAL_SUBMIT and propagation.is_patched()
    llmwatch.shutdown()
    assert ThreadPoolExecutor.submit is ORIGINAL_SUBMIT and not propagation.is_patched()


def test_worker_exceptions_pass_through_unchanged(observe):
    observe()
    err = ValueError("bad")

    def fail():
        raise err

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError) as info:
            pool.submit(fail).result()
    assert info.value is err


def test_a_submit_reference_taken_while_patched_still_works_after_shutdown(observe):
    from concurrent.futures import ThreadPoolExecutor

    import llmwatch

    observe()
    submit = ThreadPoolExecutor.submit  # e.g. cached by a library while llmwatch was running
    llmwatch.shutdown()
    with ThreadPoolExecutor(1) as pool:
        assert submit(pool, lambda: 41 + 1).result() == 42
