"""member.kind: a channel can subscribe to researchers like a person ("user" | "channel")

A channel feed is a member row whose user_id holds the channel id (C…/G…): it reuses follows,
the digest ledger and the schedule fields, so its posts get the ledger's guarantees unchanged.
Every row already in the store is a person.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite ≥ 3.35 drops a column in place): batch mode would
# rebuild member on SQLite, and dropping the old table deletes every row that cascades from it
# (follows, the ledger, claims).


def upgrade() -> None:
    op.add_column("member", sa.Column("kind", sa.String(length=16), nullable=False, server_default="user"))


def downgrade() -> None:
    op.drop_column("member", "kind")
