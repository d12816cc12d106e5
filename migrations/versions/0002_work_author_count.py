"""work.author_count: collaborator suggestions leave out big collaborations cheaply

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE work SET author_count = (SELECT count(*) FROM authorship WHERE authorship.work_id = work.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.drop_column("author_count")
