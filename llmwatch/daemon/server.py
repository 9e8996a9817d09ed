"""The agent's HTTP server: stdlib ``http.server`` with one thread per request.

Chosen over a framework because the surface is six GET routes: no dependency, and graceful
shutdown is exact (``shutdown()`` stops accepting; ``server_close()`` joins the request threads,
so a SIGTERM never cuts a response short). Each response closes its connection (HTTP/1.0), so no
idle keep-alive connection can hold shutdown up.

Auth: ``/api/*`` needs ``Authorization: Bearer <token>`` (compared in constant time) when the
agent has a token; ``/metrics``, ``/healthz``, ``/readyz`` and ``/openapi.json`` do not.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llmwatch.daemon import api

logger = logging.getLogger("llmwatch.agent")


def openapi_bytes() -> bytes:
    return resources.files("llmwatch.daemon").joinpath("openapi.json").read_bytes()


class AgentHTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for in-flight requests: the drain
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], agent: Any) -> None:
        self.agent = agent
        token = agent.config.api_token()
        self.token = token.encode() if token else None
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: AgentHTTPServer
    protocol_version = "HTTP/1.0"
    server_version = "llmwatch-agent"

    def log_message(self, fmt: str, *args: Any) -> None:
        logger.debug("%s " + fmt, self.client_address[0], *args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json", route: str = "other",
              headers: dict[str, str] | None = None) -> None:
        # Counted before the reply goes out, so a client that reads /metrics next sees it.
        self.server.agent.health.request(route, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, route: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, default=str).encode(), route=route, headers=headers)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        try:
            self._get()
        except Exception as exc:  # noqa: BLE001 - last resort: a 500 with a message, logged
            logger.exception("llmwatch agent: %s %s failed", self.command, self.path)
            try:
                self._json(500, {"error": f"internal error: {type(exc).__name__}"}, "other")
            except Exception:  # noqa: BLE001 - client gone
                pass

    do_HEAD = do_GET

    def _method_not_allowed(self) -> None:
        self._json(405, {"error": f"method {self.command} not allowed: the agent is read-only (GET)"}, "other",
                   headers={"Allow": "GET, HEAD"})

    def __getattr__(self, name: str) -> Any:
        # Every method but GET/HEAD (POST, TRACE, QUERY, ...) is a 405, not http.server's 501.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _get(self) -> None:
        agent = self.server.agent
        parts = urlsplit(self.path)
        path = parts.path
        if path == "/metrics":
            self._send(200, generate_latest(agent.registry), CONTENT_TYPE_LATEST, "/metrics")
            return
        if path == "/healthz":
            self._json(200, {"status": "ok"}, "/healthz")
            return
        if path == "/readyz":
            ready, detail = agent.readiness()
            self._json(200 if ready else 503, {"ready": ready, **detail}, "/readyz")
            return
        if path == "/openapi.json":
            self._send(200, openapi_bytes(), route="/openapi.json")
            return
        found = api.match(path) if path.startswith("/api/") else None
        if found is None:
            self._json(404, {"error": f"no route {path!r}; see /openapi.json"}, "other")
            return
        handler, args, route = found
        if not self._authorised():
            self._json(401, {"error": "missing or invalid bearer token (Authorization: Bearer <token>)"}, route,
                       headers={"WWW-Authenticate": 'Bearer realm="llmwatch"'})
            return
        self._api(handler, {k: unquote(v) for k, v in args.items()}, parts.query, route)

    def _authorised(self) -> bool:
        token = self.server.token
        if token is None:  # loopback-only agent without a token (checked at start)
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token)

    def _api(self, handler: Callable[..., api.Result], args: dict[str, str], query: str, route: str) -> None:
        from sqlalchemy.exc import DBAPIError, OperationalError

        from llmwatch.store.db import StoreError
        from llmwatch.store.query import QueryError

        agent = self.server.agent
        try:
            params = api.Params(parse_qs(query, keep_blank_values=True, strict_parsing=False))
        except ValueError as exc:
            self._json(400, {"error": f"invalid query string: {exc}"}, route)
            return
        try:
            status, body = handler(agent.store_url, params, args, agent.config.max_page)
        except (api.BadRequest, QueryError) as exc:
            self._json(400, {"error": str(exc)}, route)
            return
        except LookupError as exc:
            self._json(404, {"error": str(exc.args[0]) if exc.args else "not found"}, route)
            return
        except (StoreError, OperationalError) as exc:
            logger.warning("llmwatch agent: store unavailable: %s", exc)
            self._json(503, {"error": f"prompt-log store unavailable: {type(exc).__name__}"}, route)
            return
        except DBAPIError as exc:
            if getattr(exc, "connection_invalidated", False):
                self._json(503, {"error": "prompt-log store connection lost"}, route)
                return
            raise
        self._json(status, body, route)


def serve(agent: Any, host: str, port: int) -> tuple[AgentHTTPServer, Any]:
    """Bind and start serving in a thread; returns (server, thread)."""
    import threading

    server = AgentHTTPServer((host, port), agent)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="llmwatch-agent-http", daemon=True)
    thread.start()
    return server, thread


__all__ = ["serve", "AgentHTTPServer", "openapi_bytes"]
