"""orcid_state_use: the ORCID sign-in states already used at /orcid/callback, so that each state
grants L3 once (a replayed callback is refused)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orcid_state_use",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index(op.f("ix_orcid_state_use_claim_id"), "orcid_state_use", ["claim_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_orcid_state_use_claim_id"), table_name="orcid_state_use")
    op.drop_table("orcid_state_use")
