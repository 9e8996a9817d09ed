"""Alembic environment for the prompt log. Run programmatically by llmwatch.store.db.migrate().

The caller passes an open connection in ``config.attributes["connection"]``; the version table is
``llmwatch_alembic_version`` so the prompt log can share a database with an application that uses
Alembic for its own tables.
"""

from alembic import context

VERSION_TABLE = "llmwatch_alembic_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes one
    raise RuntimeError("llmwatch migrations run through llmwatch.store.db.migrate(), which passes a connection")

context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
