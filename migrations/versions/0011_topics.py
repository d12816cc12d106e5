"""topics: the topic card's cached details, topic_follow, and digest rows filed under a topic

topic gains description, subfield/field/domain names, OpenAlex's works_count and fetched_at (the
cache time). topic_follow holds who (a member: a person or a channel) follows which topic.
delivery.researcher_id becomes nullable and delivery.topic_id names the followed topic a row came
from; (member_id, work_id) stays the ledger's key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 00:00:00

The downgrade deletes topic rows from the ledger (the older code cannot show them) before
researcher_id becomes NOT NULL again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("subfield_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("field_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("domain_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("works_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "topic_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["topic_id"], ["topic.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "topic_id"),
    )
    with op.batch_alter_table("topic_follow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_follow_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_topic_follow_topic_id"), ["topic_id"], unique=False)

    # SQLite cannot change a column's nullability in place: batch mode copies the table.
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("researcher_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("topic_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_delivery_topic_id_topic", "topic", ["topic_id"], ["id"])


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE researcher_id IS NULL")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_topic_id_topic", type_="foreignkey")
        batch_op.drop_column("topic_id")
        batch_op.alter_column("researcher_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("topic_follow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_follow_topic_id"))
        batch_op.drop_index(batch_op.f("ix_topic_follow_member_id"))
    op.drop_table("topic_follow")
    # Plain DROP COLUMN on both databases (SQLite ≥ 3.35): batch mode would copy topic, and on
    # SQLite dropping the old copy fails while work_topic and researcher_topic point at it.
    for name in ("fetched_at", "works_count", "domain_name", "field_name", "subfield_name", "description"):
        op.execute(f"ALTER TABLE topic DROP COLUMN {name}")
