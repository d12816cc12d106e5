"""Close and suggested collaborators: the ranking at the service level, the reply end to end."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from sqlalchemy.engine import Engine

from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from handlers.research.collaborator_blocks import collaborators_message
from services.research.coauthor_graph import MAX_AUTHORS_PER_WORK
from services.research.collaborators import (
    MAX_FRONTIER,
    MAX_PAIRS_PER_COAUTHOR,
    MAX_TOPICS_COUNTED,
    CloseCollaborator,
    Collaborators,
    CollaboratorService,
    Limits,
    Person,
    SearchStats,
    Suggestion,
    adamic_adar,
    blended,
    contenders,
)
from services.research.demo import DemoService
from tests.slack_support import SlackDriver, all_text, buttons, more_buttons
from tests.store_support import StoreBuilder


@pytest.fixture
def store(engine: Engine) -> StoreBuilder:
    return StoreBuilder(engine, prefix="collab")


def _suggested(engine: Engine, researcher_id: int) -> list[str]:
    found = CollaboratorService(engine).collaborators(researcher_id)
    assert found is not None
    return [s.name for s in found.suggestions]


# Ranking ---------------------------------------------------------------------------------


def test_tom_goldstein_is_samyadeep_basus_first_suggestion(engine: Engine) -> None:
    DemoService(engine).load()
    found = CollaboratorService(engine).find("Samyadeep Basu").result
    assert found is not None
    assert [(c.name, c.shared_works) for c in found.close] == [
        ("Soheil Feizi", 2),
        ("Phillip Pope", 1),
        ("Xuchen You", 1),
    ]
    first = found.suggestions[0]
    assert first.name == "Tom Goldstein"
    assert [p.name for p in first.shared_coauthors] == ["Soheil Feizi", "Phillip Pope"]
    # Co-authors are never suggested; everyone else in reach is, up to five.
    assert len(found.suggestions) == 5
    assert not {s.name for s in found.suggestions} & {"Soheil Feizi", "Phillip Pope", "Xuchen You"}


def test_more_shared_coauthors_rank_higher(engine: Engine, store: StoreBuilder) -> None:
    me, a, b, two, one = store.researchers(["Me", "Ann", "Ben", "Two Shared", "One Shared"])
    store.works([[me, a], [me, b], [a, two], [b, two], [a, one]])
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None
    assert [s.name for s in found.suggestions] == ["Two Shared", "One Shared"]
    assert found.suggestions[0].shared_coauthor_count == 2
    assert found.suggestions[0].link_score > found.suggestions[1].link_score


def test_a_shared_coauthor_who_writes_with_everyone_counts_for_less(
    engine: Engine, store: StoreBuilder
) -> None:
    me, quiet, busy, via_quiet, via_busy, *crowd = store.researchers(
        ["Me", "Quiet", "Busy", "Via Quiet", "Via Busy", *(f"Crowd {i}" for i in range(20))]
    )
    store.works([[me, quiet], [me, busy], [quiet, via_quiet], [busy, via_busy], *([busy, c] for c in crowd)])
    assert _suggested(engine, me)[0] == "Via Quiet"


def test_ties_are_broken_by_folded_name_then_id(engine: Engine, store: StoreBuilder) -> None:
    me, hub = store.researchers(["Me", "Hub"])
    zoe, emile, adam, twin_1, twin_2 = store.researchers(["Zoe", "Émile", "adam", "Twin", "Twin"])
    store.works([[me, hub], *([hub, x] for x in (zoe, emile, adam, twin_2, twin_1))])
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None
    assert [(s.name, s.id) for s in found.suggestions] == [
        ("adam", adam),
        ("Émile", emile),
        ("Twin", twin_1),
        ("Twin", twin_2),
        ("Zoe", zoe),
    ]
    # The same store gives the same order every time.
    assert _suggested(engine, me) == [s.name for s in found.suggestions]


def test_open_to_collaborate_comes_first(engine: Engine, store: StoreBuilder) -> None:
    me, a, b = store.researchers(["Me", "Ann", "Ben"])
    (closed,) = store.researchers(["Closed Strong"], open_to_collaborate=False)
    (open_,) = store.researchers(["Open Weak"])
    store.works([[me, a], [me, b], [a, closed], [b, closed], [a, open_]])
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None
    assert [(s.name, s.open_to_collaborate) for s in found.suggestions] == [
        ("Open Weak", True),
        ("Closed Strong", False),
    ]
    assert found.suggestions[1].score > found.suggestions[0].score


def test_shared_topics_are_blended_in_and_named(engine: Engine, store: StoreBuilder) -> None:
    me, a, plain, topical = store.researchers(["Me", "Ann", "Plain", "Topical"])
    store.works([[me, a], [a, plain], [a, topical]])
    store.topics({me: ["Graph Mining", "Robustness"], topical: ["Robustness"], plain: ["Astronomy"]})
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None
    top, other = found.suggestions
    assert (top.name, top.shared_topics) == ("Topical", ("Robustness",))
    assert other.shared_topics == ()
    assert top.link_score == other.link_score and top.score > other.score
    text = all_text(collaborators_message(found).payload())
    assert "1 shared co-author: Ann · shared topic Robustness" in text


def test_big_collaborations_are_left_out_of_suggestions(engine: Engine, store: StoreBuilder) -> None:
    me, colleague, far, *crowd = store.researchers(
        ["Me", "Big Colleague", "Far Away", *(f"Physicist {i}" for i in range(MAX_AUTHORS_PER_WORK))]
    )
    store.works([[me, colleague, *crowd]])  # 27 authors: over the cap
    store.works([[colleague, far]])
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None
    # Still on the close list (it counts every work), but the big paper links nobody onwards.
    assert found.close_total == MAX_AUTHORS_PER_WORK + 1
    assert found.suggestions == ()
    assert found.stats.frontier == 0


def test_close_collaborators_show_the_top_ten_with_counts_and_how_many_more(
    engine: Engine, store: StoreBuilder
) -> None:
    me, *others = store.researchers(["Me", *(f"Coauthor {i:02d}" for i in range(12))])
    bylines = [[me, other] for i, other in enumerate(others) for _ in range(1 + i % 3)]
    store.works(bylines)
    found = CollaboratorService(engine).collaborators(me)
    assert found is not None and found.close_total == 12
    assert [c.shared_works for c in found.close] == [3, 3, 3, 3, 2, 2, 2, 2, 1, 1]
    assert [c.name for c in found.close[:4]] == ["Coauthor 02", "Coauthor 05", "Coauthor 08", "Coauthor 11"]
    text = all_text(collaborators_message(found).payload())
    assert "• Coauthor 02 · 3 shared works" in text and "and 2 more" in text


def test_a_hub_loads_a_bounded_neighbourhood_and_keeps_the_right_top_result(
    engine: Engine, store: StoreBuilder
) -> None:
    hub, target = store.researchers(["Hub Researcher", "Target Candidate"])
    strong = store.researchers([f"Strong {i}" for i in range(5)])
    fillers = store.researchers([f"Filler {i:03d}" for i in range(MAX_FRONTIER + 20)])
    pool = store.researchers([f"Pool {i:04d}" for i in range(2000)])
    store.works([[hub, s] for s in strong for _ in range(3)] + [[s, target] for s in strong])
    store.works([[hub, f] for f in fillers])
    # Each filler wrote with 250 of the pool (25 works of 11): far more 2-hop pairs than the cap.
    store.works(
        [
            [f, *(pool[(j * 37 + w * 10 + k) % len(pool)] for k in range(10))]
            for j, f in enumerate(fillers)
            for w in range(25)
        ]
    )
    capped = CollaboratorService(engine).collaborators(hub)
    assert capped is not None
    assert capped.stats.capped
    assert capped.stats.frontier == MAX_FRONTIER
    assert capped.stats.pairs_loaded <= MAX_FRONTIER * MAX_PAIRS_PER_COAUTHOR
    assert capped.stats.candidates >= 1000
    assert capped.suggestions[0].name == "Target Candidate"
    assert capped.suggestions[0].shared_coauthor_count == 5
    unbounded = CollaboratorService(
        engine, limits=Limits(max_frontier=10**6, max_pairs_per_coauthor=10**9)
    ).collaborators(hub)
    assert unbounded is not None
    assert unbounded.stats.pairs_loaded > MAX_FRONTIER * MAX_PAIRS_PER_COAUTHOR  # what the caps saved
    assert unbounded.suggestions[0].name == capped.suggestions[0].name


def test_link_scores_are_networkx_adamic_adar_on_the_ego_network() -> None:
    rng = random.Random(5)
    me, frontier = 0, list(range(1, 16))
    pairs = sorted(
        {(z, rng.randrange(1, 60)) for z in frontier for _ in range(12)} - {(z, z) for z in frontier}
    )
    candidates, link, common = adamic_adar(me, frontier, pairs, exclude=set(frontier))
    graph = nx.Graph([(me, z) for z in frontier] + pairs)
    expected = {c: round(p, 9) for _, c, p in nx.adamic_adar_index(graph, [(me, c) for c in candidates])}
    assert candidates == sorted(set(graph) - {me, *frontier})
    assert link == expected
    assert all(common[c] == set(graph[me]) & set(graph[c]) for c in candidates)


def test_topics_are_read_only_for_candidates_who_can_still_make_the_list() -> None:
    # Two wanted; topics add at most 1.5: the second best link is 4.5, so a 2.5 cannot catch up.
    pool = [1, 2, 3, 4, 5, 6, 7]
    link = {1: 5.0, 2: 4.5, 3: 4.0, 4: 3.0, 5: 2.5, 6: 9.0, 7: 1.0}
    is_open = {c: c != 6 for c in pool}  # 6 is not open to collaborate: every open one comes first
    assert contenders(pool, link, is_open, wanted=2) == [1, 2, 3, 4]
    is_open = {c: c in (6, 7) for c in pool}  # one open (7): one place left among the rest
    assert contenders(pool, link, is_open, wanted=2) == [6, 7]


@pytest.mark.parametrize("seed", range(60))
def test_a_candidate_left_unscored_could_not_win_whatever_the_topics(seed: int) -> None:
    rng = random.Random(seed)
    pool = list(range(1, rng.randrange(2, 80)))
    # Link scores on a 0.5 grid: many ties, and candidates exactly one full topic bonus apart.
    link = {c: rng.randrange(0, 9) / 2 for c in pool}
    is_open = {c: rng.random() < rng.choice([0.05, 0.5, 0.9]) for c in pool}
    wanted = rng.randrange(1, 8)
    kept = contenders(pool, link, is_open, wanted)
    if sum(is_open.values()) >= wanted:
        assert all(is_open[c] for c in kept)
    for out in set(pool) - set(kept):
        # The best case for `out`: every topic counted, nobody else sharing one, and every tie
        # after the score (shared co-authors, name) going its way. It still does not make it.
        def best_case(c: int, out: int = out) -> tuple[bool, float, bool]:
            return (not is_open[c], -blended(link[c], MAX_TOPICS_COUNTED if c == out else 0), c != out)

        assert out not in sorted(pool, key=best_case)[:wanted]


def test_each_coauthor_contributes_only_their_strongest_ties(engine: Engine, store: StoreBuilder) -> None:
    me, prolific = store.researchers(["Me", "Prolific"])
    once = store.researchers([f"Once {i:03d}" for i in range(MAX_PAIRS_PER_COAUTHOR)])
    twice = store.researchers([f"Twice {i:03d}" for i in range(MAX_PAIRS_PER_COAUTHOR)])
    store.works(
        [[me, prolific], *([prolific, o] for o in once), *([prolific, t] for t in twice for _ in "ab")]
    )
    found = CollaboratorService(engine, limits=Limits(suggestions=10**3)).collaborators(me)
    assert found is not None and found.stats.capped
    # Prolific's own strongest ties fill the cap (their tie to Me among them: 1 work, like Once).
    assert {s.name for s in found.suggestions} == {f"Twice {i:03d}" for i in range(MAX_PAIRS_PER_COAUTHOR)}


# In Slack --------------------------------------------------------------------------------


def test_collaborators_reply_with_reasons_and_view_profile(driver: SlackDriver) -> None:
    driver.command("collaborators Samyadeep Basu")
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "Collaborators of Samyadeep Basu" in text
    assert "*Close collaborators* · 3 co-authors, most shared works first" in text
    assert (
        "• Soheil Feizi · 2 shared works\n• Phillip Pope · 1 shared work\n• Xuchen You · 1 shared work"
        in text
    )
    assert text.index("*Tom Goldstein*") < text.index("*Aounon Kumar*")
    assert "*Tom Goldstein* · Open to collaborate\n2 shared co-authors: Soheil Feizi, Phillip Pope" in text
    assert within_limits(reply["blocks"])
    blocks = reply["blocks"]
    at = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text", "").startswith("*Tom"))
    view, follow = blocks[at + 1]["elements"]  # unclaimed: no Invite button
    assert (view["text"]["text"], follow["text"]["text"]) == ("View profile", "Follow")
    assert view["action_id"] == Action.VIEW_PROFILE_NEW_MESSAGE
    driver.press(view["action_id"], view["value"])
    card = driver.last_reply()
    assert card["replace_original"] is False  # the suggestions stay
    assert "Tom Goldstein" in all_text(card) and "Trust " in all_text(card)


def test_the_card_collaborators_button_answers_below_the_card(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    button = more_buttons(driver, driver.last_reply())["Collaborators"]
    driver.press(button["action_id"], button["value"])
    reply = driver.last_reply()
    assert reply["replace_original"] is False
    assert "2 shared co-authors: Soheil Feizi, Phillip Pope" in all_text(reply)


@pytest.fixture
def reach(runtime: Runtime) -> None:
    store = StoreBuilder(runtime.services.engine, prefix="reach")
    lonely, partner, _alone = store.researchers(["Lonely Researcher", "Only Partner", "Quite Alone"])
    store.works([[lonely, partner]])


@pytest.mark.usefixtures("reach")
def test_nobody_in_reach_says_so_and_offers_to_widen_the_net(driver: SlackDriver) -> None:
    driver.command("collaborators Lonely Researcher")
    reply = driver.last_reply()
    text = all_text(reply)
    assert "Nobody in the store is two co-authorship steps from Lonely Researcher" in text
    assert "bzpeer import" in text
    lookup = buttons(reply)["Look up on OpenAlex"]
    assert lookup["action_id"] == Action.OPENALEX_LOOKUP
    assert lookup["value"] == '{"q":"Only Partner"}'


@pytest.mark.usefixtures("reach")
def test_no_coauthors_at_all_says_so(driver: SlackDriver) -> None:
    driver.command("collaborators Quite Alone")
    text = all_text(driver.last_reply())
    assert "No co-authors of Quite Alone are in the store yet." in text
    assert "has nobody in reach yet" in text


def test_edited_collaborator_buttons_are_refused_politely(driver: SlackDriver) -> None:
    driver.press(Action.COLLABORATORS, '{"r": "x"}')
    assert "That button is out of date" in all_text(driver.last_reply())
    driver.press(Action.VIEW_PROFILE_NEW_MESSAGE, '{"r": 99999}')
    assert "no longer in the store" in all_text(driver.last_reply())


def test_worst_case_collaborators_fit_and_are_escaped() -> None:
    long = "<!channel> & " + "Ü" * 3000
    people = tuple(Person(i, long) for i in range(10))
    found = Collaborators(
        researcher_id=1,
        researcher_name=long,
        close=tuple(CloseCollaborator(i, long, 10_000, None) for i in range(10)),
        close_total=99_999,
        suggestions=tuple(
            Suggestion(
                id=i,
                name=long,
                affiliation=long,
                open_to_collaborate=bool(i % 2),
                score=1.0,
                link_score=1.0,
                shared_coauthors=people,
                shared_coauthor_count=500,
                shared_topics=(long,) * 10,
            )
            for i in range(2, 7)
        ),
        stats=SearchStats(frontier=100, pairs_loaded=20_000, candidates=5000, capped=True),
    )
    payload = collaborators_message(found).payload()
    assert within_limits(payload["blocks"])
    assert "<!channel>" not in all_text(payload)


def test_the_card_names_the_four_strongest_co_authors_and_the_list_keeps_everyone(
    runtime: Runtime, store: StoreBuilder
) -> None:
    me, ada, bo, cy, di, ed, zed = store.researchers(["Me Myself", "Ada", "Bo", "Cy", "Di", "Ed", "Zed"])
    store.works([[me, zed, bo], [me, zed], [me, cy], [me, di, ed], [me, ada]], type="preprint")
    # Two big collaborations with Ed: shared works, but they say nothing about who works closely.
    store.works([[me, ed], [me, ed]], author_count=MAX_AUTHORS_PER_WORK + 1)
    profile = runtime.services.profiles.profile(me)
    assert profile is not None
    # Most shared works with at most MAX_AUTHORS_PER_WORK authors; then name (Ed has one such).
    assert [c.name for c in profile.close_collaborators] == ["Zed", "Ada", "Bo", "Cy"]
    assert [c.shared_works for c in profile.close_collaborators] == [2, 1, 1, 1]
    assert profile.collaborators_count == 4
    assert profile.works_count == 7  # the card's works count keeps the big ones
    listed = runtime.services.collaborators.collaborators(me)
    assert listed is not None and listed.close_total == 6 and len(listed.close) == 6
    assert (listed.close[0].name, listed.close[0].shared_works) == ("Ed", 3)  # every work counts there
