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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from llmwatch.config import ConfigError, _bool, _int_range, _opt_str, _pos_float, _str

LOOPBACK = ("localhost",)


def _port(v: Any) -> int:
    return _int_range(0, 65535)(v)


def _duration_or_none(v: Any) -> float | None:
    from llmwatch.store.timeparse import DURATION_FORM, parse_duration

    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "off", "0")):
        return None
    try:
        return parse_duration(v, "retention")
    except ValueError:
        raise ValueError(f"{DURATION_FORM}, or none/off to keep everything") from None


def _gpu_source(v: Any) -> str:
    s = _str(v)
    if s in ("nvml", "fake") or s.startswith("fake:"):
        return s
    raise ValueError("nvml (the real GPUs), or fake / fake:/path/fake.json (test double, no GPU needed)")


def _str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return tuple(s.strip() for s in v.split(",") if s.strip())
    if isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v):
        return tuple(s.strip() for s in v if s.strip())
    raise ValueError("a list of names (or a comma-separated string)")


def _opt(default: Any, env: str | tuple[str, ...], parse: Callable[[Any], Any], doc: str) -> Any:
    envs = (env,) if isinstance(env, str) else env
    return field(default=default, metadata={"env": envs, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class AgentConfig:
    """Every agent option; file keys are the field names."""

    host: str = _opt("127.0.0.1", "LLMWATCH_AGENT_HOST", _str, "Address the HTTP server binds.")
    port: int = _opt(9465, "LLMWATCH_AGENT_PORT", _port, "HTTP port (0 picks a free one).")
    store_url: str | None = _opt(None, ("LLMWATCH_AGENT_STORE_URL", "LLMWATCH_STORE_URL"), _opt_str,
                                 "Prompt-log database the query API, scorers and retention use.")
    token: str | None = _opt(None, "LLMWATCH_AGENT_TOKEN", _opt_str,
                             "Bearer token for /api/v1 (prefer token_file or the environment to the file).")
    token_file: str | None = _opt(None, "LLMWATCH_AGENT_TOKEN_FILE", _opt_str,
                                  "File holding the bearer token (a mounted secret).")
    gpu: bool = _opt(True, "LLMWATCH_AGENT_GPU", _bool, "Export GPU metrics.")
    gpu_source: str = _opt("nvml", "LLMWATCH_AGENT_GPU_SOURCE", _gpu_source,
                           "nvml, or fake / fake:FILE (test double for machines without a GPU).")
    retention: float | None = _opt(None, ("LLMWATCH_AGENT_RETENTION", "LLMWATCH_STORE_RETENTION"),
                                   _duration_or_none, "Delete calls older than this (30d); none keeps all.")
    retention_interval: float = _opt(3600.0, "LLMWATCH_AGENT_RETENTION_INTERVAL", _pos_float,
                                     "Seconds between retention passes.")
    scorers: tuple[str, ...] = _opt((), "LLMWATCH_AGENT_SCORERS", _str_list,
                                    "Scorers to run over the store (empty: the scoring module's defaults).")
    scoring: bool = _opt(True, "LLMWATCH_AGENT_SCORING", _bool, "Run the scorer workers.")
    drain_timeout: float = _opt(30.0, "LLMWATCH_AGENT_DRAIN_TIMEOUT", _pos_float,
                                "Seconds SIGTERM waits for in-flight requests and workers.")
    max_page: int = _opt(1000, "LLMWATCH_AGENT_MAX_PAGE", _int_range(1, 100_000), "Largest limit= the API accepts.")

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
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
    def load(cls, path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> "AgentConfig":
        """Read ``path`` (TOML) and the environment; validate; raise ConfigError naming the problem."""
        environ = os.environ if environ is None else environ
        file_values: dict[str, Any] = {}
        if path is not None:
            file_values = _read_toml(Path(path))
            known = {f.name for f in cls.options()}
            unknown = sorted(set(file_values) - known)
            if unknown:
                raise ConfigError(f"llmwatch agent: unknown key(s) {', '.join(unknown)} in {path}; "
                                  f"accepted: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for f in cls.options():
            raw, source = None, None
            for env in f.metadata["env"]:
                if environ.get(env, "") != "":
                    raw, source = environ[env], f"environment variable {env}"
                    break
            if source is None and f.name in file_values:
                raw, source = file_values[f.name], f"{path}: {f.name}"
            if source is None:
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                shown = "***" if f.name == "token" else repr(raw)
                raise ConfigError(f"llmwatch agent: invalid value {shown} for {f.name!r} (from {source}); "
                                  f"accepted: {exc}") from None
        cfg = cls(**values)
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
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ConfigError("llmwatch agent: reading a TOML config needs Python 3.11+ or `pip install tomli`") from None
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"llmwatch agent: cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"llmwatch agent: {path} is not valid TOML: {exc}") from None
