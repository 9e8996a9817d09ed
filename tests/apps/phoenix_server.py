"""Run ``phoenix serve`` with its gRPC OTLP receiver bound to loopback.

Phoenix binds its gRPC receiver to ``[::]:$PHOENIX_GRPC_PORT`` and has no setting for that host
(only ``PHOENIX_HOST`` for HTTP). The tests send OTLP/HTTP and must listen on 127.0.0.1 only, so
this launcher rewrites the gRPC bind address to 127.0.0.1 before starting Phoenix's own ``main``;
with ``PHOENIX_GRPC_PORT=0`` the port is ephemeral, so parallel runs never collide on 4317.
"""

from __future__ import annotations

import sys

import grpc.aio

_server = grpc.aio.server


def _loopback_server(*args, **kwargs):
    server = _server(*args, **kwargs)
    add = server.add_insecure_port
    server.add_insecure_port = lambda address: add(address.replace("[::]", "127.0.0.1"))  # type: ignore[method-assign]
    return server


grpc.aio.server = _loopback_server

if __name__ == "__main__":
    from phoenix.server.main import main

    sys.argv = ["phoenix", "serve"]
    sys.exit(main())
