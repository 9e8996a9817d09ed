"""The agent's configuration: a TOML file and ``LLMWATCH_AGENT_*`` environment variables.

Precedence: environment > file > default. Everything is validated at start; a bad value stops
the agent with a message naming the key, where the value came from and what is accepted.

    # agent.toml
    host = "0.0.0.0"
    port = 9465
    store_url = "postgresql+psycopg://llmwatch_reader@db/llmwatch"
    token_file = "/var/run/secrets/llmwatch/token"
    retention = "30d"
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmwatch.options import (
    ConfigError,
    boolean,
    check_known,
    from_environment,
    from_file,
    int_range,
    option,
    optional_duration,
    optional_string,
    port,
    positive_seconds,
    resolve,
    scorer_names,
    string,
)

LOOPBACK = ("localhost",)
_LABEL = "llmwatch agent"


def _gpu_source(v: Any) -> str:
    s = string(v)
    if s in ("nvml", "fake") or s.startswith("fake:"):
        return s
    raise ValueError("nvml (the real GPUs), or fake / fake:/path/fake.json (test double, no GPU needed)")


@dataclass(frozen=True)
class AgentConfig:
    """Every agent option; file keys are the field names."""

    host: str = option("127.0.0.1", "LLMWATCH_AGENT_HOST", string, "Address the HTTP server binds.")
    port: int = option(9465, "LLMWATCH_AGENT_PORT", port, "HTTP port (0 picks a free one).")
    store_url: str | None = option(None, ("LLMWATCH_AGENT_STORE_URL", "LLMWATCH_STORE_URL"), optional_string,
                                 "Prompt-log database the query API, scorers and retention use.")
    token: str | None = option(None, "LLMWATCH_AGENT_TOKEN", optional_string,
                             "Bearer token for /api/v1 (prefer token_file or the environment to the file).")
    token_file: str | None = option(None, "LLMWATCH_AGENT_TOKEN_FILE", optional_string,
                                  "File holding the bearer token (a mounted secret).")
    gpu: bool = option(True, "LLMWATCH_AGENT_GPU", boolean, "Export GPU metrics.")
    gpu_source: str = option("nvml", "LLMWATCH_AGENT_GPU_SOURCE", _gpu_source,
                           "nvml, or fake / fake:FILE (test double for machines without a GPU).")
    retention: float | None = option(None, ("LLMWATCH_AGENT_RETENTION", "LLMWATCH_STORE_RETENTION"),
                                   optional_duration, "Delete calls older than this (30d); none keeps all.")
    retention_interval: float = option(3600.0, "LLMWATCH_AGENT_RETENTION_INTERVAL", positive_seconds,
                                     "Seconds between retention passes.")
    scorers: tuple[str, ...] = option((), "LLMWATCH_AGENT_SCORERS", scorer_names,
                                    "Scorers to run over the store (empty: the scoring module's defaults).")
    scoring: bool = option(True, "LLMWATCH_AGENT_SCORING", boolean, "Run the scorer workers.")
    drain_timeout: float = option(30.0, "LLMWATCH_AGENT_DRAIN_TIMEOUT", positive_seconds,
                                "Seconds SIGTERM waits for in-flight requests and workers.")
    max_page: int = option(1000, "LLMWATCH_AGENT_MAX_PAGE", int_range(1, 100_000), "Largest limit= the API accepts.")

    @classmethod
    def options(cls) -> list[dataclasses.Field[Any]]:
        return list(dataclasses.fields(cls))

    @property
    def loopback(self) -> bool:
        if self.host in LOOPBACK:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def api_token(self) -> str | None:
        """The token (``token``, else the contents of ``token_file``)."""
        if self.token:
            return self.token
        if self.token_file:
            return Path(self.token_file).read_text().strip() or None
        return None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> AgentConfig:
        """Read ``path`` (TOML) and the environment; validate; raise ConfigError naming the problem."""
        environ = os.environ if environ is None else environ
        sources = [from_environment(environ)]
        if path is not None:
            file_values = _read_toml(Path(path))
            check_known(cls, list(file_values), f" in {path}", _LABEL)
            sources.append(from_file(file_values, path))
        cfg = resolve(cls, sources, _LABEL, secret=frozenset({"token"}))
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.token_file:
            try:
                Path(self.token_file).read_text()
            except OSError as exc:
                raise ConfigError(f"llmwatch agent: token_file {self.token_file!r} cannot be read: {exc}") from None
        if self.api_token() is None and not self.loopback:
            raise ConfigError(
                f"llmwatch agent: refusing to serve the query API on {self.host} without a token: set "
                "LLMWATCH_AGENT_TOKEN or token_file, or bind to loopback (host = \"127.0.0.1\")")
        if self.store_url is not None:
            from llmwatch.store.db import StoreError, create_engine

            try:
                create_engine(self.store_url).dispose()
            except StoreError as exc:
                raise ConfigError(f"llmwatch agent: invalid store_url: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        try:
            import tomli as tomllib
        except ImportError:
            raise ConfigError("llmwatch agent: reading a TOML config needs Python 3.11+"
                              " or `pip install tomli`") from None
    try:
        with path.open("rb") as fh:
            doc: dict[str, Any] = tomllib.load(fh)
            return doc
    except OSError as exc:
        raise ConfigError(f"llmwatch agent: cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"llmwatch agent: {path} is not valid TOML: {exc}") from None
