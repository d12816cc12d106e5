"""delivery.send_key / attempted_at and invitation.attempted_at: the key each message carries as
Slack metadata and when it was tried, so a post Slack made but never answered is looked up in the
conversation before anything is sent again (digest rows wait in the new status "unconfirmed")

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00

Nothing to fill: rows sent before this revision carry no key and are never looked up. The
downgrade returns unconfirmed digest rows to "pending": the older code cannot look them up, only
send them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE delivery SET status = 'pending', claimed_until = NULL WHERE status = 'unconfirmed'")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("send_key")
