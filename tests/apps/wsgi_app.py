"""A WSGI app that makes one openai call per request, run under gunicorn by tests/test_multiprocess.py.

    GET /call?i=N  -> one chat completion against the simulator at $SIM_BASE_URL; replies with the
                      worker pid and the usage the simulator reported
    GET /metrics   -> every worker's metrics, aggregated from $PROMETHEUS_MULTIPROC_DIR

With ``LLMWATCH_INIT_AT_IMPORT=1`` the module calls ``llmwatch.init()`` when imported, which under
``gunicorn --preload`` means once in the master before the workers fork; otherwise
``gunicorn_conf.post_worker_init`` calls it in each worker.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

import openai
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import llmwatch
from llmwatch.metrics.server import serving_registry

if os.environ.get("LLMWATCH_INIT_AT_IMPORT") == "1":
    llmwatch.init(store=False, prometheus_port=None)

_client: openai.OpenAI | None = None


def _openai() -> openai.OpenAI:
    # Created lazily, in the worker: an HTTP connection pool must not be shared across fork().
    global _client
    if _client is None:
        _client = openai.OpenAI(base_url=os.environ["SIM_BASE_URL"], api_key="sk-test", max_retries=0)
    return _client


def _call(query: dict[str, list[str]]) -> dict[str, Any]:
    i = query.get("i", ["0"])[0]
    resp = _openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"request {i}: " + "why " * int(i)}],
        extra_headers={"x-sim-latency-ms": "50"})
    # Metrics are recorded on llmwatch's worker thread just after the call: flush so the reply
    # only goes out once this call is counted.
    llmwatch.flush()
    return {"pid": os.getpid(), "input": resp.usage.prompt_tokens, "output": resp.usage.completion_tokens}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/metrics":
        body = generate_latest(serving_registry())
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]
    if path == "/call":
        body = json.dumps(_call(parse_qs(environ.get("QUERY_STRING", "")))).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]
