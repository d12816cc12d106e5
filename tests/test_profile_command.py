"""`/peer QUERY` end to end: signed requests through the Bolt app, replies read back from Slack."""

from __future__ import annotations

import re
import time

import pytest
from slack_bolt.request import BoltRequest

from bot.local.signed_requests import signed_headers
from handlers.blocks import within_limits
from handlers.digests.channels import _TARGETS as CHANNEL_TARGETS
from handlers.digests.channels import _VERBS as CHANNEL_VERBS
from handlers.ids import Action
from handlers.messages import help_rows
from handlers.parsing import OTHER_SUBCOMMANDS, QUERY_SUBCOMMANDS, parse_slash_text
from tests.slack_support import SlackDriver, all_text, buttons, more_buttons
from tests.store_support import add_researcher

SEED_FACTS = [
    "Samyadeep Basu",
    "Samyadeep Basu contributes to research discovery and scholarly infrastructure.",
    "Affiliation not imported",
    "Open to collaborate",
    "Trust 13 - Unverified",
    "Verification L1",
    "Unclaimed author",
    "2 works",
    "0 followers",
    "1 topic",
    "3 close collaborators",
    # The seed page says "2 published item(s)"; the card says it with the right plural.
    "2 published items",
    "`preprint · 2021 · arXiv`",
    "`preprint · 2020 · arXiv`",
    "<https://arxiv.org/abs/2006.14651|Influence Functions in Deep Learning Are Fragile>",
    "<https://arxiv.org/abs/1911.00418|On Second-Order Group Influence Functions for Black-Box Predictions>",
    # The seed's "Identity and collaboration" and "Direct collaboration" sentences.
    "Claiming links this public author record to a researcher profile and unlocks direct collaboration",
    "Claim this author entity first to unlock direct invitations.",
]


def test_seed_card_shows_every_fact_of_the_seed_profile(driver: SlackDriver) -> None:
    response = driver.command("Samyadeep Basu")
    assert response.status == 200
    reply = driver.last_reply()
    assert reply["response_type"] == "ephemeral"
    text = all_text(reply)
    for fact in SEED_FACTS:
        assert fact in text, fact
    assert set(buttons(reply)) == {"Follow", "Why this score?", "Papers", "More…", "Claim this profile"}
    assert len(reply["blocks"]) <= 12
    assert within_limits(reply["blocks"])
    # The card lists its close collaborators (BZPEER shows at most four, strongest first).
    assert (
        "*Close collaborators* (shared works of ≤ 25 authors): Soheil Feizi (2), Phillip Pope (1), "
        "Xuchen You (1)" in text
    )
    # The seed's abstracts are one press away, on the papers list.
    papers = buttons(reply)["Papers"]
    driver.press(papers["action_id"], papers["value"])
    assert "Influence functions approximate the effect of training samples" in all_text(driver.last_reply())
    assert set(more_buttons(driver, reply)) == {"Collaborators", "Research graph", "Share in channel"}


def test_card_buttons_name_their_person(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    card = driver.last_reply()
    labels = [b["accessibility_label"] for b in buttons(card).values() if "accessibility_label" in b]
    labels += [b["accessibility_label"] for b in more_buttons(driver, card).values()]
    assert "Follow Samyadeep Basu" in labels and "Papers of Samyadeep Basu, with abstracts" in labels
    assert all(len(label) <= 75 for label in labels)


@pytest.mark.parametrize("query", ["Samyadep Basu", "basu", "SAMYADEEP", "Sámyadeep Básu", "profile Basu"])
def test_typos_accents_case_and_partial_names_find_the_card(driver: SlackDriver, query: str) -> None:
    driver.command(query)
    assert "Trust 13 - Unverified" in all_text(driver.last_reply())


def test_alternative_names_are_searched(driver: SlackDriver) -> None:
    driver.command("Phil Pope")
    text = all_text(driver.last_reply())
    assert "Phillip Pope" in text and "2 works" in text


@pytest.fixture
def ambiguous(driver: SlackDriver, runtime) -> SlackDriver:  # type: ignore[no-untyped-def]
    add_researcher(runtime.services.engine, "Rahul Basu")
    return driver


def test_several_matches_give_a_pick_list_that_opens_the_card(ambiguous: SlackDriver) -> None:
    ambiguous.command("Basu")
    reply = ambiguous.last_reply()
    assert "Several researchers match “Basu”" in all_text(reply)
    assert "Rahul Basu" in all_text(reply) and "Samyadeep Basu" in all_text(reply)
    view = next(
        block["accessory"]
        for block in reply["blocks"]
        if block.get("accessory") and "Samyadeep" in block["text"]["text"]
    )
    ambiguous.press(view["action_id"], view["value"])
    card = ambiguous.last_reply()
    assert card["replace_original"] is True
    assert "Trust 13 - Unverified" in all_text(card)


def test_why_this_score_explains_each_signal(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    why = buttons(driver.last_reply())["Why this score?"]
    driver.press(why["action_id"], why["value"])
    text = all_text(driver.last_reply())
    assert "Trust 13 - Unverified" in text
    assert "Public record*: +9" in text
    assert "Published works*: +4" in text
    assert "Followers*: 0" in text


def test_share_in_channel_posts_the_card_for_everyone(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    share = more_buttons(driver, driver.last_reply())["Share in channel"]
    driver.press(share["action_id"], share["value"])
    shared = driver.last_reply()
    assert shared["response_type"] == "in_channel"
    assert "Shared by <@U0ALICE>" in all_text(shared)
    assert "Share in channel" not in buttons(shared) and "Shared by <@U0ALICE>" in all_text(shared)


def test_nobody_found_offers_an_openalex_lookup(driver: SlackDriver) -> None:
    driver.command("Ada Lovelace")
    reply = driver.last_reply()
    assert "No researcher matching “Ada Lovelace” is in the store yet." in all_text(reply)
    assert buttons(reply)["Look up on OpenAlex"]["action_id"] == Action.OPENALEX_LOOKUP


def test_mistyped_subcommand_gets_a_hint(driver: SlackDriver) -> None:
    driver.command("profil Nobody Here")
    assert "Did you mean `/peer profile Nobody Here`?" in all_text(driver.last_reply())


def test_help_lists_every_subcommand_with_an_example(driver: SlackDriver) -> None:
    driver.command("help")
    reply = driver.last_reply()
    text = all_text(reply)
    for usage in ("/peer NAME", "/peer profile QUERY", "/peer help", "e.g. `/peer Samyadeep Basu`"):
        assert usage in text
    assert within_limits(reply["blocks"])
    # Every word the parser knows is taught, and so is every channel verb and target.
    for word in QUERY_SUBCOMMANDS + OTHER_SUBCOMMANDS:
        assert re.search(rf"`(/peer )?{word}\b", text), word
    for verb in CHANNEL_VERBS:
        assert re.search(rf"`(/peer )?channel {verb}".rstrip(), text), verb
    for verb, target in CHANNEL_TARGETS:
        assert re.search(rf"`(/peer )?channel {verb} {target}", text), (verb, target)
    assert "`/peer channel digest daily|weekly|instant|off [on DAY] [at HH:MM]`" in text
    assert "`/peer digest daily|weekly|instant|off [on DAY] [at HH:MM]`" in text


def test_every_help_example_parses_as_its_usage() -> None:
    rows = [row for _, group in help_rows("/peer") for row in group]
    assert len(rows) == len({usage for usage, _, _ in rows}) >= 19
    for usage, example, _ in rows:
        want, got = (
            parse_slash_text(usage.removeprefix("/peer ")),
            parse_slash_text(example.removeprefix("/peer ")),
        )
        assert got.kind == want.kind, (usage, example)
        if got.kind == "channel":
            # The channel's own verb (and target) too: `channel follow topic …` is no researcher.
            wanted, typed = want.args.split(), got.args.split()
            assert typed[:1] == wanted[:1], (usage, example)
            if wanted[1:2] in (["topic"], ["members"]):
                assert typed[:2] == wanted[:2], (usage, example)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Type a researcher's name, OpenAlex id or ORCID after `/peer`"),
        ("    ", "Type a researcher's name, OpenAlex id or ORCID after `/peer`"),
        ("x" * 5000, "That was 5,000 characters"),
        ("<!channel>", "looks like a Slack mention or channel"),
        ("<@U123> please", "looks like a Slack mention or channel"),
        ("0000-0002-1298-3088", "is not a valid ORCID (its check digit is wrong)"),
        ("https://openalex.org/W2741809807", "W2741809807 is a work in OpenAlex, not an author"),
        ("payload", "No researcher matching “payload”"),
        ("Zed & <b>", "No researcher matching “Zed &amp; &lt;b&gt;”"),
    ],
)
def test_bad_input_gets_a_clear_reply_and_nothing_unescaped(
    driver: SlackDriver, text: str, expected: str
) -> None:
    response = driver.command(text)
    assert response.status == 200
    reply = driver.last_reply()
    rendered = all_text(reply)
    assert expected in rendered
    assert "<!channel>" not in rendered and "<@U123>" not in rendered and "<b>" not in rendered
    assert within_limits(reply["blocks"])


def test_payload_in_a_command_is_not_dropped(driver: SlackDriver) -> None:
    # Bolt 1.30 turns a form body containing "payload" into {} (→ 404); the app patches it.
    response = driver.command("payload")
    assert response.status == 200
    assert driver.replies()


def test_bad_and_stale_signatures_are_refused(driver: SlackDriver) -> None:
    body = driver.command_body("Samyadeep Basu")
    wrong = signed_headers("not-the-secret", body, content_type="application/x-www-form-urlencoded")
    stale = signed_headers(
        driver.secret,
        body,
        content_type="application/x-www-form-urlencoded",
        timestamp=int(time.time()) - 301,
    )
    future = signed_headers(
        driver.secret,
        body,
        content_type="application/x-www-form-urlencoded",
        timestamp=int(time.time()) + 301,
    )
    missing = {"content-type": "application/x-www-form-urlencoded"}
    for headers in (wrong, stale, future, missing):
        assert driver.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401
    assert not driver.replies()


def test_edited_button_value_is_refused_politely(driver: SlackDriver) -> None:
    driver.press(Action.WHY_SCORE, '{"r": "1; DROP TABLE researcher"}')
    assert "That button is out of date" in all_text(driver.last_reply())
    driver.press(Action.VIEW_PROFILE, '{"r": 99999}')
    assert "no longer in the store" in all_text(driver.last_reply())


@pytest.mark.parametrize(
    ("subcommand", "expected"),
    [
        ("", "Soheil Feizi"),
        ("papers ", "Published work of Soheil Feizi"),
        ("collaborators ", "Collaborators of Soheil Feizi"),
        ("follow ", "You now follow *Soheil Feizi*"),
    ],
)
def test_a_single_fuzzy_match_is_answered_without_a_pick_list(
    driver: SlackDriver, subcommand: str, expected: str
) -> None:
    # "Soheel Faizi" matches one researcher, below the clear-winner score: a pick list of one
    # would only ask the member to press View.
    driver.command(f"{subcommand}Soheel Faizi")
    text = all_text(driver.last_reply())
    assert "Several researchers match" not in text
    assert expected in text
