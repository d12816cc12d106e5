"""All tables of the store, one SQLModel class each; the Alembic revisions in migrations/versions/
create them. Timestamps are timezone-aware UTC on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time in UTC (aware), the form every timestamp column takes."""
    return datetime.now(UTC)


class Institution(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    ror: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=512)
    country_code: str | None = Field(default=None, max_length=8)
    # Used by claims: a member whose Slack e-mail is at this domain may be auto-approved.
    domain: str | None = Field(default=None, max_length=255, index=True)


class Researcher(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=128)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    orcid: str | None = Field(default=None, unique=True, max_length=19)
    # "openalex" for imported records, "bzpeer" for BZPEER's own public records (the demo).
    source: str = Field(default="openalex", max_length=16)
    name: str = Field(max_length=512)
    headline: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    open_to_collaborate: bool = Field(default=True)
    openalex_works_count: int | None = None
    cited_by_count: int | None = None
    h_index: int | None = None
    # Set when the author itself was imported (not only seen as a co-author).
    imported_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ResearcherName(SQLModel, table=True):
    """Every searchable name of a researcher; name_norm is accent- and case-folded."""

    __tablename__ = "researcher_name"
    __table_args__ = (UniqueConstraint("researcher_id", "name_norm"),)

    id: int | None = Field(default=None, primary_key=True)
    researcher_id: int = Field(foreign_key="researcher.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=512)
    name_norm: str = Field(max_length=512)
    is_primary: bool = Field(default=False)


class NameWord(SQLModel, table=True):
    """A distinct word of researcher_name.name_norm. Kept in step by triggers on
    researcher_name (migration 0012): no writer touches it."""

    __tablename__ = "name_word"

    word: str = Field(primary_key=True, max_length=512)


class NameWordVariant(SQLModel, table=True):
    """Symmetric-delete index over name words: a word's first 10 letters, and every string one or
    two deletions away from them, lead to the word. Kept in step by triggers on name_word."""

    __tablename__ = "name_word_variant"

    variant: str = Field(primary_key=True, max_length=16)
    word: str = Field(primary_key=True, max_length=512, index=True)


class ResearcherAlias(SQLModel, table=True):
    """OpenAlex ids that were merged into a researcher we already hold."""

    __tablename__ = "researcher_alias"

    openalex_id: str = Field(primary_key=True, max_length=32)
    researcher_id: int = Field(foreign_key="researcher.id", index=True, ondelete="CASCADE")


class Work(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    title: str = Field(sa_column=Column(Text, nullable=False))
    title_norm: str = Field(max_length=512, index=True)
    type: str = Field(default="article", max_length=32)
    year: int | None = Field(default=None, index=True)
    publication_date: date | None = None
    venue: str | None = Field(default=None, max_length=512)
    doi: str | None = Field(default=None, max_length=255, index=True)
    arxiv_id: str | None = Field(default=None, max_length=32, index=True)
    landing_url: str | None = Field(default=None, max_length=2048)
    abstract: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Authors on the version of record; big collaborations say little about who works with whom.
    # The server default is migration 0002's, which added the column to a filled table.
    author_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The published version of a preprint, once seen (one item, both identifiers).
    published_openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    published_doi: str | None = Field(default=None, max_length=255)
    published_venue: str | None = Field(default=None, max_length=512)
    published_year: int | None = None
    published_at: datetime | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, index=True)
    # OpenAlex's cited_by_count (the better-cited version of a preprint/published pair) and a
    # free full text (open_access.oa_url, else best_oa_location.pdf_url); migration 0007.
    cited_by_count: int | None = None
    oa_url: str | None = Field(default=None, max_length=2048)


def _papers_index(dialect: str, nulls_last: str) -> Index:
    """A researcher's publication list in its order (services/research/papers.py), one index per
    dialect: PostgreSQL must be told that NULLs go last (DESC alone puts them first), SQLite refuses
    to be told (its DESC already puts them last). shown_type rides along so a type filter reads the
    index alone too."""
    return Index(
        "ix_authorship_researcher_shown",
        "researcher_id",
        text(f"shown_year DESC{nulls_last}"),
        text(f"shown_date DESC{nulls_last}"),
        text("work_id DESC"),
        "shown_type",
    ).ddl_if(dialect=dialect)


class Authorship(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("work_id", "position"),
        Index("ix_authorship_researcher_work", "researcher_id", "work_id"),
        # Who else is on a work, from the index alone (co-author counts join through it).
        Index("ix_authorship_work_researcher", "work_id", "researcher_id"),
        _papers_index("postgresql", " NULLS LAST"),
        _papers_index("sqlite", ""),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_id: int = Field(foreign_key="work.id", ondelete="CASCADE")
    # Null when OpenAlex gave only a raw author name.
    researcher_id: int | None = Field(default=None, foreign_key="researcher.id")
    position: int
    raw_name: str = Field(max_length=512)
    # The work as the publication list shows it, copied onto each of its authorship rows so a
    # page is one index range scan without visiting work (services/research/paper_keys.py keeps
    # them in step): the published version's year if any, else the work's; the publication
    # date; and "article" once a published version is known, else work.type.
    shown_year: int | None = None
    shown_date: date | None = None
    shown_type: str | None = Field(default=None, max_length=32)


class Coauthor(SQLModel, table=True):
    """The co-authorship graph suggestions walk, derived from authorship: one row per ordered
    pair of researchers who share a work with at most MAX_AUTHORS_PER_WORK authors, with how
    many such works (services/research/coauthor_graph.py keeps it in step whenever a byline
    changes)."""

    __table_args__ = (
        # Strongest ties first, read from the index alone.
        Index("ix_coauthor_strongest", "researcher_id", "works", "coauthor_id"),
        # SQLite stores the rows in primary-key order: one researcher's edges sit together.
        {"sqlite_with_rowid": False},
    )

    researcher_id: int = Field(foreign_key="researcher.id", primary_key=True, ondelete="CASCADE")
    coauthor_id: int = Field(foreign_key="researcher.id", primary_key=True, ondelete="CASCADE")
    works: int


class Topic(SQLModel, table=True):
    """An OpenAlex topic. Works bring id and name; the card's details (domain › field › subfield,
    description, OpenAlex's works count) are cached from /topics/T… at `fetched_at` (migration 0011)."""

    id: int | None = Field(default=None, primary_key=True)
    openalex_id: str | None = Field(default=None, unique=True, max_length=32)
    name: str = Field(unique=True, max_length=512)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    subfield_name: str | None = Field(default=None, max_length=255)
    field_name: str | None = Field(default=None, max_length=255)
    domain_name: str | None = Field(default=None, max_length=255)
    works_count: int | None = None
    fetched_at: datetime | None = None


class WorkTopic(SQLModel, table=True):
    __tablename__ = "work_topic"

    work_id: int = Field(foreign_key="work.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True)


class ResearcherTopic(SQLModel, table=True):
    """Topics of a researcher: from their works in the store and from OpenAlex's author record."""

    __tablename__ = "researcher_topic"

    researcher_id: int = Field(foreign_key="researcher.id", primary_key=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True)
    works: int = Field(default=0)


MEMBER_USER = "user"
MEMBER_CHANNEL = "channel"


class Member(SQLModel, table=True):
    """A Slack user of one workspace, with their digest preference; or, with kind "channel", a
    channel subscribed to researchers (user_id then holds the channel id, C… or G…)."""

    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    # "user" | "channel" (migration 0010, whose server default fills the rows already there).
    kind: str = Field(default=MEMBER_USER, max_length=16, sa_column_kwargs={"server_default": MEMBER_USER})
    tz: str | None = Field(default=None, max_length=64)
    tz_checked_at: datetime | None = None
    digest_frequency: str = Field(default="daily", max_length=16)
    digest_time: str = Field(default="09:00", max_length=5)
    digest_weekday: int = Field(default=0)
    last_digest_at: datetime | None = None
    mute_all_invitations: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class Follow(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("member_id", "researcher_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    researcher_id: int = Field(foreign_key="researcher.id", index=True)
    muted: bool = Field(default=False)
    # Parked when the workspace uninstalls; restored on reinstall.
    parked: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class TopicFollow(SQLModel, table=True):
    """A member (a person, or a channel) following an OpenAlex topic (migration 0011)."""

    __tablename__ = "topic_follow"
    __table_args__ = (UniqueConstraint("member_id", "topic_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="topic.id", index=True)
    muted: bool = Field(default=False)
    # Parked when the workspace uninstalls; restored on reinstall (as Follow).
    parked: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """The digest ledger: one row per member and work, whatever the number of followed authors
    and topics. A row is filed under the followed researcher who brought it, else (researcher_id
    null) under the followed topic: a work both by a followed researcher and on a followed topic
    is one row, under the researcher."""

    __table_args__ = (
        UniqueConstraint("member_id", "work_id"),
        Index("ix_delivery_status_member", "status", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE")
    work_id: int = Field(foreign_key="work.id", index=True)
    researcher_id: int | None = Field(default=None, foreign_key="researcher.id")
    topic_id: int | None = Field(default=None, foreign_key="topic.id")
    # pending → sending → sent (services/digests/ledger.py has the whole life of a row).
    status: str = Field(default="pending", max_length=16)
    kind: str = Field(default="new", max_length=16)
    # Messages tried with this row in them.
    attempts: int = Field(default=0)
    claimed_until: datetime | None = None
    # The key of the message the row last went out in (its Slack metadata), and when: what an
    # unconfirmed row is looked up by before anything is sent again
    # (services/slack_requests/sending.py).
    send_key: str | None = Field(default=None, max_length=32)
    attempted_at: datetime | None = None
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Claim(SQLModel, table=True):
    __table_args__ = (
        # One live claim per profile and one per member (pending or approved).
        Index(
            "uq_claim_live_researcher",
            "researcher_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'approved')"),
            postgresql_where=text("status IN ('pending', 'approved')"),
        ),
        Index(
            "uq_claim_live_member",
            "member_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'approved')"),
            postgresql_where=text("status IN ('pending', 'approved')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    researcher_id: int = Field(foreign_key="researcher.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    # pending | approved | rejected | revoked | withdrawn
    status: str = Field(default="pending", max_length=16)
    # admin | email_domain | orcid
    method: str | None = Field(default=None, max_length=16)
    orcid_authenticated: bool = Field(default=False)
    decided_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    inviter_member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    invitee_member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    researcher_id: int = Field(foreign_key="researcher.id")
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    about: str | None = Field(default=None, max_length=512)
    # open | accepted | declined | expired
    status: str = Field(default="open", max_length=16)
    channel_id: str | None = Field(default=None, max_length=32)
    # Null while Slack has not confirmed the intro (services/collaboration/invitation_service.py
    # reconciles it).
    thread_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    # When the intro was last tried: with no thread_ts yet, the look-up's claim token.
    attempted_at: datetime | None = None
    responded_at: datetime | None = None
    checked_back_at: datetime | None = None


class InvitationMute(SQLModel, table=True):
    """An invitee's wish not to be invited by one member (or anyone, when muted_member_id is null)."""

    __tablename__ = "invitation_mute"
    __table_args__ = (UniqueConstraint("member_id", "muted_member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    muted_member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)


class SlackEvent(SQLModel, table=True):
    """Seen Slack deliveries, so a retry or replay never acts twice across processes."""

    __tablename__ = "slack_event"

    key: str = Field(primary_key=True, max_length=255)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class LookupSlot(SQLModel, table=True):
    """An OpenAlex look-up a member has in flight, in whichever web process runs it: the per-member
    limit holds across processes. A slot whose holder died is free again after `held_until`."""

    __tablename__ = "lookup_slot"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    slot: int = Field(primary_key=True)
    token: str = Field(max_length=32)
    held_until: datetime


class OrcidStateUse(SQLModel, table=True):
    """An ORCID sign-in state that came back to /orcid/callback: each is good for one sign-in."""

    __tablename__ = "orcid_state_use"

    nonce: str = Field(primary_key=True, max_length=64)
    claim_id: int = Field(index=True)
    used_at: datetime = Field(default_factory=utcnow)
