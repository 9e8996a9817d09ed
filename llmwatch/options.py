"""The one option mechanism behind :class:`llmwatch.Config` and the agent's configuration.

An option is a dataclass field made by :func:`option`: its default, the environment variables
that set it, the parser that validates a raw value, and one line of documentation (the generated
reference lists them). :func:`resolve` builds the frozen object from ordered sources — keyword
arguments, the environment, a config file — and fails with :class:`ConfigError` naming the
option, where the bad value came from and what is accepted. No feature package is imported here:
this is the bottom layer, with :mod:`llmwatch.names`.

    @dataclass(frozen=True)
    class MyConfig:
        port: int = option(9465, "MY_PORT", port, "HTTP port.")

    cfg = resolve(MyConfig, [from_arguments({"port": 8080}), from_environment(os.environ)])
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from llmwatch.names import SCORER_NAMES, SEMCONV_GEN_AI_OPT_IN

T = TypeVar("T")
Parser = Callable[[Any], Any]
#: A source answers, for one field, ``(raw value, where it came from)`` or ``None`` (not set there).
Source = Callable[["dataclasses.Field[Any]"], "tuple[Any, str] | None"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """An llmwatch option has a value it cannot accept."""


def option(default: Any, env: str | tuple[str, ...] | None, parse: Parser, doc: str) -> Any:
    """A dataclass field carrying its environment variables, parser and documentation."""
    envs = (env,) if isinstance(env, str) else (env or ())
    return dataclasses.field(default=default, metadata={"env": envs, "parse": parse, "doc": doc})


def fields(cls: type) -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(cls))


# ---------------------------------------------------------------------------- sources
def from_arguments(values: Mapping[str, Any]) -> Source:
    """Keyword arguments (``None`` means "not given")."""

    def get(f: dataclasses.Field[Any]) -> tuple[Any, str] | None:
        if f.name in values and values[f.name] is not None:
            return values[f.name], f"argument {f.name}="
        return None

    return get


def from_environment(environ: Mapping[str, str]) -> Source:
    """The field's environment variables, first non-empty one wins."""

    def get(f: dataclasses.Field[Any]) -> tuple[Any, str] | None:
        for env in f.metadata.get("env", ()):
            if environ.get(env, "") != "":
                return environ[env], f"environment variable {env}"
        return None

    return get


def from_file(values: Mapping[str, Any], path: Any) -> Source:
    """Keys of a parsed config file (TOML), named like the fields."""

    def get(f: dataclasses.Field[Any]) -> tuple[Any, str] | None:
        if f.name in values:
            return values[f.name], f"{path}: {f.name}"
        return None

    return get


def check_known(cls: type, names: Sequence[str], where: str, label: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(f"{label}: unknown option(s) {', '.join(unknown)}{where}; "
                          f"accepted options: {', '.join(sorted(known))}")


def resolve(cls: type[T], sources: Sequence[Source], label: str = "llmwatch",
            secret: frozenset[str] = frozenset()) -> T:
    """Build ``cls`` from ``sources`` (first that sets a field wins), validating every value."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        for source in sources:
            found = source(f)
            if found is not None:
                break
        else:
            continue
        raw, where = found
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            shown = "***" if f.name in secret else repr(raw)
            raise ConfigError(f"{label}: invalid value {shown} for option {f.name!r} (from {where}); "
                              f"accepted: {exc}") from None
    return cls(**values)


# ---------------------------------------------------------------------------- parsers
def boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ValueError("true/false (also 1/0, yes/no, on/off)")


def int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError(f"an integer from {lo} to {hi}")
        try:
            n = int(v.strip()) if isinstance(v, str) else int(v)
            if isinstance(v, float) and v != n:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"an integer from {lo} to {hi}") from None
        if not lo <= n <= hi:
            raise ValueError(f"an integer from {lo} to {hi}")
        return n

    return parse


def port(v: Any) -> int:
    try:
        return int_range(0, 65535)(v)
    except ValueError:
        raise ValueError("a TCP port from 0 to 65535 (0 picks a free port)") from None


def optional_port(v: Any) -> int | None:
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "off")):
        return None
    try:
        return port(v)
    except ValueError:
        raise ValueError("a TCP port from 0 to 65535 (0 picks a free port), or empty/none to disable") from None


def positive_seconds(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError("a positive number of seconds") from None
    if not f > 0 or math.isinf(f) or f != f:
        raise ValueError("a positive number of seconds")
    return f


def string(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("a non-empty string")
    return v.strip()


def optional_string(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError("a string")
    return v.strip() or None


def optional_path(v: Any) -> str | None:
    import os

    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    return optional_string(v)


def ratio(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError("a number from 0.0 to 1.0") from None
    if not 0.0 <= f <= 1.0:
        raise ValueError("a number from 0.0 to 1.0")
    return f


def choice(*choices: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        if isinstance(v, str) and v.strip().lower() in choices:
            return v.strip().lower()
        raise ValueError(", ".join(choices))

    return parse


def torch_device(v: Any) -> str:
    if isinstance(v, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", v.strip().lower()):
        return v.strip().lower()
    raise ValueError("auto, cpu, cuda or cuda:N")


def string_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        return tuple(s.strip() for s in v.split(",") if s.strip())
    if isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v):
        return tuple(s.strip() for s in v if s.strip())
    raise ValueError("a list of names (or a comma-separated string)")


def scorer_names(v: Any) -> tuple[str, ...]:
    accepted = f"a comma-separated list of {', '.join(SCORER_NAMES)} (or empty for none)"
    items = v.split(",") if isinstance(v, str) else v
    try:
        names = tuple(dict.fromkeys(str(x).strip().lower() for x in items if str(x).strip()))
    except TypeError:
        raise ValueError(accepted) from None
    if any(x not in SCORER_NAMES for x in names):
        raise ValueError(accepted)
    return names


def semconv_opt_in(v: Any) -> tuple[str, ...]:
    """``OTEL_SEMCONV_STABILITY_OPT_IN``: a comma-separated list shared by every OpenTelemetry
    instrumentation. Values of other categories (``http``, ``database/dup``) are kept and left to
    their instrumentations; a ``gen_ai`` value other than the known ones is an error."""
    latest, dup = SEMCONV_GEN_AI_OPT_IN
    accepted = (f"a comma-separated list whose GenAI value is {latest} (latest names only, the default) or {dup} "
                "(also the old names of renamed attributes); other categories' values (http, database, ...) "
                "are left to their instrumentations")
    if isinstance(v, str):
        items: Sequence[Any] = v.split(",")
    elif isinstance(v, (list, tuple)):
        items = v
    else:
        raise ValueError(accepted)
    tokens = tuple(dict.fromkeys(str(x).strip().lower() for x in items if str(x).strip()))
    if any(t.startswith("gen_ai") and t not in SEMCONV_GEN_AI_OPT_IN for t in tokens):
        raise ValueError(accepted)
    return tokens


_PATTERNS_FORM = 'a JSON object of {"kind": "regex"}, e.g. {"employee_id": "EMP-\\\\d{6}"}'


def regex_patterns(value: Any) -> tuple[tuple[str, str], ...]:
    """A mapping or a JSON object ``{"kind": "regex"}``; names are identifiers, regexes must compile."""
    if value is None or value == "" or value == ():
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(_PATTERNS_FORM) from None
    if isinstance(value, Mapping):
        value = tuple(value.items())
    out = []
    for item in value:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValueError(_PATTERNS_FORM)
        kind, pattern = item
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", kind):
            raise ValueError(f"pattern names of lower-case letters, digits and _ (got {kind!r})")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"valid regular expressions ({kind!r}: {exc})") from None
        out.append((kind, pattern))
    return tuple(out)


DURATION_FORM = "a number with a unit: 500ms, 30s, 15m, 1h, 7d, 2w (no unit = seconds)"
DURATION_PATTERN = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def duration(v: Any) -> float:
    """Seconds from ``30``, ``"30s"``, ``"15m"``, ``"7d"`` ...; positive and finite."""
    if isinstance(v, bool):
        raise ValueError(DURATION_FORM)
    if isinstance(v, (int, float)):
        seconds = float(v)
    else:
        m = DURATION_PATTERN.fullmatch(v) if isinstance(v, str) else None
        if m is None:
            raise ValueError(DURATION_FORM)
        seconds = float(m.group(1)) * DURATION_UNITS[(m.group(2) or "s").lower()]
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(DURATION_FORM)
    return seconds


def optional_duration(v: Any) -> float | None:
    """A :func:`duration`, or none/off/0 for "no limit"."""
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none", "off", "0")) or v == 0:
        return None
    try:
        return duration(v)
    except ValueError:
        raise ValueError(f"{DURATION_FORM}, or none/off to keep everything") from None


MAX_COMMIT_DELAY = 60.0


def commit_delay(v: Any) -> float:
    """0 (commit as soon as records arrive) or a :func:`duration` of at most a minute."""
    form = f"0 (no wait) or {DURATION_FORM}, at most 60s"
    if isinstance(v, str):
        m = DURATION_PATTERN.fullmatch(v)
        if m is not None and float(m.group(1)) == 0:  # "0", "0s", "0.0", "0ms"
            return 0.0
    elif not isinstance(v, bool) and v == 0:
        return 0.0
    try:
        seconds = duration(v)
    except ValueError:
        raise ValueError(form) from None
    if seconds > MAX_COMMIT_DELAY:
        raise ValueError(form)
    return seconds


#: The embedded (SQLite) prompt log's default retention: 30 days.
EMBEDDED_RETENTION = 30 * 86400.0


def retention(v: Any) -> float | str | None:
    """``auto`` (30 days for the embedded SQLite log, nothing deleted in a server database such as
    PostgreSQL, whose retention its operators own), a :func:`duration`, or none/off."""
    if isinstance(v, str) and v.strip().lower() == "auto":
        return "auto"
    try:
        return optional_duration(v)
    except ValueError:
        raise ValueError(f"auto, {DURATION_FORM}, or none/off to keep everything") from None


SIZE_FORM = ("a size in bytes, optionally with a unit: 1048576, 512MB, 1GiB"
             " (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024)")
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def byte_size(lo: int = 1, hi: int = 1 << 50) -> Callable[[Any], int]:
    def parse(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError(SIZE_FORM)
        if isinstance(v, int):
            n = v
        else:
            m = _SIZE.fullmatch(v) if isinstance(v, str) else None
            if m is None:
                raise ValueError(SIZE_FORM)
            unit = (m.group(2) or "").lower()
            binary = "i" in unit
            letter = unit[:1] if unit not in ("b", "") else ""
            factor = (1 << (10 * "kmgt".index(letter) + 10)) if (binary and letter) else _SIZE_UNITS[letter]
            n = int(float(m.group(1)) * factor)
        if not lo <= n <= hi:
            raise ValueError(f"{SIZE_FORM}; from {lo} to {hi} bytes")
        return n

    return parse
