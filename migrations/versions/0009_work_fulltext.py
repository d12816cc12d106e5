"""work_fulltext: full-text indexes over work titles and abstracts for `/peer who WORDS`

SQLite: an external-content FTS5 table (porter over unicode61) kept in step by triggers on
work, so every writer of works is covered. PostgreSQL: a GIN expression index over
to_tsvector('english', title || abstract), which needs no triggers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("work_fts_ai", "work_fts_ad", "work_fts_au")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_work_fulltext ON work USING gin "
            "(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(abstract, '')))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE work_fts USING fts5("
        "title, abstract, content='work', content_rowid='id', tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER work_fts_ai AFTER INSERT ON work BEGIN "
        "INSERT INTO work_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract); END"
    )
    op.execute(
        "CREATE TRIGGER work_fts_ad AFTER DELETE ON work BEGIN "
        "INSERT INTO work_fts(work_fts, rowid, title, abstract) "
        "VALUES ('delete', old.id, old.title, old.abstract); END"
    )
    op.execute(
        "CREATE TRIGGER work_fts_au AFTER UPDATE OF title, abstract ON work BEGIN "
        "INSERT INTO work_fts(work_fts, rowid, title, abstract) "
        "VALUES ('delete', old.id, old.title, old.abstract); "
        "INSERT INTO work_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract); END"
    )
    # Works already in the store.
    op.execute("INSERT INTO work_fts(work_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_work_fulltext")
        return
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS work_fts")
