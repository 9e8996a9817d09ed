"""Full-text search in Japanese, Chinese, Korean, German and English, on SQLite and PostgreSQL:
two-character words, mixed-script prompts, phrases, and a log written before the gram index existed."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.test_store_support import make_record, store_url, write  # noqa: F401

from llmwatch import logs
from llmwatch.cli import main as cli
from llmwatch.config import Config
from llmwatch.store import cjk, db
from llmwatch.store.rows import to_row

PROMPTS = {
    "ja_refund": ("商品が破損していたので返金をお願いします。注文番号は12345です。", "返金手続きを開始しました。"),
    "ja_shipping": ("配送状況を教えてください。まだ届いていません。", "配送は明日の予定です。"),
    "ja_katakana": ("スマートフォンの画面が割れました", "修理センターをご案内します。"),
    "zh_refund": ("我的订单还没有到，我要申请退款。", "已为您办理退款。"),
    "zh_trad": ("請問運費怎麼計算？", "運費依重量計算。"),
    "ko_refund": ("주문한 상품이 파손되어 환불을 요청합니다.", "환불 처리가 완료되었습니다."),
    "ko_delivery": ("배송은 언제 도착하나요?", "내일 도착합니다."),
    "de_refund": ("Ich möchte eine Rückerstattung für meine Bestellung.", "Die Rückerstattung wurde veranlasst."),
    "en_refund": ("I want a refund for my broken kettle", "Refund issued."),
    "mixed": ("iPhone15の充電器が壊れた。order #A-77 の返品は可能？", "はい、可能です。"),
}


@pytest.fixture
def cjk_log(store_url, tmp_path):
    recs = {k: make_record(prompt=p, answer=a) for k, (p, a) in PROMPTS.items()}
    write(store_url, recs.values(), tmp_path)
    return store_url, {k: r.record_id for k, r in recs.items()}


def found(url: str, text: str) -> set[str]:
    return {c.record_id for c in logs.query(url, text=text, limit=100)}


@pytest.mark.parametrize("term, expected", [
    ("返金", {"ja_refund"}),  # two characters: one bigram
    ("配送", {"ja_shipping"}),
    ("注文番号", {"ja_refund"}),
    ("返金手続き", {"ja_refund"}),  # found in the answer
    ("スマートフォン", {"ja_katakana"}),
    ("退款", {"zh_refund"}),
    ("订单", {"zh_refund"}),
    ("運費", {"zh_trad"}),
    ("환불", {"ko_refund"}),  # inside 환불을 (with its particle) and 환불 in the answer
    ("도착", {"ko_delivery"}),
    ("Rückerstattung", {"de_refund"}),
    ("refund", {"en_refund"}),
    ("返", {"ja_refund", "mixed"}),  # one character: its unigram (返金, 返品)
    ("充電器", {"mixed"}),
    ("iPhone15の充電器", {"mixed"}),  # a mixed-script term is matched as a substring
    ("返品 order", {"mixed"}),  # a CJK term and a Latin word together
    ('"まだ届いていません"', {"ja_shipping"}),
])
def test_words_in_every_language_are_found(cjk_log, term, expected):
    url, ids = cjk_log
    assert found(url, term) == {ids[k] for k in expected}


@pytest.mark.parametrize("term", ["返金お", "届いた", "環境", "金返", "환불됨", "退款了"])
def test_terms_not_in_any_text_are_not_found(cjk_log, term):
    url, _ = cjk_log
    assert found(url, term) == set()


@pytest.mark.parametrize("term", ["金を開", "手続きをお願い"])
def test_bigrams_that_appear_apart_are_not_a_match(cjk_log, term):
    """Every bigram of the term is in one call's index (金を and を開 of 返金をお願い… / 手続きを開始), so only
    the substring check stands between it and a false hit."""
    url, ids = cjk_log
    with db.open_engine(url).connect() as conn:
        grams = set((conn.execute(sa.text("SELECT search_grams FROM llmwatch_calls WHERE record_id = :r"),
                                  {"r": ids["ja_refund"]}).scalar_one() or "").split())
    assert set(cjk.term_grams(term)) <= grams
    assert found(url, term) == set()


def test_like_wildcards_in_a_term_are_literal(store_url, tmp_path):
    a = make_record(prompt="割引率は50%です")
    b = make_record(prompt="割引率は50です")
    write(store_url, [a, b], tmp_path)
    assert found(store_url, "50%です") == {a.record_id}
    assert found(store_url, "割引率は_0") == set()


def test_cli_text_search_in_japanese(cjk_log, capsys):
    url, ids = cjk_log
    assert cli(["logs", "--url", url, "query", "--text", "返金", "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert ids["ja_refund"] in out and ids["zh_refund"] not in out


def test_content_capture_off_stores_no_grams(store_url, tmp_path):
    rec = make_record(prompt="返金をお願いします")
    assert to_row(rec, capture_content=False)["search_grams"] is None
    write(store_url, [rec], tmp_path, config=Config.resolve({"store_capture_content": False}))
    assert found(store_url, "返金") == set()


def test_deleted_calls_leave_the_gram_index(cjk_log):
    url, ids = cjk_log
    with db.open_engine(url).begin() as conn:
        conn.execute(sa.text("DELETE FROM llmwatch_calls WHERE record_id = :r"), {"r": ids["ja_refund"]})
    assert found(url, "返金") == set() and found(url, "配送") == {ids["ja_shipping"]}


def test_log_from_revision_0003_is_back_filled(store_url, tmp_path, capsys):
    """A log written before the gram column: the upgrade fills it for old rows (progress on stderr)."""
    engine = db.create_engine(store_url)
    db.migrate(engine, "0003")
    old = make_record(prompt="古い注文の返金について")
    row = to_row(old)
    del row["search_grams"]
    table = sa.Table("llmwatch_calls", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [row])
    engine.dispose()
    new = make_record(prompt="新しい注文の返金")
    write(store_url, [new], tmp_path)  # opening the store upgrades it to head
    assert "CJK search index 1/1 calls" in capsys.readouterr().err
    assert found(store_url, "返金") == {old.record_id, new.record_id}
    assert found(store_url, "古い") == {old.record_id}


def test_downgrade_to_0003_keeps_word_search_and_upgrading_again_restores_cjk(store_url, tmp_path):
    from alembic import command

    rec = make_record(prompt="返金をお願いします, refund please")
    write(store_url, [rec], tmp_path)
    db.close_engine(store_url)
    engine = db.create_engine(store_url)
    with engine.connect() as conn:
        command.downgrade(db._alembic_config(conn), "0003")
        conn.commit()
        assert "search_grams" not in sa.inspect(conn).get_columns("llmwatch_calls").__repr__()
    engine.dispose()
    assert found(store_url, "refund") == found(store_url, "返金") == {rec.record_id}  # open_engine upgrades again
    db.close_engine(store_url)


def test_plans_use_the_gram_index(cjk_log):
    url, _ = cjk_log
    engine = db.open_engine(url)
    from llmwatch.store.backends import backend_for

    where = backend_for(engine).text_match("返金")
    from llmwatch.store.models import calls

    stmt = sa.select(calls.c.id).where(where)
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN " + sql))
            # partitioned (0006): each partition's copy of ix_llmwatch_calls_grams is named after its expression
            assert re.search(r"Index Scan on \S*(ix_llmwatch_calls_grams|string_to_array_idx)", plan), plan
        else:
            plan = " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "llmwatch_calls_grams" in plan and "VIRTUAL TABLE" in plan


_CJK_TEXT = st.text(alphabet=st.sampled_from(list("返金注文番号配送退款订单환불배송のをはがスマホー")), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(text=_CJK_TEXT, data=st.data())
def test_every_substring_of_an_indexed_text_has_its_grams_indexed(text, data):
    """The query side never needs a gram the row side did not index (property over random CJK text)."""
    i = data.draw(st.integers(0, len(text) - 1))
    j = data.draw(st.integers(i + 1, len(text)))
    indexed = set((cjk.grams(text) or "").split())
    assert set(cjk.term_grams(text[i:j])) <= indexed
