"""work_fulltext_sample: on PostgreSQL, a second GIN index over every 32nd work (id % 32 = 0)

`/peer who` ranks the first MAX_WORKS matches of a query, but a GIN index always builds the
bitmap of every match first: 30-70 ms for a phrase like "large language models" (67,000 of a
million works). Over a fixed 1/32 of the works the bitmap is 32 times smaller, and 500 matches
are found there whenever the query matches more than about 16,000 works; rarer queries fall
back to the whole index, whose bitmap is then small. The statistics on id % 32 let the planner
know the sample is 1/32 of the table (it would guess 1/200). SQLite's FTS5 stops at the limit
on its own: nothing changes there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_work_fulltext_sample ON work USING gin (fulltext) WHERE id % 32 = 0")
    op.execute("CREATE STATISTICS st_work_id_sample ON (id % 32) FROM work")
    op.execute("ANALYZE work")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP STATISTICS IF EXISTS st_work_id_sample")
    op.execute("DROP INDEX IF EXISTS ix_work_fulltext_sample")
