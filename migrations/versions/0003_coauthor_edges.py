"""coauthor: the stored co-authorship graph collaborator suggestions walk; a covering
authorship (work_id, researcher_id) index in place of the one on work_id alone

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 16:00:00

One row per ordered pair of researchers sharing works with at most 25 authors, with how many;
filled here from authorship (the same statement as services.coauthors.REBUILD_SQL, copied so
this migration never changes), then kept in step by the importer and the refresh job.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Same prefix, so it serves everything the old index did, plus index-only co-author joins.
    op.create_index("ix_authorship_work_researcher", "authorship", ["work_id", "researcher_id"])
    op.drop_index("ix_authorship_work_id", table_name="authorship")
    op.create_table(
        "coauthor",
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("coauthor_id", sa.Integer(), nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["researcher_id"], ["researcher.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["coauthor_id"], ["researcher.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("researcher_id", "coauthor_id"),
        sqlite_with_rowid=False,
    )
    op.execute(
        """
        INSERT INTO coauthor (researcher_id, coauthor_id, works)
        SELECT mine.researcher_id, theirs.researcher_id, count(DISTINCT mine.work_id)
        FROM authorship AS mine
        JOIN work ON work.id = mine.work_id
        JOIN authorship AS theirs ON theirs.work_id = mine.work_id
        WHERE work.author_count <= 25
          AND mine.researcher_id IS NOT NULL
          AND theirs.researcher_id IS NOT NULL
          AND theirs.researcher_id <> mine.researcher_id
        GROUP BY mine.researcher_id, theirs.researcher_id
        """
    )
    # Built after the fill: once over sorted data instead of row by row.
    op.create_index("ix_coauthor_strongest", "coauthor", ["researcher_id", "works", "coauthor_id"])


def downgrade() -> None:
    op.drop_index("ix_coauthor_strongest", table_name="coauthor")
    op.drop_table("coauthor")
    op.create_index("ix_authorship_work_id", "authorship", ["work_id"])
    op.drop_index("ix_authorship_work_researcher", table_name="authorship")
