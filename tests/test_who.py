"""`/peer who WORDS` end to end on the demo store: who works on something, claimed members of the
workspace first, paging that replaces the message, escaping, and what to type otherwise."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from handlers.values import ExpertsValue, ResearcherValue
from services.research import expertise
from services.research.expertise import MAX_AUTHORS, PAGE_SIZE
from services.store.models import Authorship, Claim, Member, Researcher, Work
from tests.slack_support import SlackDriver, all_text, buttons
from tests.store_support import StoreBuilder

BASU_REASON = "2 matching works since 2020, e.g. “Influence Functions in Deep Learning Are Fragile”"


@pytest.fixture
def store(runtime: Runtime) -> StoreBuilder:
    return StoreBuilder(runtime.services.engine, prefix="who")


def _researcher_id(runtime: Runtime, name: str) -> int:
    with Session(runtime.services.engine) as session:
        found = session.exec(select(Researcher).where(Researcher.name == name)).first()
        assert found is not None and found.id is not None
        return found.id


def _claim(runtime: Runtime, researcher_id: int, user_id: str, team_id: str = "T0TEAM1") -> None:
    with Session(runtime.services.engine) as session:
        member = Member(team_id=team_id, user_id=user_id)
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(
            Claim(researcher_id=researcher_id, member_id=member.id, status="approved", method="admin")
        )
        session.commit()


def _names(message: dict) -> list[str]:
    return re.findall(r"^\*([^*\n]+)\*", all_text(message), re.MULTILINE)


def test_who_lists_the_demo_researcher_with_the_reason(driver: SlackDriver, runtime: Runtime) -> None:
    driver.command("who influence functions")
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "*Who works on “influence functions”*" in text
    assert "*Samyadeep Basu*\n" + BASU_REASON in text
    basu = _researcher_id(runtime, "Samyadeep Basu")
    (row,) = [b for b in reply["blocks"] if b.get("block_id") == f"who:{basu}"]
    view, follow = row["elements"]
    assert view["action_id"] == Action.VIEW_PROFILE_NEW_MESSAGE
    assert follow["action_id"] == Action.FOLLOW
    assert ResearcherValue.load(view["value"]) == ResearcherValue(researcher_id=basu)
    assert follow["value"] == view["value"]
    assert follow["accessibility_label"] == "Follow Samyadeep Basu"
    assert "Next →" not in buttons(reply)
    assert within_limits(reply["blocks"])
    # Stemmed on both databases: "function" finds "Functions".
    driver.command("who Influence FUNCTION")
    assert BASU_REASON in all_text(driver.last_reply())


def test_a_claimed_member_comes_first_with_their_mention(
    driver: SlackDriver, runtime: Runtime, store: StoreBuilder
) -> None:
    (star,) = store.researchers(["Star Influencer"])
    store.works(
        [[star]] * 5, title=lambda i: f"Influence functions at scale {i}", year=2026, cited_by_count=9000
    )
    driver.command("who influence functions")
    assert _names(driver.last_reply())[1:3] == ["Star Influencer", "Samyadeep Basu"]
    _claim(runtime, _researcher_id(runtime, "Samyadeep Basu"), "U0SAMYA")
    # A claim in another workspace changes nothing here.
    _claim(runtime, star, "U0OTHER", team_id="T0TEAM2")
    driver.command("who influence functions")
    text = all_text(driver.last_reply())
    assert _names(driver.last_reply())[1:3] == ["Samyadeep Basu", "Star Influencer"]
    assert "*Samyadeep Basu* · <@U0SAMYA>\n" in text
    assert "U0OTHER" not in text


def test_paging_replaces_the_message(driver: SlackDriver, store: StoreBuilder) -> None:
    people = store.researchers([f"Sparrow Person {i:02d}" for i in range(25)])
    store.works([[rid] for rid in people], title=lambda i: f"Quantum sparrows {i}", year=lambda i: 2000 + i)
    driver.command("who quantum sparrows")
    first = driver.last_reply()
    assert "Page 1 of 3 · researchers 1–10 of 25" in all_text(first)
    assert len(_names(first)) == 1 + PAGE_SIZE
    assert _names(first)[1] == "Sparrow Person 24"  # the most recent work weighs most
    nxt = buttons(first)["Next →"]
    assert ExpertsValue.load(nxt["value"]) == ExpertsValue(query="quantum sparrows", page=2)
    driver.press(nxt["action_id"], nxt["value"])
    second = driver.last_reply()
    assert second.get("replace_original") is True
    assert "Page 2 of 3 · researchers 11–20 of 25" in all_text(second)
    assert set(_names(first)[1:]).isdisjoint(_names(second)[1:])
    last = buttons(second)["Next →"]
    driver.press(last["action_id"], last["value"])
    third = driver.last_reply()
    assert "Page 3 of 3 · researchers 21–25 of 25" in all_text(third)
    assert "Next →" not in buttons(third) and "← Previous" in buttons(third)
    # An edited page is clamped to the last one.
    driver.press(f"{Action.WHO_PAGE}:next", ExpertsValue(query="quantum sparrows", page=99).dump())
    assert "Page 3 of 3" in all_text(driver.last_reply())
    driver.press(f"{Action.WHO_PAGE}:next", '{"q": "x", "z": 1}')
    assert "Page" not in all_text(driver.last_reply())


def test_user_and_record_text_is_escaped(driver: SlackDriver, store: StoreBuilder) -> None:
    (odd,) = store.researchers(["Bo & <Co> <!channel>"])
    store.works([[odd]], title="Zebrafinch <b>bold</b> & <!here> <@U0EVIL>", abstract="zebrafinch")
    driver.command("who zebrafinch &lt;bold&gt; &amp; &lt;@U0EVIL&gt;")
    text = all_text(driver.last_reply())
    assert "*Who works on “zebrafinch &lt;bold&gt; &amp; &lt;@U0EVIL&gt;”*" in text
    assert "*Bo &amp; &lt;Co&gt; &lt;!channel&gt;*" in text
    assert "“Zebrafinch &lt;b&gt;bold&lt;/b&gt; &amp; &lt;!here&gt; &lt;@U0EVIL&gt;”" in text
    assert "<!here>" not in text and "<@U0EVIL>" not in text and "<b>" not in text


def test_too_short_and_no_match_say_what_to_type(driver: SlackDriver) -> None:
    for words in ("who", "who ab", "who !!", "who a b"):
        driver.command(words)
        text = all_text(driver.last_reply())
        assert "Type what you are looking for after `/peer who`" in text, words
        assert "`/peer who influence functions`" in text
    driver.command("who nonexistentword &lt;x&gt;")
    text = all_text(driver.last_reply())
    assert "No work in the store has every word of “nonexistentword &lt;x&gt;”" in text
    assert "`/peer who influence functions`" in text
    driver.command("help")
    assert "/peer who WORDS" in all_text(driver.last_reply())


def test_works_added_after_the_migration_are_found_and_removed(runtime: Runtime, store: StoreBuilder) -> None:
    (rid,) = store.researchers(["Late Writer"])
    (wid,) = store.works([[rid]], title="Plain title", abstract="Ornithopter dynamics")
    search = runtime.services.expertise.search
    found = search("ornithopter", team_id="T0TEAM1").page
    assert found is not None and [e.name for e in found.experts] == ["Late Writer"]
    with Session(runtime.services.engine) as session:
        session.execute(update(Work).where(Work.id == wid).values(abstract="Something else"))
        session.commit()
    assert search("ornithopter", team_id="T0TEAM1").problem == "no_match"
    with Session(runtime.services.engine) as session:
        session.execute(update(Work).where(Work.id == wid).values(title="Ornithopter again"))
        session.commit()
    assert search("ornithopter", team_id="T0TEAM1").page is not None
    with Session(runtime.services.engine) as session:
        session.execute(delete(Authorship).where(Authorship.work_id == wid))
        session.execute(delete(Work).where(Work.id == wid))
        session.commit()
    assert search("ornithopter", team_id="T0TEAM1").problem == "no_match"


def test_a_huge_byline_is_left_out_and_an_author_counts_once_per_work(
    driver: SlackDriver, store: StoreBuilder
) -> None:
    people = store.researchers([f"Detector Person {i:03d}" for i in range(MAX_AUTHORS + 1)])
    (lone,) = store.researchers(["Lone Calorimetrist"])
    store.works([people], title="Calorimeter upgrade for the big detector", year=2026)
    # Listed twice on one work (two name variants matched to one profile): one matching work.
    store.works([[lone, lone]], title="Calorimeter timing", year=2019)
    driver.command("who calorimeter")
    text = all_text(driver.last_reply())
    assert _names(driver.last_reply())[1:] == ["Lone Calorimetrist"]
    assert "1 matching work in 2019, e.g. “Calorimeter timing”" in text
    assert "Detector Person" not in text


def test_at_most_max_works_matching_works_are_ranked(
    runtime: Runtime, store: StoreBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expertise, "MAX_WORKS", 3)
    (rid,) = store.researchers(["Lanthanide Writer"])
    store.works([[rid]] * 5, title=lambda i: f"Lanthanide chemistry {i}")
    found = runtime.services.expertise.search("lanthanide", team_id="T0TEAM1").page
    assert found is not None and [e.name for e in found.experts] == ["Lanthanide Writer"]
    assert found.experts[0].works == 3


def test_a_member_outside_the_bounded_candidates_is_found_with_all_their_works(
    driver: SlackDriver, runtime: Runtime, store: StoreBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expertise, "MAX_WORKS", 3)
    early, other = store.researchers(["Early Bolometrist", "Other Bolometrist"])
    (member,) = store.researchers(["Member Bolometrist"])
    # Stored first and more than the bound: the candidate works are all Early's.
    store.works([[early]] * 4, title=lambda i: f"Bolometer arrays {i}", year=2026, cited_by_count=500)
    store.works([[other]], title="Bolometer noise", year=2026)
    store.works([[member]], title="Bolometer readout", year=2018)
    store.works([[member, early]], title="Bolometer calibration", year=2021, cited_by_count=3)
    store.works([[member]], title="Unrelated optics", year=2025)
    driver.command("who bolometer")
    assert _names(driver.last_reply())[1:] == ["Early Bolometrist"]
    _claim(runtime, member, "U0BOLO")
    # Another workspace's claim on Other brings nothing here.
    _claim(runtime, other, "U0ELSEWHERE", team_id="T0TEAM2")
    driver.command("who bolometer")
    reply = driver.last_reply()
    text = all_text(reply)
    assert _names(reply)[1:] == ["Member Bolometrist", "Early Bolometrist"]
    reason = "2 matching works since 2018, e.g. “Bolometer calibration”"
    assert f"*Member Bolometrist* · <@U0BOLO>\n{reason}" in text
    # Everyone else is still ranked from the bounded candidates: Early's first 3 works only.
    assert "*Early Bolometrist*\n3 matching works since 2026" in text
    assert "U0ELSEWHERE" not in text and "Other Bolometrist" not in text
