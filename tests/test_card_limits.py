"""Every card fits Slack's limits, on the largest real author we have and on worst-case records."""

from __future__ import annotations

from dataclasses import replace

from handlers.blocks import within_limits
from handlers.messages import pick_list
from handlers.research.profile_blocks import card_more, profile_card, trust_breakdown
from services.research.profiles import Candidate, CardCollaborator, Profile, WorkSummary
from services.research.trust import TrustSignals, trust_snapshot
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.slack_support import SlackDriver, all_text, buttons

PRIEM = "A5023888391"


def test_card_of_a_real_prolific_author_fits(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    # Jason Priem's record carries dozens of topics; the 2026 works list has long author lists.
    openalex.add(f"/authors/{PRIEM}", fixture("author_A5023888391.json"))
    openalex.add("/works", fixture("works_list_page1_per_page2_2026-03.json"))
    driver.press("openalex_import", f'{{"a": "{PRIEM}"}}')
    card = driver.last_reply()
    assert "Jason Priem" in all_text(card)
    assert within_limits(card["blocks"])
    assert len(card["blocks"]) <= 12 and len(buttons(card)) <= 5


def _worst_profile() -> Profile:
    long = "Ü" * 5000
    work = WorkSummary(
        id=1,
        title=long,
        type="article",
        year=2026,
        venue=long,
        url="https://doi.org/" + "9" * 2900,
        abstract=long[:280],
        also="preprint on " + long,
        cited_by_count=10**9,
        oa_url="https://example.org/" + "9" * 980,
    )
    return Profile(
        id=1,
        name=long,
        headline=long,
        affiliation=long,
        open_to_collaborate=True,
        trust=trust_snapshot(TrustSignals(level=3, works=10_000, followers=10_000)),
        claim_status="claimed",
        works_count=10_000,
        followers_count=10_000,
        topics_count=500,
        collaborators_count=99_999,
        topics=tuple(long for _ in range(5)),
        recent_works=(work, work, work),
        openalex_url="https://openalex.org/" + PRIEM,
        orcid_url="https://orcid.org/0000-0002-1825-0097",
        close_collaborators=tuple(CardCollaborator(id=i, name=long, shared_works=9_999) for i in range(4)),
        cited_by_count=10**9,
        h_index=999,
    )


def test_worst_case_records_are_truncated_into_the_limits() -> None:
    profile = _worst_profile()
    for reply in (
        profile_card(profile),
        profile_card(profile, shared_by="U123"),
        profile_card(replace(profile, claim_status="unclaimed")),
        card_more(profile),
        trust_breakdown(profile),
    ):
        payload = reply.payload()  # slack_sdk validates each block here
        assert within_limits(payload["blocks"])
        # A card stays short: at most 12 blocks and 5 buttons, every button labelled.
        assert len(payload["blocks"]) <= 12
        assert len(buttons(payload)) <= 5
        assert all(0 < len(b.get("accessibility_label", "x")) <= 75 for b in buttons(payload).values())
    candidates = tuple(
        Candidate(id=i, name=profile.name, matched_name="x" * 600, affiliation=profile.name, works_count=i)
        for i in range(1, 9)
    )
    assert within_limits(pick_list("q" * 200, candidates).payload()["blocks"])


def test_markup_in_records_is_escaped() -> None:
    profile = replace(_worst_profile(), name="<!channel> Eve", headline="<@U999> & <http://evil|click>")
    text = all_text(profile_card(profile).payload())
    assert "<!channel>" not in text and "<@U999>" not in text and "<http://evil|click>" not in text
    assert "&lt;!channel&gt; Eve" in text
