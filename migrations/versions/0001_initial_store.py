"""initial store

Revision ID: 0001
Revises:
Create Date: 2026-11-29 09:22:06.707312

Every table of DESIGN §4, Slack's installation-store tables (token columns wide enough for
encrypted values), and the name-search index: pg_trgm GIN on PostgreSQL, an FTS5 trigram
table kept in sync by triggers on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "institution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("ror", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("country_code", sa.String(length=8), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openalex_id"),
    )
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_institution_domain"), ["domain"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("tz_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_frequency", sa.String(length=16), nullable=False),
        sa.Column("digest_time", sa.String(length=5), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mute_all_invitations", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id"),
    )
    op.create_table(
        "slack_event",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("slack_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slack_event_seen_at"), ["seen_at"], unique=False)

    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("openalex_id"),
    )
    op.create_table(
        "work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_norm", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.Column("venue", sa.String(length=512), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("arxiv_id", sa.String(length=32), nullable=True),
        sa.Column("landing_url", sa.String(length=2048), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("published_openalex_id", sa.String(length=32), nullable=True),
        sa.Column("published_doi", sa.String(length=255), nullable=True),
        sa.Column("published_venue", sa.String(length=512), nullable=True),
        sa.Column("published_year", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openalex_id"),
        sa.UniqueConstraint("published_openalex_id"),
    )
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_arxiv_id"), ["arxiv_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_doi"), ["doi"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_first_seen_at"), ["first_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_title_norm"), ["title_norm"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_year"), ["year"], unique=False)

    op.create_table(
        "invitation_mute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("muted_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["muted_member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "muted_member_id"),
    )
    with op.batch_alter_table("invitation_mute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_mute_member_id"), ["member_id"], unique=False)

    op.create_table(
        "researcher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("openalex_id", sa.String(length=32), nullable=True),
        sa.Column("orcid", sa.String(length=19), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("open_to_collaborate", sa.Boolean(), nullable=False),
        sa.Column("openalex_works_count", sa.Integer(), nullable=True),
        sa.Column("cited_by_count", sa.Integer(), nullable=True),
        sa.Column("h_index", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openalex_id"),
        sa.UniqueConstraint("orcid"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("researcher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_researcher_institution_id"), ["institution_id"], unique=False)

    op.create_table(
        "work_topic",
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topic.id"],
        ),
        sa.ForeignKeyConstraint(["work_id"], ["work.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("work_id", "topic_id"),
    )
    with op.batch_alter_table("work_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_topic_topic_id"), ["topic_id"], unique=False)

    op.create_table(
        "authorship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("raw_name", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
        ),
        sa.ForeignKeyConstraint(["work_id"], ["work.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_id", "position"),
    )
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.create_index("ix_authorship_researcher_work", ["researcher_id", "work_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_authorship_work_id"), ["work_id"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("orcid_authenticated", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_researcher_id"), ["researcher_id"], unique=False)
        batch_op.create_index(
            "uq_claim_live_member",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'approved')"),
            postgresql_where=sa.text("status IN ('pending', 'approved')"),
        )
        batch_op.create_index(
            "uq_claim_live_researcher",
            ["researcher_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'approved')"),
            postgresql_where=sa.text("status IN ('pending', 'approved')"),
        )

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.String(length=32), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "work_id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_status_member", ["status", "member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_work_id"), ["work_id"], unique=False)

    op.create_table(
        "follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "researcher_id"),
    )
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_researcher_id"), ["researcher_id"], unique=False)

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inviter_member_id", sa.Integer(), nullable=False),
        sa.Column("invitee_member_id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("about", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invitee_member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["inviter_member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["researcher_id"],
            ["researcher.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_invitee_member_id"), ["invitee_member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invitation_inviter_member_id"), ["inviter_member_id"], unique=False
        )

    op.create_table(
        "researcher_alias",
        sa.Column("openalex_id", sa.String(length=32), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["researcher_id"], ["researcher.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("openalex_id"),
    )
    with op.batch_alter_table("researcher_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_researcher_alias_researcher_id"), ["researcher_id"], unique=False
        )

    op.create_table(
        "researcher_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("name_norm", sa.String(length=512), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["researcher_id"], ["researcher.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("researcher_id", "name_norm"),
    )
    with op.batch_alter_table("researcher_name", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_researcher_name_researcher_id"), ["researcher_id"], unique=False)

    op.create_table(
        "researcher_topic",
        sa.Column("researcher_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["researcher_id"], ["researcher.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topic.id"],
        ),
        sa.PrimaryKeyConstraint("researcher_id", "topic_id"),
    )
    with op.batch_alter_table("researcher_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_researcher_topic_topic_id"), ["topic_id"], unique=False)

    _create_slack_tables()
    _create_name_search_index()


def _create_slack_tables() -> None:
    # The columns slack_sdk's SQLAlchemyInstallationStore reads and writes; tokens are Text
    # because they are stored encrypted.
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("enterprise_url", sa.String(200)),
        sa.Column("team_id", sa.String(32)),
        sa.Column("team_name", sa.String(200)),
        sa.Column("bot_token", sa.Text()),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String(1000)),
        sa.Column("bot_refresh_token", sa.Text()),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_token", sa.Text()),
        sa.Column("user_scopes", sa.String(1000)),
        sa.Column("user_refresh_token", sa.Text()),
        sa.Column("user_token_expires_at", sa.DateTime()),
        sa.Column("incoming_webhook_url", sa.Text()),
        sa.Column("incoming_webhook_channel", sa.String(200)),
        sa.Column("incoming_webhook_channel_id", sa.String(200)),
        sa.Column("incoming_webhook_configuration_url", sa.String(200)),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_type", sa.String(32)),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("team_id", sa.String(32)),
        sa.Column("team_name", sa.String(200)),
        sa.Column("bot_token", sa.Text()),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String(1000)),
        sa.Column("bot_refresh_token", sa.Text()),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
    )


def _create_name_search_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_researcher_name_trgm ON researcher_name USING gin (name_norm gin_trgm_ops)"
        )
        return
    # SQLite: an external-content FTS5 trigram table over the folded names. Names are
    # folded in Python first (this SQLite lacks the remove_diacritics trigram option).
    op.execute(
        "CREATE VIRTUAL TABLE researcher_name_fts USING fts5("
        "name_norm, content='researcher_name', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER researcher_name_ai AFTER INSERT ON researcher_name BEGIN "
        "INSERT INTO researcher_name_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END"
    )
    op.execute(
        "CREATE TRIGGER researcher_name_ad AFTER DELETE ON researcher_name BEGIN "
        "INSERT INTO researcher_name_fts(researcher_name_fts, rowid, name_norm) "
        "VALUES ('delete', old.id, old.name_norm); END"
    )
    op.execute(
        "CREATE TRIGGER researcher_name_au AFTER UPDATE ON researcher_name BEGIN "
        "INSERT INTO researcher_name_fts(researcher_name_fts, rowid, name_norm) "
        "VALUES ('delete', old.id, old.name_norm); "
        "INSERT INTO researcher_name_fts(rowid, name_norm) VALUES (new.id, new.name_norm); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_researcher_name_trgm")
    else:
        for trigger in ("researcher_name_ai", "researcher_name_ad", "researcher_name_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS researcher_name_fts")
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
    with op.batch_alter_table("researcher_topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_topic_topic_id"))

    op.drop_table("researcher_topic")
    with op.batch_alter_table("researcher_name", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_name_researcher_id"))

    op.drop_table("researcher_name")
    with op.batch_alter_table("researcher_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_alias_researcher_id"))

    op.drop_table("researcher_alias")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_inviter_member_id"))
        batch_op.drop_index(batch_op.f("ix_invitation_invitee_member_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_researcher_id"))
        batch_op.drop_index(batch_op.f("ix_follow_member_id"))

    op.drop_table("follow")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_work_id"))
        batch_op.drop_index("ix_delivery_status_member")

    op.drop_table("delivery")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_claim_live_researcher",
            sqlite_where=sa.text("status IN ('pending', 'approved')"),
            postgresql_where=sa.text("status IN ('pending', 'approved')"),
        )
        batch_op.drop_index(
            "uq_claim_live_member",
            sqlite_where=sa.text("status IN ('pending', 'approved')"),
            postgresql_where=sa.text("status IN ('pending', 'approved')"),
        )
        batch_op.drop_index(batch_op.f("ix_claim_researcher_id"))
        batch_op.drop_index(batch_op.f("ix_claim_member_id"))

    op.drop_table("claim")
    with op.batch_alter_table("authorship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorship_work_id"))
        batch_op.drop_index("ix_authorship_researcher_work")

    op.drop_table("authorship")
    with op.batch_alter_table("work_topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_topic_topic_id"))

    op.drop_table("work_topic")
    with op.batch_alter_table("researcher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_researcher_institution_id"))

    op.drop_table("researcher")
    with op.batch_alter_table("invitation_mute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_mute_member_id"))

    op.drop_table("invitation_mute")
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_year"))
        batch_op.drop_index(batch_op.f("ix_work_title_norm"))
        batch_op.drop_index(batch_op.f("ix_work_first_seen_at"))
        batch_op.drop_index(batch_op.f("ix_work_doi"))
        batch_op.drop_index(batch_op.f("ix_work_arxiv_id"))

    op.drop_table("work")
    op.drop_table("topic")
    with op.batch_alter_table("slack_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_event_seen_at"))

    op.drop_table("slack_event")
    op.drop_table("member")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_domain"))

    op.drop_table("institution")
