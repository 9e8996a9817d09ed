"""The price table: dated bundled prices, careful model resolution, cost arithmetic with cached
tokens, user overrides, and an error for every malformed price file. Unknown is None, never $0."""

from __future__ import annotations

import json
import re
import socket

import pytest

from llmwatch.usage.pricing import BUNDLED, Price, PriceFileError, PriceTable

REQUIRED = [
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o1-mini", "o3", "o3-mini",
    "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-3.5-turbo", "gpt-4-turbo", "gpt-4",
    "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
    "omni-moderation-latest", "text-moderation-latest", "gpt-3.5-turbo-instruct", "davinci-002", "babbage-002",
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here runs with sockets refusing to connect: the table never fetches anything."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def table():
    return PriceTable.load()


def write(tmp_path, doc, name="prices.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


# ---- the bundled table ---------------------------------------------------------------------------
def test_bundled_table_is_dated_sourced_and_covers_the_required_models(table):
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.as_of)
    assert "openai.com" in table.source
    assert table.user_file is None
    missing = [m for m in REQUIRED if table.price_for(m) is None or table.price_for(m).model != m]
    assert missing == []


def test_moderation_is_a_known_zero_not_unknown(table):
    assert table.cost("omni-moderation-latest", 500, 0) == 0.0
    assert table.cost("text-moderation-latest", None, None) == 0.0  # free: no count is needed
    assert table.cost("omni-moderation-2024-09-26", 500, 1) == 0.0


def test_embeddings_have_input_price_only(table):
    price = table.price_for("text-embedding-3-large")
    assert price == Price("text-embedding-3-large", 0.13, None, None, BUNDLED)
    assert table.cost("text-embedding-3-small", 1_000_000, None) == pytest.approx(0.02)
    assert table.cost("text-embedding-3-small", 1_000_000, 0) == pytest.approx(0.02)
    assert table.cost("text-embedding-3-small", 1000, 10) is None  # output tokens it has no price for


# ---- model resolution ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, key", [
    ("gpt-4o", "gpt-4o"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4o-2024-11-20", "gpt-4o"),
    ("gpt-4o-mini", "gpt-4o-mini"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("gpt-4.1-nano", "gpt-4.1-nano"),
    ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
    ("gpt-4.1-2025-04-14", "gpt-4.1"),
    ("o1-mini", "o1-mini"),
    ("o1-mini-2024-09-12", "o1-mini"),
    ("o1-2024-12-17", "o1"),
    ("o3-2025-04-16", "o3"),
    ("o3-mini-2025-01-31", "o3-mini"),
    ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
    ("gpt-4-0613", "gpt-4"),
    ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
    ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
    ("gpt-3.5-turbo-instruct-0914", "gpt-3.5-turbo-instruct"),
    ("GPT-4o-Mini", "gpt-4o-mini"),
    ("openai/gpt-4o", "gpt-4o"),
    ("azure/gpt-4.1-mini", "gpt-4.1-mini"),
    ("openrouter/openai/o4-mini", "o4-mini"),
    ("  gpt-5  ", "gpt-5"),
])
def test_names_resolve_to_the_right_entry(table, name, key):
    assert table.price_for(name).model == key


@pytest.mark.parametrize("name, key, input_price", [
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13", 5.0),  # the first gpt-4o snapshot cost twice as much
    ("gpt-4-32k", "gpt-4-32k", 60.0),
    ("gpt-4-32k-0613", "gpt-4-32k", 60.0),
    ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106", 1.0),
    ("gpt-3.5-turbo-16k", "gpt-3.5-turbo-16k", 3.0),
    ("gpt-4-1106-preview", "gpt-4-1106-preview", 10.0),
])
def test_snapshots_priced_unlike_their_alias_have_their_own_price(table, name, key, input_price):
    price = table.price_for(name)
    assert (price.model, price.input) == (key, input_price)


@pytest.mark.parametrize("name", [
    "gpt-4o-mini-x",             # not gpt-4o (nor gpt-4o-mini: an unknown variant is unknown)
    "gpt-4o-realtime-preview",   # different prices from gpt-4o
    "gpt-4o-mini-tts",
    "o1-pro",                    # 10x o1
    "o3-pro",
    "gpt-5-pro",
    "gpt-4.1-nano-x",
    "ft:gpt-4o-mini-2024-07-18:acme::abc123",  # fine-tuned models are billed differently
    "gpt-4o-mini-2024-07-18-extra",
    "llama-3.1-8b",
    "",
    None,
])
def test_near_misses_are_unknown_rather_than_a_wrong_price(table, name):
    assert table.price_for(name) is None
    assert table.cost(name, 1000, 1000) is None


def test_tricky_prefixes_do_not_collide(table):
    assert table.price_for("gpt-4o-mini").input == 0.15 and table.price_for("gpt-4o").input == 2.5
    assert table.price_for("gpt-4.1-nano").input == 0.1 and table.price_for("gpt-4.1").input == 2.0
    assert table.price_for("o1-mini").input == 1.1 and table.price_for("o1").input == 15.0
    assert table.price_for("o3-mini").input == 1.1 and table.price_for("o3").input == 2.0


def test_repeated_lookups_are_served_from_the_resolution_cache(table):
    table.cost("gpt-4o-2024-08-06", 1, 1)
    before = table._rates.cache_info().hits
    for _ in range(10):
        table.cost("gpt-4o-2024-08-06", 1, 1)
    assert table._rates.cache_info().hits == before + 10


# ---- cost arithmetic -----------------------------------------------------------------------------
def test_cost_is_input_plus_output_per_million(table):
    # gpt-4o: $2.50 in, $10 out per 1M
    assert table.cost("gpt-4o", 1000, 500) == pytest.approx((1000 * 2.5 + 500 * 10.0) / 1e6)
    assert table.cost("gpt-4o", 0, 0) == 0.0


def test_cached_tokens_are_a_subset_of_input_billed_at_the_cached_rate(table):
    # 1000 prompt tokens of which 400 cached: 600 x $2.50 + 400 x $1.25 + 500 x $10
    assert table.cost("gpt-4o", 1000, 500, cached_input_tokens=400) == pytest.approx(0.007)
    assert table.cost("gpt-5", 10_000, 0, cached_input_tokens=10_000) == pytest.approx(10_000 * 0.125 / 1e6)


def test_cached_tokens_fall_back_to_input_rate_without_a_cached_price(table):
    assert table.cost("gpt-4-turbo", 1000, 100, cached_input_tokens=600) == table.cost("gpt-4-turbo", 1000, 100)


def test_cached_count_beyond_input_is_clamped(table):
    assert table.cost("gpt-4o", 100, 0, cached_input_tokens=500) == table.cost("gpt-4o", 100, 0, 100)


def test_missing_counts_make_cost_unknown_except_cached(table):
    assert table.cost("gpt-4o", None, 10) is None
    assert table.cost("gpt-4o", 10, None) is None
    assert table.cost("text-embedding-3-small", None, None) is None
    assert table.cost("gpt-4o", 1000, 0, cached_input_tokens=None) == table.cost("gpt-4o", 1000, 0)


def test_price_for_returns_rates_and_origin(table):
    assert table.price_for("gpt-4o") == Price("gpt-4o", 2.5, 1.25, 10.0, BUNDLED)


# ---- user overrides ------------------------------------------------------------------------------
def test_user_file_overrides_and_adds_whole_entries(tmp_path):
    path = write(tmp_path, {
        "as_of": "2026-01-31", "source": "our contract",
        "models": {"GPT-4o": {"input": 2.0, "output": 8.0}, "acme-llama-70b": {"input": 0.5, "output": 0.7}}})
    table = PriceTable.load(path)
    assert table.price_for("gpt-4o-2024-08-06") == Price("gpt-4o", 2.0, None, 8.0, path)
    assert table.cost("gpt-4o", 1000, 0, cached_input_tokens=1000) == pytest.approx(0.002)  # no cached rate now
    assert table.cost("openai/acme-llama-70b", 1_000_000, 1_000_000) == pytest.approx(1.2)
    assert table.price_for("gpt-4o-mini").source == BUNDLED
    assert (table.as_of, table.user_file) == (PriceTable.load().as_of, path)


def test_user_file_can_make_a_model_free_and_that_is_not_unknown(tmp_path):
    table = PriceTable.load(write(tmp_path, {"models": {"local-model": {"input": 0, "output": 0}}}))
    assert table.cost("local-model", 10, 10) == 0.0


def test_a_rejected_user_file_applies_nothing(tmp_path):
    path = write(tmp_path, {"models": {"gpt-4o": {"input": 0.01, "output": 0.01}, "bad": {"input": -1}}})
    with pytest.raises(PriceFileError):
        PriceTable.load(path)
    assert PriceTable.load().price_for("gpt-4o").input == 2.5


# ---- bad files: each names file, model, field and the accepted form -----------------------------
BAD_FILES = [
    # (file content, model key or None, field or None, words in the problem)
    ("{not json", None, None, "not valid JSON"),
    ("[]", None, None, "top level must be a JSON object"),
    ({"modles": {}}, None, None, "unknown top-level key 'modles'"),
    ({"version": 1}, None, "models", "missing"),
    ({"models": []}, None, "models", "must be an object"),
    ({"currency": "EUR", "models": {}}, None, "currency", "only USD"),
    ({"unit": "per_1k_tokens", "models": {}}, None, "unit", "per 1M tokens"),
    ({"as_of": "31/01/2026", "models": {}}, None, "as_of", "YYYY-MM-DD"),
    ({"models": {"gpt-4o": 2.5}}, "gpt-4o", None, "must be an object"),
    ({"models": {"gpt-4o": {"input": 2.5, "ouput": 10}}}, "gpt-4o", "ouput", "unknown field"),
    ({"models": {"gpt-4o": {"output": 10}}}, "gpt-4o", "input", "missing"),
    ({"models": {"gpt-4o": {"input": -2.5}}}, "gpt-4o", "input", "-2.5 is not a non-negative number"),
    ({"models": {"gpt-4o": {"input": "2.5"}}}, "gpt-4o", "input", "'2.5' is not a non-negative number"),
    ({"models": {"gpt-4o": {"input": True}}}, "gpt-4o", "input", "True is not"),
    ({"models": {"gpt-4o": {"input": None}}}, "gpt-4o", "input", "None is not"),
    ('{"models": {"gpt-4o": {"input": 1, "output": NaN}}}', "gpt-4o", "output", "nan is not"),
    ('{"models": {"gpt-4o": {"input": Infinity}}}', "gpt-4o", "input", "inf is not"),
    ({"models": {"gpt-4o": {"input": 1, "cached_input": [0.5]}}}, "gpt-4o", "cached_input", "[0.5] is not"),
    ({"models": {"": {"input": 1}}}, "", None, "non-empty name"),
    ({"models": {"gpt-4o": {"input": 1}, "GPT-4o": {"input": 2}}}, "GPT-4o", None, "keys ignore case"),
    ('{"models": {"gpt-4o": {"input": 1}, "gpt-4o": {"input": 2}}}', None, None, "'gpt-4o' appears twice"),
]


@pytest.mark.parametrize("content, model, field, problem", BAD_FILES,
                         ids=[case[3] for case in BAD_FILES])
def test_bad_price_file_is_rejected_with_a_message_that_says_what_and_where(tmp_path, content, model, field,
                                                                            problem):
    path = write(tmp_path, content)
    with pytest.raises(PriceFileError) as info:
        PriceTable.load(path)
    err = info.value
    message = str(err)
    assert isinstance(err, ValueError)
    assert message.startswith(path + ": ")
    assert problem in message
    assert (err.path, err.model, err.field) == (path, model, field)
    if model is not None:
        assert f"models[{model!r}]" in message
    if field is not None:
        assert field in message
    assert "non-negative numbers" in message and "'input' is required" in message


def test_missing_user_file_is_reported_with_its_path(tmp_path):
    path = str(tmp_path / "nope.json")
    with pytest.raises(PriceFileError, match=re.escape(path) + ": cannot read the file"):
        PriceTable.load(path)


def test_bundled_file_passes_the_same_validation(table):
    assert len(table.models()) >= len(REQUIRED)
    assert all(table.price_for(m).source == BUNDLED for m in table.models())


# ---- Anthropic, Gemini, Bedrock: dated, sourced rows and cache writes ---------------------------
PROVIDER_ROWS = [
    # (name as the provider reports it, row it resolves to, source ref)
    ("claude-opus-4-5-20251101", "claude-opus-4-5", "anthropic"),
    ("claude-opus-4-1-20250805", "claude-opus-4-1", "anthropic"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "anthropic"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4", "anthropic"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5", "anthropic"),
    ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet", "anthropic"),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku", "anthropic"),
    ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5", "anthropic"),
    ("gemini-2.5-pro", "gemini-2.5-pro", "google"),
    ("gemini-2.5-flash", "gemini-2.5-flash", "google"),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite", "google"),
    ("gemini-2.0-flash-001", "gemini-2.0-flash-001", "google"),
    ("gemini-embedding-001", "gemini-embedding-001", "google"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "aws-bedrock"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", "aws-bedrock"),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "aws-bedrock"),
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
     "us.amazon.nova-pro-v1:0", "aws-bedrock"),
    ("amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v2:0", "aws-bedrock"),
]


@pytest.mark.parametrize("name, key, ref", PROVIDER_ROWS)
def test_new_provider_models_resolve_to_a_dated_sourced_row(table, name, key, ref):
    price = table.price_for(name)
    assert (price.model, price.ref) == (key, ref)
    source = table.source_for(name)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.as_of) and source.source.startswith("https://")


def test_rows_without_a_ref_keep_the_top_level_openai_source(table):
    assert table.source_for("gpt-4o").source == table.source and table.source_for("gpt-4o").as_of == table.as_of
    assert table.source_for("no-such-model") is None
    assert set(table.sources) == {"anthropic", "google", "aws-bedrock"}


def test_anthropic_cache_writes_cost_more_and_cache_reads_less_than_input(table):
    # claude-sonnet-4-5: $3 in, $3.75 5-minute cache write, $0.30 cache read, $15 out per 1M.
    # 10,000 input tokens of which 6,000 read from the cache and 3,000 written to it.
    usd = table.cost("claude-sonnet-4-5-20250929", 10_000, 500, cached_input_tokens=6_000,
                     cache_write_input_tokens=3_000)
    assert usd == pytest.approx((1_000 * 3.0 + 6_000 * 0.3 + 3_000 * 3.75 + 500 * 15.0) / 1e6)
    price = table.price_for("claude-haiku-4-5")
    assert (price.cache_write_input, price.cached_input) == (pytest.approx(1.25 * price.input),
                                                              pytest.approx(0.1 * price.input))


def test_cache_writes_fall_back_to_the_input_rate_without_a_write_price(table):
    assert table.price_for("gpt-4o").cache_write_input is None
    assert table.cost("gpt-4o", 1000, 0, cache_write_input_tokens=400) == table.cost("gpt-4o", 1000, 0)


def test_cache_counts_beyond_input_are_capped_reads_first(table):
    capped = table.cost("claude-sonnet-4-5", 1000, 0, cached_input_tokens=800, cache_write_input_tokens=800)
    assert capped == pytest.approx((800 * 0.3 + 200 * 3.75) / 1e6)
    assert table.cost("claude-sonnet-4-5", 1000, 0, cache_write_input_tokens=None) == table.cost(
        "claude-sonnet-4-5", 1000, 0)


def test_the_one_pricing_rule_passes_cache_writes_through():
    from llmwatch.usage.pricing import price

    table = PriceTable.load()
    cost = price(table, "claude-haiku-4-5-20251001", None, 2_000, 100, 0, cache_write_input_tokens=2_000)
    assert cost.billable and cost.usd == pytest.approx((2_000 * 1.25 + 100 * 5.0) / 1e6)


def test_bedrock_geographic_profiles_are_priced_per_row_never_guessed(table):
    base = table.price_for("anthropic.claude-sonnet-4-5-20250929-v1:0")
    us = table.price_for("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert us.input == pytest.approx(base.input * 1.1) and us.output == pytest.approx(base.output * 1.1)
    assert table.price_for("us.anthropic.claude-3-7-sonnet-20250219-v1:0").input == 3.0  # no premium
    # Opus 4.5's regional price was not confirmed: unknown, not the global price and not $0.
    assert table.price_for("eu.anthropic.claude-opus-4-5-20251101-v1:0") is None
    assert table.cost("eu.amazon.nova-pro-v1:0", 1000, 100) is None


@pytest.mark.parametrize("name", [
    "claude-3-5-sonnet-20241022",   # retired: left out
    "claude-sonnet-4-5-x",
    "claude-opus-4-5-20251101-extra",
    "gemini-2.5-pro-preview-tts",   # priced differently from gemini-2.5-pro
    "gemini-2.5-flash-image",
    "amazon.titan-embed-text",      # v1 and v2 cost differently: never a guess between them
    "anthropic.claude-sonnet-4-5-20250929",  # not a Bedrock id (no version suffix)
    "llama3.1:8b",                  # Ollama: local, unpriced unless the user's file says $0
])
def test_new_provider_near_misses_are_unknown(table, name):
    assert table.price_for(name) is None
    assert table.cost(name, 1000, 1000) is None


def test_ollama_models_are_priced_only_by_the_users_file(tmp_path):
    path = write(tmp_path, {"models": {"llama3.1:8b": {"input": 0, "output": 0}}})
    assert PriceTable.load(path).cost("llama3.1:8b", 5000, 500) == 0.0


def test_user_file_rows_can_name_their_own_source(tmp_path):
    path = write(tmp_path, {
        "sources": {"contract": {"as_of": "2026-02-01", "source": "Acme / AWS private pricing"}},
        "models": {"us.anthropic.claude-opus-4-5-20251101-v1:0": {
            "input": 4.5, "cache_write_input": 5.6, "cached_input": 0.45, "output": 22.5, "ref": "contract"}}})
    table = PriceTable.load(path)
    assert table.source_for("us.anthropic.claude-opus-4-5-20251101-v1:0").source == "Acme / AWS private pricing"
    assert table.source_for("claude-opus-4-5").as_of == "2025-11-24"  # bundled refs are untouched


BAD_CACHE_FILES = [
    ({"models": {"m": {"input": 1, "cache_write_input": -1.25}}}, "m", "cache_write_input",
     "-1.25 is not a non-negative number"),
    ({"models": {"m": {"input": 1, "cache_write_input": "1.25"}}}, "m", "cache_write_input", "'1.25' is not"),
    ({"models": {"m": {"input": 1, "ref": "nowhere"}}}, "m", "ref", "'nowhere' is not a key"),
    ({"sources": {"s": {"input": 1}}, "models": {}}, None, "sources['s'].input", "unknown field"),
    ({"sources": {"s": {"as_of": "Nov 2025"}}, "models": {}}, None, "sources['s'].as_of", "YYYY-MM-DD"),
    ({"sources": [], "models": {}}, None, "sources", "must be an object"),
]


@pytest.mark.parametrize("content, model, field, problem", BAD_CACHE_FILES, ids=[c[3] for c in BAD_CACHE_FILES])
def test_bad_cache_write_or_source_fields_name_file_model_and_field(tmp_path, content, model, field, problem):
    path = write(tmp_path, content)
    with pytest.raises(PriceFileError) as info:
        PriceTable.load(path)
    err = info.value
    assert (err.path, err.model, err.field) == (path, model, field)
    assert str(err).startswith(path + ": ") and problem in str(err) and field in str(err)


def test_an_ollama_default_tag_uses_the_untagged_price_and_other_tags_stay_distinct(tmp_path):
    path = write(tmp_path, {"as_of": "2026-12-01", "source": "local models cost nothing per token",
                            "models": {"llama3.2": {"input": 0, "output": 0}}})
    table = PriceTable.load(path)
    assert table.cost("llama3.2:latest", 100, 20) == 0.0
    assert table.cost("llama3.2:1b", 100, 20) is None  # another model: unknown, not the 3B price
