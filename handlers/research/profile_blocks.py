"""The profile card, its trust breakdown, and the pick list for ambiguous names."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from handlers.blocks import NAME, Reply, clip, context, escape, header, link, plural, section, shown_name
from handlers.collaboration.claim_blocks import card_collaboration_blocks
from handlers.ids import Action
from handlers.values import ResearcherValue
from services.research.coauthor_graph import MAX_AUTHORS_PER_WORK
from services.research.profiles import Profile, WorkSummary
from services.store.text import truncate

# Display caps that keep the largest card far inside Slack's message limits.
FIELD = 150
TITLE = 300

CLAIM_LABELS = {"unclaimed": "Unclaimed author", "pending": "Claim pending", "claimed": "Claimed"}


def trust_line(profile: Profile) -> str:
    """`Trust 13 - Unverified · Verification L1 · Unclaimed author`, as BZPEER shows it."""
    trust = profile.trust
    return (
        f"Trust {trust.score} - {trust.label} · Verification L{trust.level} · "
        f"{CLAIM_LABELS[profile.claim_status]}"
    )


def button_label(text: str) -> str:
    """An accessibility_label within Slack's 75 characters."""
    return clip(text, 75)


def work_line(work: WorkSummary, *, abstract: bool = True) -> str:
    """One work: `type · year · venue`, the linked title, the first authors, citations and the
    open-access link when known, an abstract snippet."""
    parts = (work.type, work.year, work.venue, work.also)
    meta = " · ".join(escape(truncate(str(part), FIELD)) for part in parts if part)
    title_text = truncate(work.title, TITLE)
    title = link(work.url, title_text)
    lines = [f"`{meta}`" if meta else "", f"*{title}*"]
    if work.authors:
        byline = ", ".join(truncate(name, NAME) for name in work.authors)
        lines.append(escape(byline + (" et al." if work.more_authors else "")))
    reach = []
    if work.cited_by_count is not None:
        reach.append(citations(work.cited_by_count))
    if work.oa_url and (free := link(work.oa_url, "Open access ↗")) != escape("Open access ↗"):
        reach.append(free)
    if reach:
        lines.append(" · ".join(reach))
    if abstract and work.abstract:
        lines.append(escape(work.abstract))
    return "\n".join(line for line in lines if line)


def citations(count: int) -> str:
    """`1 citation`, `1,234 citations`."""
    return f"{count:,} citation{'' if count == 1 else 's'}"


def counts_line(profile: Profile) -> str:
    """`2 works · 0 followers · 1 topic · 3 close collaborators`, then citations when known."""
    counts = " · ".join(
        [
            plural(profile.works_count, "work"),
            plural(profile.followers_count, "follower"),
            plural(profile.topics_count, "topic"),
            plural(profile.collaborators_count, "close collaborator"),
        ]
    )
    impact = []
    if profile.cited_by_count is not None:
        impact.append(citations(profile.cited_by_count))
    if profile.h_index is not None:
        impact.append(f"h-index {profile.h_index}")
    return counts + ("\n" + " · ".join(impact) if impact else "")


def _people_line(profile: Profile) -> str | None:
    lines = []
    if profile.topics:
        more = profile.topics_count - len(profile.topics)
        topics = ", ".join(escape(truncate(t, FIELD)) for t in profile.topics)
        topics += f" and {more} more" if more > 0 else ""
        lines.append(f"*Topics:* {topics}")
    if profile.close_collaborators:
        # Counted over works with at most MAX_AUTHORS_PER_WORK authors (the stored co-authorship
        # graph), unlike `/peer collaborators`, which counts every work: the line says so.
        people = ", ".join(
            f"{escape(truncate(c.name, NAME))} ({c.shared_works})" for c in profile.close_collaborators
        )
        lines.append(f"*Close collaborators* (shared works of ≤ {MAX_AUTHORS_PER_WORK} authors): {people}")
    return "\n".join(lines) or None


def profile_card(profile: Profile, *, shared_by: str | None = None) -> Reply:
    """The researcher card; `shared_by` (a Slack user id) marks the copy posted to a channel.
    At most 12 blocks and 5 buttons: abstracts are on the papers list, the secondary buttons
    behind "More…"."""
    value = ResearcherValue(researcher_id=profile.id).dump()
    name = truncate(profile.name, NAME)
    blocks: list[Block] = [header(profile.name)]
    if profile.headline:
        blocks.append(section(escape(truncate(profile.headline, 600))))
    collaboration = "Open to collaborate" if profile.open_to_collaborate else "Not open to collaboration"
    about = [
        "Researcher",
        escape(truncate(profile.affiliation, FIELD)) if profile.affiliation else "Affiliation not imported",
        collaboration,
    ]
    if shared_by:
        about.append(f"Shared by <@{shared_by}>")
    blocks.append(context(*about))
    blocks.append(
        section(
            f"*Trust snapshot*\n{trust_line(profile)}\n{counts_line(profile)}",
            accessory=ButtonElement(
                text="Why this score?",
                action_id=Action.WHY_SCORE,
                value=value,
                accessibility_label=button_label(f"Why {name} has this trust score"),
            ),
        )
    )
    people = _people_line(profile)
    if people:
        blocks.append(section(people))
    published = f"*Published work* · {plural(profile.works_count, 'published item')}"
    if profile.works_count > len(profile.recent_works) and profile.recent_works:
        published += f" · newest {len(profile.recent_works)} shown"
    blocks.append(
        section(
            published,
            accessory=ButtonElement(
                text="Papers",
                action_id=Action.PAPERS,
                value=value,
                accessibility_label=button_label(f"Papers of {name}, with abstracts"),
            ),
        )
    )
    if not profile.recent_works:
        blocks.append(context("No works of this researcher are in the store yet."))
    blocks.extend(section(work_line(work, abstract=False)) for work in profile.recent_works)
    # Unfollow only on the viewer's own card; a card for nobody in particular offers Follow
    # (a press acts for whoever pressed it).
    follow = (
        ButtonElement(
            text="Unfollow",
            action_id=Action.UNFOLLOW,
            value=value,
            accessibility_label=button_label(f"Unfollow {name}"),
        )
        if profile.following
        else ButtonElement(
            text="Follow",
            action_id=Action.FOLLOW,
            value=value,
            style="primary",
            accessibility_label=button_label(f"Follow {name}"),
        )
    )
    more = ButtonElement(
        text="More…",
        action_id=Action.CARD_MORE,
        value=value,
        accessibility_label=button_label(f"More about {name}: collaborators, graph, share, links"),
    )
    blocks.append(ActionsBlock(elements=[follow, more]))
    blocks.extend(card_collaboration_blocks(profile))
    text = f"{name}: {trust_line(profile)}"
    return Reply(escape(text), blocks)


def card_more(profile: Profile) -> Reply:
    """The card's secondary buttons: collaborators, research graph, share, OpenAlex and ORCID."""
    value = ResearcherValue(researcher_id=profile.id).dump()
    name = truncate(profile.name, NAME)
    buttons = [
        ButtonElement(
            text="Collaborators",
            action_id=Action.COLLABORATORS,
            value=value,
            accessibility_label=button_label(f"Collaborators of {name}"),
        ),
        ButtonElement(
            text="Research graph",
            action_id=Action.GRAPH,
            value=value,
            accessibility_label=button_label(f"Research graph of {name}"),
        ),
        ButtonElement(
            text="Share in channel",
            action_id=Action.SHARE_PROFILE,
            value=value,
            accessibility_label=button_label(f"Share the card of {name} in this channel"),
        ),
    ]
    if profile.openalex_url:
        buttons.append(
            ButtonElement(
                text="OpenAlex ↗",
                action_id=f"{Action.OPEN_LINK}:openalex",
                url=profile.openalex_url,
                accessibility_label=button_label(f"{name} on OpenAlex"),
            )
        )
    if profile.orcid_url:
        buttons.append(
            ButtonElement(
                text="ORCID ↗",
                action_id=f"{Action.OPEN_LINK}:orcid",
                url=profile.orcid_url,
                accessibility_label=button_label(f"{name} on ORCID"),
            )
        )
    blocks: list[Block] = [
        section(f"*More about {shown_name(profile.name)}*"),
        context("*Research graph* · the researcher in context: papers, co-authors, who to meet"),
        ActionsBlock(elements=buttons),
    ]
    return Reply(escape(f"More about {name}"), blocks)


def trust_breakdown(profile: Profile, *, orcid_enabled: bool = False) -> Reply:
    """The "Why this score?" answer: every signal and its points, and how L3 is reached."""
    rows = "\n".join(
        f"• *{escape(s.name)}*: {'+' if s.points else ''}{s.points} ({escape(s.detail)})"
        for s in profile.trust.signals
    )
    blocks: list[Block] = [
        section(
            f"*Why {shown_name(profile.name)} has "
            f"Trust {profile.trust.score} - {profile.trust.label}*\n{rows}"
        ),
        context(
            "Labels: below 20 Unverified · 20–39 Emerging · 40–69 Established · 70+ Trusted. "
            "Verification: L0 name only · L1 public record · L2 claim approved · L3 ORCID-verified claim."
        ),
    ]
    if profile.trust.level < 3:
        how = "L3 (+45 instead of +30): claim your profile and verify with ORCID"
        blocks.append(
            context(
                f"{how} (*Verify with ORCID* on your own card or Home tab)."
                if orcid_enabled
                else f"{how}; this installation has not enabled ORCID sign-in."
            )
        )
    return Reply(escape(f"Why {truncate(profile.name, NAME)} has Trust {profile.trust.score}"), blocks)
