"""An app that knows nothing of llmwatch's setup: run under ``opentelemetry-instrument``."""

import json
import os

import openai
from opentelemetry import trace

import llmwatch

client = openai.OpenAI(base_url=os.environ["SIM_BASE_URL"], api_key="sk-test", max_retries=0)


@llmwatch.tool
def lookup(q):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": q}])


@llmwatch.workflow
def answer(q):
    return lookup(q)


answer("hello")
from llmwatch import _runtime  # noqa: E402

rt = _runtime.current()
print("APP " + json.dumps({
    "initialized": llmwatch.is_initialized(),
    "same_tracer_provider": rt is not None and rt.tracer_provider is trace.get_tracer_provider(),
}), flush=True)
