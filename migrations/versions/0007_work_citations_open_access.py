"""work.cited_by_count and work.oa_url: citations per work (`/peer papers … sort:cited`) and the
open-access link on the papers list; filled by the next import or refresh

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cited_by_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("oa_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    # Not batch mode: on SQLite that rebuilds work, and dropping the old table would cascade to
    # every authorship row. ALTER TABLE … DROP COLUMN (SQLite 3.35+) keeps them.
    op.drop_column("work", "oa_url")
    op.drop_column("work", "cited_by_count")
