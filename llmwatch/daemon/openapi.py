"""The OpenAPI 3.0 document of the agent's HTTP API, generated from :mod:`llmwatch.daemon.api`.

``llmwatch/daemon/openapi.json`` is this output, committed; a test regenerates it and fails on any
difference. Regenerate with ``python -m llmwatch.daemon.openapi > llmwatch/daemon/openapi.json``.
"""

from __future__ import annotations

import json
from typing import Any

from llmwatch.daemon.api import FILTERS, ROUTES

_ERROR = {"$ref": "#/components/responses/Error"}


def _param(name: str, kind: str, doc: str) -> dict[str, Any]:
    if kind == "array":
        return {"name": name, "in": "query", "required": False, "description": doc, "style": "form",
                "explode": True, "schema": {"type": "array", "items": {"type": "string"}}}
    schema: dict[str, Any] = {"type": kind}
    if name == "status":
        schema["enum"] = ["ok", "error"]
    return {"name": name, "in": "query", "required": False, "description": doc, "schema": schema}


_ID_PARAM = {"name": "id", "in": "path", "required": True, "description": "Record id or unique prefix (6+ hex).",
             "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{6,32}$"}}


def _params(op: str) -> list[dict[str, Any]]:
    from llmwatch.store.analysis import GROUP_KEYS
    from llmwatch.store.query import SORT_KEYS

    filters = [_param(k, t, d) for k, (t, d) in FILTERS.items()]
    if op == "listCalls":
        return filters + [
            {"name": "sort", "in": "query", "required": False, "description": "Sort key; prefix - for descending.",
             "schema": {"type": "string", "enum": [f"{p}{k}" for k in SORT_KEYS for p in ("", "-")],
                        "default": "-start_time"}},
            {"name": "limit", "in": "query", "required": False, "description": "Calls per page.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
            {"name": "cursor", "in": "query", "required": False,
             "description": "next_cursor of the previous page (same filters and sort).", "schema": {"type": "string"}},
        ]
    if op == "getStats":
        return filters + [{"name": "by", "in": "query", "required": False, "description": "Group by.",
                           "schema": {"type": "string", "enum": list(GROUP_KEYS), "default": "model"}}]
    if op == "compareModels":
        s = {"type": "string"}
        return [
            {"name": "record_id", "in": "query", "required": False, "description": "A call whose prompt to compare.",
             "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{6,32}$"}},
            {"name": "prompt_hash", "in": "query", "required": False, "description": "Prompt hash.", "schema": s},
            {"name": "template", "in": "query", "required": False, "description": "Template name.", "schema": s},
            {"name": "template_version", "in": "query", "required": False, "description": "Template version.",
             "schema": s},
            {"name": "since", "in": "query", "required": False, "description": FILTERS["since"][1], "schema": s},
            {"name": "limit", "in": "query", "required": False, "description": "Prompt groups.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5}},
        ]
    if op == "similarCalls":
        return [_ID_PARAM] + filters + [
            {"name": "limit", "in": "query", "required": False, "description": "Similar calls to return.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}}]
    if op == "listClusters":
        return filters + [
            {"name": "k", "in": "query", "required": False,
             "description": "Number of clusters (0 or absent: round(sqrt(calls / 2)), at most 50). since defaults "
                            "to 7d.", "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 0}},
            {"name": "sample", "in": "query", "required": False, "description": "Member ids per cluster.",
             "schema": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}}]
    if op == "getCall":
        return [_ID_PARAM]
    if op == "getTrace":
        return [{"name": "trace_id", "in": "path", "required": True, "description": "Trace id, 32 hex digits.",
                 "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{32}$"}}]
    return []


_BODIES: dict[str, dict[str, Any]] = {
    "listCalls": {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Call"}},
        "next_cursor": {"type": "string", "nullable": True}}},
    "getCall": {"$ref": "#/components/schemas/Call"},
    "similarCalls": {"type": "object", "required": ["items", "path"], "properties": {
        "items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Call"}, {
            "type": "object", "required": ["similarity"], "properties": {"similarity": {"type": "number"}}}]}},
        "path": {"type": "string"}, "note": {"type": "string", "nullable": True}}},
    "listClusters": {"type": "object", "required": ["clusters", "calls", "k", "unembedded"], "properties": {
        "clusters": {"type": "array", "items": {"type": "object", "required": [
            "size", "errors", "error_rate", "cost_usd", "unknown_cost", "representative", "flags", "record_ids"]}},
        "calls": {"type": "integer"}, "k": {"type": "integer"}, "unembedded": {"type": "integer"},
        "seconds": {"type": "number"}, "note": {"type": "string", "nullable": True}}},
    "getTrace": {"type": "object", "required": ["trace_id", "count", "roots"], "properties": {
        "trace_id": {"type": "string"}, "count": {"type": "integer"},
        "roots": {"type": "array", "items": {"type": "object"}}}},
    "getStats": {"type": "object", "required": ["by", "groups"], "properties": {
        "by": {"type": "string"},
        "groups": {"type": "array", "items": {"type": "object", "required": ["group", "count"]}}}},
    "compareModels": {"type": "object", "required": ["groups"], "properties": {
        "groups": {"type": "array", "items": {"type": "object", "required": ["prompt_hash", "answers"]}}}},
}


def openapi() -> dict[str, Any]:
    from llmwatch import __version__

    paths: dict[str, Any] = {}
    for method, path, _handler, op, summary in ROUTES:
        responses: dict[str, Any] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": _BODIES[op]}}},
            "400": _ERROR, "401": _ERROR, "503": _ERROR,
        }
        if "{" in path or op == "compareModels":
            responses["404"] = _ERROR
        paths[path] = {method.lower(): {"operationId": op, "summary": summary, "parameters": _params(op),
                                        "responses": responses}}
    plain = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    paths["/healthz"] = {"get": {"operationId": "healthz", "summary": "The process is alive.", "security": [],
                                 "responses": plain}}
    paths["/readyz"] = {"get": {"operationId": "readyz", "security": [],
                                "summary": "Ready: the store answers. The body details every component.",
                                "responses": {**plain, "503": {"description": "Not ready", "content": {
                                    "application/json": {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "llmwatch agent", "version": __version__,
                 "description": "Read-only query API over the llmwatch prompt log, and the agent's health endpoints. "
                                "/metrics (Prometheus text format) is served too and not described here."},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Call": {"type": "object", "required": ["record_id", "operation", "provider", "status"],
                         "properties": {"record_id": {"type": "string"},
                                        "trace_id": {"type": "string", "nullable": True},
                                        "operation": {"type": "string"}, "provider": {"type": "string"},
                                        "status": {"type": "string"}, "start_time": {"type": "string"},
                                        "duration": {"type": "number"}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            },
            "responses": {"Error": {
                "description": "Error, with a message",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


def render() -> str:
    return json.dumps(openapi(), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
