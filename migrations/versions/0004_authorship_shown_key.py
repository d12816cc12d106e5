"""authorship.shown_year / shown_date / shown_type: the publication list's sort and filter key on
each authorship row, and the index that holds the list's order, so a page never visits work

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00

Filled here from work (the derivation of services.paper_keys.shown_key, copied so this migration
never changes): the published version's year when there is one, else the work's year; the
publication date; "article" once a published version is known, else work.type. The importer,
the refresh job and the demo loader keep it in step from then on. On PostgreSQL the fill rewrites
every authorship row (about 14 s per 500,000 on a 2-core box): VACUUM ANALYZE authorship after
upgrading, or index-only scans wait for autovacuum.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("shown_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("shown_type", sa.String(length=32), nullable=True))
    op.execute(
        """
        UPDATE authorship SET (shown_year, shown_date, shown_type) = (
            SELECT coalesce(work.published_year, work.year),
                   work.publication_date,
                   CASE
                       WHEN work.published_openalex_id IS NOT NULL OR work.published_doi IS NOT NULL
                       THEN 'article'
                       ELSE work.type
                   END
            FROM work
            WHERE work.id = authorship.work_id
        )
        """
    )
    # Built after the fill. PostgreSQL must be told that NULLs go last (DESC alone puts them
    # first) to match the list's ORDER BY; SQLite cannot be told, and its DESC puts them last.
    nulls_last = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index(
        "ix_authorship_researcher_shown",
        "authorship",
        [
            "researcher_id",
            sa.text(f"shown_year DESC{nulls_last}"),
            sa.text(f"shown_date DESC{nulls_last}"),
            sa.text("work_id DESC"),
            "shown_type",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_authorship_researcher_shown", table_name="authorship")
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.drop_column("shown_type")
        batch_op.drop_column("shown_date")
        batch_op.drop_column("shown_year")
