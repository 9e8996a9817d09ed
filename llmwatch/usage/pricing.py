"""The price table: USD cost of a call from its token counts. An unknown price is ``None``, never $0.

The table ships with the package (``llmwatch/data/prices.json``, dated by ``as_of``) and is read
with :mod:`importlib.resources`; nothing is ever fetched. A user file of the same shape (config
``price_file`` / ``LLMWATCH_PRICE_FILE``) overrides or adds whole model entries.

``cost()`` runs once per call on the record worker, so the work is front-loaded: the file is
validated at load, and each model string is resolved to its rates once (``functools.lru_cache``);
after that a call is one cached lookup and a few multiplications. :func:`price` is the one rule
every call is priced by (which model to try, when a call is billable, unknown is never $0).

    >>> table = PriceTable.load()
    >>> table.cost("gpt-4o-2024-08-06", input_tokens=1000, output_tokens=500, cached_input_tokens=400)
    0.007
    >>> table.cost("my-private-model", 1000, 500) is None
    True

Rows may carry their own date and source: a row's ``"ref"`` names an entry of the top-level
``"sources"`` object (``{"anthropic": {"as_of": ..., "source": ..., "notes": ...}}``); rows
without one are described by the top-level ``as_of``/``source``. See :meth:`PriceTable.source_for`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any, NamedTuple

__all__ = ["PriceTable", "Price", "PriceSource", "PriceFileError", "normalise_model", "FIELDS", "BUNDLED"]

FIELDS = ("input", "cached_input", "cache_write_input", "output")  # USD per 1M tokens
REF = "ref"  # a row's key into the top-level "sources"
BUNDLED = "bundled"
_TOP_LEVEL = ("version", "as_of", "source", "notes", "currency", "unit", "sources", "models")
_SOURCE_FIELDS = ("as_of", "source", "notes")
_ACCEPTED = ('accepted: {"models": {"<model>": {"input": 2.5, "cached_input": 1.25, "cache_write_input": 3.1, '
             '"output": 10.0}}} with non-negative numbers in USD per 1M tokens; \'input\' is required, '
             "'cached_input', 'cache_write_input' and 'output' are optional, and 'ref' may name an entry of "
             'the top-level "sources"; no other fields')
# A dated snapshot suffix: gpt-4o-2024-08-06, o3-2025-04-16, gpt-4-0613, gpt-3.5-turbo-0125, and
# Anthropic's claude-sonnet-4-5-20250929.
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")
# Amazon Bedrock's global cross-region inference profile bills the base model's rate.
_BEDROCK_GLOBAL = "global."


class PriceFileError(ValueError):
    """A price file is not in the accepted form. The message names the file, the model key and
    the field, and says what is accepted."""

    def __init__(self, path: str, problem: str, model: str | None = None, field: str | None = None):
        where = f"models[{model!r}]" if model is not None else ""
        if field is not None:
            where = f"{where}.{field}" if where else field
        super().__init__(f"{path}: {where + ': ' if where else ''}{problem}; {_ACCEPTED}")
        self.path, self.model, self.field = path, model, field


@dataclass(frozen=True, slots=True)
class Price:
    """One model's rates in USD per 1M tokens. ``None`` means the table has no such rate:
    ``cached_input`` (cache reads) and ``cache_write_input`` (cache writes) then fall back to
    ``input``; a missing ``output`` makes output unknown.

        >>> PriceTable.load().price_for("openai/GPT-4o-mini")
        Price(model='gpt-4o-mini', input=0.15, cached_input=0.075, output=0.6, source='bundled', \
cache_write_input=None, ref=None)
    """

    model: str
    input: float
    cached_input: float | None
    output: float | None
    source: str = BUNDLED  # "bundled" or the user file's path
    cache_write_input: float | None = None
    ref: str | None = None  # the key of the row's entry in "sources", if it has one


@dataclass(frozen=True, slots=True)
class PriceSource:
    """Where a group of rows comes from: the date of the prices, the page, and what was checked."""

    as_of: str | None
    source: str | None
    notes: str | None = None


def normalise_model(model: str) -> str:
    """Lower-case, without a provider prefix: ``"Azure/GPT-4o"`` -> ``"gpt-4o"``.

    A Bedrock inference-profile ARN keeps its last path part (the profile id), and the
    ``global.`` cross-region profile becomes the base model id, because it bills the base rate:
    ``"global.anthropic.claude-sonnet-4-5-20250929-v1:0"`` -> ``"anthropic.claude-sonnet-4-5-20250929-v1:0"``.
    Geographic profiles (``us.``, ``eu.``, ``apac.``, ...) are kept: some cost more than the base
    model, so each has its own row or is unknown. Ollama's default tag is dropped, so a price
    entry for ``llama3.2`` applies to ``llama3.2:latest`` (other tags, ``llama3.2:1b``, are kept:
    they are different models).
    """
    name = model.strip().lower()
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    if name.startswith(_BEDROCK_GLOBAL):
        name = name[len(_BEDROCK_GLOBAL):]
    if name.endswith(":latest"):
        name = name[: -len(":latest")]
    return name


class PriceTable:
    """Immutable model -> :class:`Price` table. Build it with :meth:`load`."""

    def __init__(self, prices: Mapping[str, Price], as_of: str | None, source: str | None,
                 user_file: str | None = None, sources: Mapping[str, PriceSource] | None = None) -> None:
        self._prices = dict(prices)
        self.as_of = as_of
        self.source = source
        self.user_file = user_file
        self.sources = dict(sources or {})
        # Per instance, so a reloaded table never serves another table's resolutions.
        self._rates = functools.lru_cache(maxsize=1024)(self._resolve_rates)

    @classmethod
    def load(cls, user_file: str | os.PathLike[str] | None = None) -> PriceTable:
        """The bundled table, merged with ``user_file`` whose entries replace or add whole models.

        Raises :class:`PriceFileError` if the user file is unreadable or malformed; nothing of it
        is applied then. Never touches the network.

            >>> PriceTable.load().as_of
            '2025-08-07'
        """
        bundled = _bundled()
        prices = dict(bundled.prices)
        sources = dict(bundled.sources)
        if user_file is not None:
            path = os.fspath(user_file)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise PriceFileError(path, f"cannot read the file ({e})") from None
            user = _parse(text, path)  # parsed in full before anything is merged
            prices.update(user.prices)
            # A user row's ref names the user file's own sources; they are kept apart from the
            # bundled ones by the file's path.
            sources.update({f"{path}#{key}": value for key, value in user.sources.items()})
            for name, row in user.prices.items():
                if row.ref is not None:
                    prices[name] = dataclasses.replace(row, ref=f"{path}#{row.ref}")
        return cls(prices, bundled.as_of, bundled.source, os.fspath(user_file) if user_file else None, sources)

    def models(self) -> list[str]:
        """Every model key in the table, sorted."""
        return sorted(self._prices)

    def price_for(self, model: str | None) -> Price | None:
        """The :class:`Price` for a model name, resolved as in :meth:`cost`; None if unknown.

            >>> PriceTable.load().price_for("o3-2025-04-16").model
            'o3'
        """
        if not isinstance(model, str):
            return None
        name = normalise_model(model)
        price = self._prices.get(name)
        if price is None:
            base = _SNAPSHOT.sub("", name)
            price = self._prices.get(base) if base != name else None
        return price

    def source_for(self, model: str | None) -> PriceSource | None:
        """Date and source of the row a model name resolves to (None if the model is unknown).

            >>> PriceTable.load().source_for("claude-haiku-4-5-20251001").as_of
            '2025-11-24'
        """
        price = self.price_for(model)
        if price is None:
            return None
        if price.ref is not None:
            return self.sources.get(price.ref)
        if price.source != BUNDLED:
            return PriceSource(None, price.source)
        return PriceSource(self.as_of, self.source)

    def _resolve_rates(self, model: str | None) -> tuple[float, float, float, float | None] | None:
        price = self.price_for(model)
        if price is None:
            return None
        cached = price.cached_input if price.cached_input is not None else price.input
        write = price.cache_write_input if price.cache_write_input is not None else price.input
        return price.input, cached, write, price.output

    def cost(self, model: str | None, input_tokens: int | None, output_tokens: int | None,
             cached_input_tokens: int | None = 0, cache_write_input_tokens: int | None = 0) -> float | None:
        """USD for one call, or None when the model's price or a needed token count is unknown.

        ``input_tokens`` *includes* ``cached_input_tokens`` (read from the provider's prompt
        cache, billed at ``cached_input``) and ``cache_write_input_tokens`` (written to it, billed
        at ``cache_write_input``); a missing rate falls back to ``input``. Reasoning tokens are
        part of ``output_tokens``. A cache count of None counts as 0 (the full input rate). A
        cache count beyond the input count is capped: reads first, then writes. A count may be
        None only where its price is absent or zero (embeddings have no output price;
        moderation is free), so an unknown count never hides a real charge.

            >>> PriceTable.load().cost("text-embedding-3-small", 1_000_000, None)
            0.02
        """
        rates = self._rates(model)
        if rates is None:
            return None
        in_rate, cached_rate, write_rate, out_rate = rates
        if input_tokens is None:
            if in_rate or cached_rate or write_rate:
                return None
            input_tokens = 0  # a free model's count is not needed
        cached = min(cached_input_tokens or 0, input_tokens)
        written = min(cache_write_input_tokens or 0, input_tokens - cached)
        total = (input_tokens - cached - written) * in_rate + cached * cached_rate + written * write_rate
        if output_tokens:
            if out_rate is None:
                return None
            total += output_tokens * out_rate
        elif output_tokens is None and out_rate:
            return None
        return total / 1_000_000


class CallCost(NamedTuple):
    """What one call cost. ``billable``: it succeeded and reported the usage its price needs, so it
    has a cost — ``usd`` when the price is known, ``None`` when it is not (unknown, never $0)."""

    billable: bool
    usd: float | None

    @property
    def unknown(self) -> bool:
        return self.billable and self.usd is None


NOT_BILLABLE = CallCost(False, None)


def price(prices: PriceTable | None, response_model: str | None, request_model: str | None,
          input_tokens: int | None, output_tokens: int | None, cached_input_tokens: int | None = 0,
          *, cache_write_input_tokens: int | None = 0, failed: bool = False,
          needs_output: bool = True) -> CallCost:
    """The one pricing rule every call goes through (plain, streamed, parent-span LLM runs, estimates).

    A failed call, or one without the token counts its price needs (``needs_output=False`` for
    embeddings and moderations, which bill input only), is not billable. Otherwise the model that
    served the call is priced first, then the one that was asked for (a provider may answer with
    a dated snapshot or an alias the table lacks); when neither has a price the cost is unknown.
    Cache reads and writes are subsets of ``input_tokens``, billed at their own rates.

        >>> price(PriceTable.load(), "text-embedding-3-small", None, 1_000_000, None, needs_output=False)
        CallCost(billable=True, usd=0.02)
    """
    if failed or not _count(input_tokens) or (needs_output and not _count(output_tokens)):
        return NOT_BILLABLE
    if prices is None:
        return CallCost(True, None)
    for model in (response_model, request_model):
        if model:
            usd = prices.cost(model, input_tokens, output_tokens or 0, cached_input_tokens or 0,
                              cache_write_input_tokens or 0)
            if usd is not None:
                return CallCost(True, usd)
    return CallCost(True, None)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# ---- parsing and validation --------------------------------------------------------------------
@dataclass(frozen=True)
class _Parsed:
    prices: dict[str, Price]
    as_of: str | None
    source: str | None
    sources: dict[str, PriceSource]


@functools.lru_cache(maxsize=1)
def _bundled() -> _Parsed:
    text = resources.files("llmwatch").joinpath("data/prices.json").read_text(encoding="utf-8")
    return _parse(text, BUNDLED)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class _Duplicate(Exception):
    pass


def _parse(text: str, path: str) -> _Parsed:
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates)  # NaN/Infinity are caught per field
    except json.JSONDecodeError as e:
        raise PriceFileError(path, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except _Duplicate as e:
        raise PriceFileError(path, f"key {e.args[0]!r} appears twice in one object") from None
    if not isinstance(doc, dict):
        raise PriceFileError(path, f"the top level must be a JSON object, not {_kind(doc)}")
    for key in doc:
        if key not in _TOP_LEVEL:
            raise PriceFileError(path, f"unknown top-level key {key!r} (known: {', '.join(_TOP_LEVEL)})")
    if doc.get("currency", "USD") != "USD":
        raise PriceFileError(path, "only USD prices are supported", field="currency")
    if doc.get("unit", "per_1m_tokens") != "per_1m_tokens":
        raise PriceFileError(path, "prices must be per 1M tokens ('per_1m_tokens')", field="unit")
    as_of = doc.get("as_of")
    if as_of is not None and not _is_date(as_of):
        raise PriceFileError(path, f"must be a date written YYYY-MM-DD, not {as_of!r}", field="as_of")
    sources = _sources(doc.get("sources", {}), path)
    models = doc.get("models")
    if not isinstance(models, dict):
        raise PriceFileError(path, "missing" if models is None else f"must be an object, not {_kind(models)}",
                             field="models")
    prices: dict[str, Price] = {}
    for key, entry in models.items():
        name = normalise_model(key)
        if not name:
            raise PriceFileError(path, "a model key must be a non-empty name", model=key)
        if name in prices:
            raise PriceFileError(path, f"the same model as {prices[name].model!r} (keys ignore case)", model=key)
        prices[name] = _price(entry, name, key, path, sources)
    source = doc.get("source")
    return _Parsed(prices, as_of, source if isinstance(source, str) else None, sources)


def _sources(value: Any, path: str) -> dict[str, PriceSource]:
    if not isinstance(value, dict):
        raise PriceFileError(path, f"must be an object, not {_kind(value)}", field="sources")
    out: dict[str, PriceSource] = {}
    for key, entry in value.items():
        where = f"sources[{key!r}]"
        if not isinstance(entry, dict):
            raise PriceFileError(path, f"must be an object, not {_kind(entry)}", field=where)
        for field in entry:
            if field not in _SOURCE_FIELDS:
                raise PriceFileError(path, f"unknown field (known: {', '.join(_SOURCE_FIELDS)})",
                                     field=f"{where}.{field}")
        as_of = entry.get("as_of")
        if as_of is not None and not _is_date(as_of):
            raise PriceFileError(path, f"must be a date written YYYY-MM-DD, not {as_of!r}", field=f"{where}.as_of")
        for field in ("source", "notes"):
            if field in entry and not isinstance(entry[field], str):
                raise PriceFileError(path, f"must be a string, not {_kind(entry[field])}", field=f"{where}.{field}")
        out[key] = PriceSource(as_of, entry.get("source"), entry.get("notes"))
    return out


def _price(entry: Any, name: str, key: str, path: str, sources: Mapping[str, PriceSource]) -> Price:
    if not isinstance(entry, dict):
        raise PriceFileError(path, f"must be an object, not {_kind(entry)}", model=key)
    for field in entry:
        if field not in FIELDS and field != REF:
            raise PriceFileError(path, "unknown field", model=key, field=field)
    ref = entry.get(REF)
    if REF in entry and (not isinstance(ref, str) or ref not in sources):
        known = ", ".join(map(repr, sources)) or "none"
        raise PriceFileError(path, f"{ref!r} is not a key of the top-level \"sources\" (known: {known})",
                             model=key, field=REF)
    if "input" not in entry:
        raise PriceFileError(path, "missing (required)", model=key, field="input")
    values: dict[str, float | None] = {}
    for field in FIELDS:
        value = entry.get(field)
        if field in entry and (isinstance(value, bool) or not isinstance(value, (int, float))
                               or not math.isfinite(value) or value < 0):
            raise PriceFileError(path, f"{value!r} is not a non-negative number", model=key, field=field)
        values[field] = float(value) if value is not None else None
    return Price(name, values["input"], values["cached_input"], values["output"], path,  # type: ignore[arg-type]
                 values["cache_write_input"], ref)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")
