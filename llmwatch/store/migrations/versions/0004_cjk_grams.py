"""Full-text search for Chinese, Japanese and Korean: a gram column and its index.

Adds ``llmwatch_calls.search_grams`` (the distinct CJK unigrams and bigrams of ``search_text``,
space-separated; see llmwatch.store.cjk), fills it for existing rows in batches of 5,000 by id
(progress on stderr), and indexes it: SQLite an FTS5 external-content table with the ``ascii``
tokenizer (each gram one token), PostgreSQL a GIN index over ``string_to_array(search_grams, ' ')``.
Only rows with CJK text get a value, so logs without any pay one NULL column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import re
import sys
import time

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000
SQLITE = [
    "CREATE VIRTUAL TABLE llmwatch_calls_grams USING fts5("
    "search_grams, content='llmwatch_calls', content_rowid='id', tokenize='ascii')",
    "CREATE TRIGGER llmwatch_calls_grams_ad AFTER DELETE ON llmwatch_calls WHEN old.search_grams IS NOT NULL BEGIN "
    "INSERT INTO llmwatch_calls_grams(llmwatch_calls_grams, rowid, search_grams) "
    "VALUES ('delete', old.id, old.search_grams); END",
    "CREATE TRIGGER llmwatch_calls_grams_au AFTER UPDATE OF search_grams ON llmwatch_calls BEGIN "
    "INSERT INTO llmwatch_calls_grams(llmwatch_calls_grams, rowid, search_grams) "
    "SELECT 'delete', old.id, old.search_grams WHERE old.search_grams IS NOT NULL; "
    "INSERT INTO llmwatch_calls_grams(rowid, search_grams) "
    "SELECT new.id, new.search_grams WHERE new.search_grams IS NOT NULL; END",
]
PG_INDEX = ("CREATE INDEX ix_llmwatch_calls_grams ON llmwatch_calls "
            "USING GIN (string_to_array(search_grams, ' '))")

# Frozen copy of llmwatch.store.cjk.grams (migrations must not follow later code changes).
_CLASS = ("\u3005-\u3007\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
          "\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af\u1100-\u11ff\u3131-\u318e\U00020000-\U0003134f")
_RUN = re.compile(f"[{_CLASS}]+")


def _grams(text: str | None) -> str | None:
    if not text:
        return None
    out: dict[str, None] = {}
    for run in _RUN.findall(text):
        for i, ch in enumerate(run):
            out[ch] = None
            if i + 1 < len(run):
                out[run[i:i + 2]] = None
    return " ".join(out) or None


def _backfill(bind: sa.Connection) -> None:
    total = bind.execute(sa.text("SELECT count(*) FROM llmwatch_calls WHERE search_text IS NOT NULL")).scalar() or 0
    if not total:
        return
    select = sa.text("SELECT id, search_text FROM llmwatch_calls WHERE id > :after AND search_text IS NOT NULL "
                     "ORDER BY id LIMIT :n")
    update = sa.text("UPDATE llmwatch_calls SET search_grams = :g WHERE id = :id")
    after, done, started, shown = -1, 0, time.monotonic(), 0.0
    while True:
        rows = bind.execute(select, {"after": after, "n": BATCH}).fetchall()
        if not rows:
            break
        after = rows[-1][0]
        done += len(rows)
        values = [{"id": r[0], "g": g} for r in rows if (g := _grams(r[1])) is not None]
        if values:
            bind.execute(update, values)
        now = time.monotonic()
        if now - shown >= 1.0 or done >= total:
            shown = now
            rate = done / max(now - started, 1e-9)
            print(f"\rllmwatch: CJK search index {done:,}/{total:,} calls ({100 * done // total}%, "
                  f"{rate:,.0f}/s)", end="" if done < total else "\n", file=sys.stderr, flush=True)


def upgrade() -> None:
    op.add_column("llmwatch_calls", sa.Column("search_grams", sa.Text))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in SQLITE:  # the triggers exist before the back-fill, which they then index
            bind.exec_driver_sql(stmt)
        _backfill(bind)
    else:
        _backfill(bind)
        if bind.dialect.name == "postgresql":
            bind.exec_driver_sql(PG_INDEX)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("llmwatch_calls_grams_ad", "llmwatch_calls_grams_au"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS llmwatch_calls_grams")
        # a native DROP COLUMN (SQLite >= 3.35): a batch copy would drop the table's other triggers
        bind.exec_driver_sql("ALTER TABLE llmwatch_calls DROP COLUMN search_grams")
        return
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_llmwatch_calls_grams")
    op.drop_column("llmwatch_calls", "search_grams")
