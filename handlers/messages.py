"""Help, usage hints, bad-input answers, "several match" and "nobody found", and OpenAlex look-up
results."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from handlers.blocks import NAME, Reply, button, context, escape, plural, section, shown_name
from handlers.ids import Action
from handlers.parsing import MAX_QUERY
from handlers.values import AuthorIdValue, LookupValue, ResearcherValue
from services.openalex.author_lookup import OpenAlexLookup
from services.openalex.records import AuthorCandidate
from services.research.profiles import Candidate
from services.store.text import truncate

EXAMPLE_NAME = "Samyadeep Basu"


def help_rows(command: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every subcommand as (usage, example, what it does), in the groups `/peer help` shows."""
    digest = "digest daily|weekly|instant|off [on DAY] [at HH:MM]"
    researchers = [
        (
            f"{command} NAME",
            f"{command} {EXAMPLE_NAME}",
            "a researcher's profile card with the trust snapshot",
        ),
        (
            f"{command} profile QUERY",
            f"{command} profile https://openalex.org/A5023888391",
            "the same, by name, OpenAlex author id/URL or ORCID",
        ),
        (
            f"{command} papers QUERY [year:YYYY] [type:preprint|article] [sort:cited]",
            f"{command} papers {EXAMPLE_NAME} year:2021 sort:cited",
            "their publications with citations and open-access links, newest first (`sort:cited`: "
            "most cited first), five per page; `type:preprint` is any work with a preprint version "
            "(OpenAlex type preprint, or on a preprint server such as arXiv), published since or not",
        ),
        (
            f"{command} collaborators QUERY",
            f"{command} collaborators {EXAMPLE_NAME}",
            "close collaborators, and who they should work with next (and why)",
        ),
        (
            f"{command} graph QUERY",
            f"{command} graph {EXAMPLE_NAME}",
            "a picture of their research neighbourhood, sent to you in a DM; *Share in channel* posts it",
        ),
        (
            f"{command} who WORDS",
            f"{command} who influence functions",
            "who in the store works on something: researchers whose works' titles or abstracts "
            "have every word, members of this workspace first, ten per page",
        ),
        (
            f"{command} topic TOPIC",
            f"{command} topic T10017",
            "an OpenAlex topic: field › subfield, description, works in our store and who in the store "
            "works on it most, with Follow",
        ),
    ]
    yours = [
        (
            f"{command} follow QUERY",
            f"{command} follow {EXAMPLE_NAME}",
            "their new works in your digest (`unfollow QUERY` stops it)",
        ),
        (
            f"{command} follow topic TOPIC",
            f"{command} follow topic influence functions",
            "the topic's new works in your digest, the five best cited each time (`unfollow topic TOPIC` "
            "stops it)",
        ),
        (
            f"{command} following",
            f"{command} following",
            "whom and which topics you follow, with Unfollow and Mute (`following 2`: the next page)",
        ),
        (
            f"{command} {digest}",
            f"{command} digest weekly on friday at 16:00",
            "when your digest arrives, in your time zone (times like 09:00, 19:30, 7am, 7:30pm); "
            "`digest` alone shows it, `digest preview` shows the next one",
        ),
    ]
    channels = [
        (
            f"{command} channel follow QUERY",
            f"{command} channel follow {EXAMPLE_NAME}",
            "their new works posted in this channel, one post a digest (`channel unfollow QUERY` stops it)",
        ),
        (
            f"{command} channel follow topic TOPIC",
            f"{command} channel follow topic T10017",
            "the topic's new works in the channel's post, the five best cited each time "
            "(`channel unfollow topic TOPIC` stops it)",
        ),
        (
            f"{command} channel follow members",
            f"{command} channel follow members",
            "everyone in the channel who claimed a profile (again to pick up newcomers)",
        ),
        (
            f"{command} channel",
            f"{command} channel",
            "what the channel follows, with Unfollow, and when it is posted",
        ),
        (
            f"{command} channel {digest}",
            f"{command} channel digest weekly on monday at 10:00",
            "when the channel's digest is posted (daily at 09:00 unless changed), in the time zone of "
            "whoever set it up or last changed it",
        ),
    ]
    collaboration = [
        (
            f"{command} claim QUERY",
            f"{command} claim {EXAMPLE_NAME}",
            "claim your own profile (Verification L2 once approved); `unclaim` withdraws it; admins: "
            "`claim revoke QUERY`",
        ),
        (
            f"{command} invite QUERY [| message]",
            f"{command} invite {EXAMPLE_NAME} | Shall we compare notes on influence functions?",
            "invite a researcher who claimed their profile to collaborate, in a group DM",
        ),
        (f"{command} help", f"{command} help", "this list"),
    ]
    return [
        ("*BZPEER for Slack* looks up researchers from scholarly records.", researchers),
        ("*Your digest*, a direct message when those you follow publish:", yours),
        (
            "*Channel feeds*, typed in the channel that should get the posts (anyone in it may change them):",
            channels,
        ),
        ("*Claims and invitations*", collaboration),
    ]


def help_message(command: str) -> Reply:
    """Every subcommand with an example, a section per group (each ≤ 3,000 characters)."""
    blocks: list[Block] = [
        section(
            f"{title}\n"
            + "\n".join(f"• `{usage}`: {what}\n   e.g. `{example}`" for usage, example, what in rows)
        )
        for title, rows in help_rows(command)
    ]
    blocks.append(
        context(
            "QUERY is a name (typos and accents are fine), an OpenAlex author id or URL, or an ORCID; "
            "TOPIC is an OpenAlex topic id (T10017), its URL, or words. "
            "Replies are only visible to you until you press *Share in channel*. "
            f"The same works without `{command}` in a direct message to me (the Messages tab)."
        )
    )
    return Reply(f"{command} help: look up researchers by name, OpenAlex id or ORCID", blocks)


def dm_hint(command: str) -> Reply:
    """Text typed in the bot's DM that names no researcher: what to type instead."""
    text = f"Type a researcher's name, e.g. {EXAMPLE_NAME}, or help for everything I can do."
    return Reply(
        text,
        [
            section(
                f"Type a researcher's name to see their card, e.g. `{EXAMPLE_NAME}`, "
                f"or a command as after `{command}`: `papers {EXAMPLE_NAME}`, `who influence functions`, "
                "`follow topic T10017`, `following`, `digest weekly`."
            ),
            context("`help` lists everything I can do."),
        ],
    )


def empty_query(command: str, subcommand: str | None = None) -> Reply:
    usage = f"{command} {subcommand}" if subcommand else command
    return Reply(
        f"Type a researcher after {usage}, e.g. {usage} {EXAMPLE_NAME}",
        [
            section(
                f"Type a researcher's name, OpenAlex id or ORCID after `{usage}`, "
                f"e.g. `{usage} {EXAMPLE_NAME}`."
            ),
            context(f"`{command} help` lists everything the bot can do."),
        ],
    )


def too_long(command: str, length: int) -> Reply:
    return Reply(
        "That query is too long",
        [
            section(
                f"That was {length:,} characters; a name, OpenAlex id or ORCID fits in {MAX_QUERY}. "
                f"Try `{command} {EXAMPLE_NAME}`."
            )
        ],
    )


def markup_query(command: str) -> Reply:
    return Reply(
        "Mentions are not researchers",
        [
            section(
                "That looks like a Slack mention or channel. "
                f"`{command}` looks researchers up by name, OpenAlex id or ORCID, "
                f"e.g. `{command} {EXAMPLE_NAME}`."
            )
        ],
    )


def invalid_query(command: str, message: str) -> Reply:
    return Reply(escape(message), [section(escape(message)), context(f"`{command} help` shows examples.")])


def not_found(command: str, query: str, openalex_ref: str, suggestion: str | None) -> Reply:
    """Nobody in the store answers: say so and offer a one-click OpenAlex look-up."""
    text = f"No researcher matching “{escape(query)}” is in the store yet."
    blocks: list[Block] = [section(text)]
    if suggestion:
        blocks.append(context(f"Did you mean `{escape(command + ' ' + suggestion)}`?"))
    blocks.append(
        ActionsBlock(
            elements=[
                button(
                    "Look up on OpenAlex",
                    action_id=Action.OPENALEX_LOOKUP,
                    value=LookupValue(query=openalex_ref[:MAX_QUERY]).dump(),
                    style="primary",
                    label=f"Look up {query} on OpenAlex",
                )
            ]
        )
    )
    blocks.append(context("Or try another spelling, an OpenAlex author id (A…) or an ORCID."))
    return Reply(text, blocks)


def looking_up(query: str) -> Reply:
    return Reply(
        f"Looking up “{escape(query)}” on OpenAlex…",
        [section(f":hourglass_flowing_sand: Looking up “{escape(query)}” on OpenAlex…")],
    )


def importing(openalex_id: str) -> Reply:
    return Reply(
        f"Importing {openalex_id} from OpenAlex…",
        [
            section(
                f":hourglass_flowing_sand: Importing {escape(openalex_id)} with their works "
                "and co-authors from OpenAlex…"
            )
        ],
    )


def lookup_limit(limit: int) -> Reply:
    """A member pressed for another look-up while `limit` of theirs were still running."""
    text = f"You already have {limit} OpenAlex look-ups running; wait for them to finish."
    return Reply(text, [section(f":hourglass_flowing_sand: {text}")])


def lookup_queued(ahead: int) -> Reply:
    """Every look-up thread is busy: this one waits its turn."""
    behind = f" behind {plural(ahead, 'other')}" if ahead else ""
    text = f"Every OpenAlex look-up slot is busy: yours is queued{behind} and starts as soon as one is free."
    return Reply(text, [section(f":hourglass_flowing_sand: {text}")])


def lookups_busy() -> Reply:
    """So many look-ups wait already that a new one would wait minutes: it is turned away."""
    text = "BZPEER is busy with other OpenAlex look-ups right now; press the button again in a minute."
    return Reply(text, [section(f":warning: {text}")])


def restarted() -> Reply:
    """The process stopped before this person's request finished."""
    text = "BZPEER restarted before your request finished — please try again."
    return Reply(text, [section(f":warning: {text}")])


def import_button(candidate: AuthorCandidate, about: str) -> ButtonElement:
    """*Import* on an OpenAlex pick list: the author's card once imported."""
    return button(
        "Import",
        action_id=Action.OPENALEX_IMPORT,
        value=AuthorIdValue(openalex_id=candidate.openalex_id).dump(),
        label=f"Import {candidate.display_name}" + (f" ({about})" if about else ""),
    )


def openalex_result_message(
    result: OpenAlexLookup,
    *,
    choose: Callable[[AuthorCandidate, str], ButtonElement] = import_button,
    ask: str = "Import the one you mean:",
) -> Reply:
    """What came back from OpenAlex when it is not a single imported profile; each of several
    authors gets the button `choose` makes (given the author and a few words about them)."""
    if result.status == "error":
        return Reply(
            escape(result.message or "OpenAlex did not answer"),
            [section(f":warning: {escape(result.message or 'OpenAlex did not answer.')}")],
        )
    if result.status == "none":
        text = f"OpenAlex has no author matching “{escape(result.query)}”."
        return Reply(text, [section(text), context("Check the spelling, or try an ORCID or OpenAlex id.")])
    blocks: list[Block] = [section(f"OpenAlex has several authors matching “{escape(result.query)}”. {ask}")]
    for candidate in result.candidates:
        works = plural(candidate.works_count, "work") if candidate.works_count is not None else None
        details = " · ".join(
            part
            for part in (
                escape(candidate.hint) if candidate.hint else "no institution listed",
                works,
                f"ORCID {candidate.orcid}" if candidate.orcid else None,
            )
            if part
        )
        about = ", ".join(part for part in (candidate.hint, works) if part)
        blocks.append(
            section(
                f"*{escape(candidate.display_name)}* ({candidate.openalex_id})\n{details}",
                accessory=choose(candidate, about),
            )
        )
    return Reply(escape(f"Several OpenAlex authors match “{result.query}”"), blocks)


def stale_button() -> Reply:
    return Reply(
        "That button is out of date",
        [section("That button is out of date or was changed. Run the command again.")],
    )


def researcher_gone() -> Reply:
    return Reply(
        "That researcher is no longer in the store",
        [section("That researcher is no longer in the store. Run the command again.")],
    )


def _researcher_value(researcher_id: int) -> str:
    return ResearcherValue(researcher_id=researcher_id).dump()


def pick_list(
    query: str,
    candidates: tuple[Candidate, ...],
    *,
    action: str = Action.VIEW_PROFILE,
    value: Callable[[int], str] | None = None,
    verb: str = "View",
    where: str = "",
) -> Reply:
    """Several researchers answer the query: one line and a View button each (by default the
    card; papers, collaborators, graph and channel pick lists pass their own action and value,
    and a channel's its `verb` and `where`, e.g. "Follow" … "in #lab-papers")."""
    blocks: list[Block] = [section(f"Several researchers match “{shown_name(query)}”. Which one?")]
    for candidate in candidates:
        details = [
            truncate(candidate.affiliation, NAME) if candidate.affiliation else "Affiliation not imported",
            plural(candidate.works_count, "work"),
        ]
        matched = shown_name(candidate.matched_name)
        also = f" (as {matched})" if candidate.matched_name != candidate.name else ""
        blocks.append(
            section(
                f"*{shown_name(candidate.name)}*{also}\n{escape(' · '.join(details))}",
                accessory=button(
                    verb,
                    action_id=action,
                    value=(value or _researcher_value)(candidate.id),
                    label=f"{verb} {candidate.name}"
                    + (f" ({candidate.affiliation})" if candidate.affiliation and not where else "")
                    + (f" {where}" if where else ""),
                ),
            )
        )
    return Reply(escape(f"Several researchers match “{truncate(query, NAME)}”"), blocks)
