"""`/peer graph`: the neighbourhood picture, sent privately to whoever asked; Share in channel
posts it where they asked, saying who shared it."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack
from handlers.ids import Action
from handlers.values import GraphShareValue
from services.research.collaborators import (
    CloseCollaborator,
    Collaborators,
    Person,
    SearchStats,
    Suggestion,
)
from services.research.demo import DemoService
from services.research.graph_layout import (
    AMONG,
    COAUTHOR,
    MAX_COAUTHORS,
    RESEARCHER,
    SUGGESTED,
    TIE,
    TO_SUGGESTION,
    Box,
    GraphEdge,
    edges_of,
    layout,
    neighbourhood_graph,
    overlap,
    spread_labels,
)
from services.research.graph_picture import GraphPictureService, line_width, short_name
from tests.slack_support import SlackDriver, all_text, buttons, more_buttons, press
from tests.store_support import StoreBuilder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _only(local: LocalSlack, method: str) -> dict:
    calls = [c for c in local.calls_to(method) if c.error is None]
    assert len(calls) == 1, [c.params for c in local.calls_to(method)]
    return calls[0].params


def _posted_in_channels(local: LocalSlack) -> list[str]:
    """Every conversation that is not a DM where the app put a message or a file."""
    places = [str(c.params.get("channel_id") or "") for c in local.calls_to("files.completeUploadExternal")]
    places += [str(c.params.get("channel") or "") for c in local.calls_to("chat.postMessage")]
    return [p for p in places if not p.startswith("D")]


def _share_button(reply: dict) -> dict:
    return buttons(reply)["Share in channel"]


def test_graph_goes_to_the_askers_dm_only_with_a_share_button(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    driver.command("graph Samyadeep Basu")
    assert _only(local_slack, "conversations.open")["users"] == "U0ALICE"
    announced = _only(local_slack, "files.getUploadURLExternal")
    assert announced["filename"].endswith(".png")
    assert "Research graph of Samyadeep Basu" in announced["alt_txt"]
    assert "Tom Goldstein" in announced["alt_txt"] and "Soheil Feizi" in announced["alt_txt"]
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"].startswith("D")
    assert "Research graph of *Samyadeep Basu*" in completed["initial_comment"]
    assert "Shared by" not in completed["initial_comment"]
    assert _posted_in_channels(local_slack) == []
    (uploaded,) = local_slack.uploads
    assert uploaded.startswith(PNG_SIGNATURE)
    (stored,) = local_slack.files.values()
    assert stored.completed and stored.channel == completed["channel_id"] and stored.content == uploaded
    assert stored.title == "Research graph: Samyadeep Basu"
    # The asker is told where it went, with the nodes as text, and may share it here.
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "I sent the research graph of Samyadeep Basu to you in a direct message" in text
    assert "• Researcher: Samyadeep Basu" in text
    assert "• Close collaborators: Soheil Feizi (2 shared works), Phillip Pope (1 shared work)" in text
    assert "• Suggested collaborators: Tom Goldstein (2 shared co-authors)" in text
    share = _share_button(reply)
    assert share["action_id"] == Action.GRAPH_SHARE
    value = GraphShareValue.load(share["value"])
    assert value is not None and value.channel_id == "C0GENERAL"


def test_share_posts_the_picture_in_the_channel_saying_who_shared_it(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    driver.command("graph Samyadeep Basu")
    share = _share_button(driver.last_reply())
    local_slack.clear()
    driver.press(share["action_id"], share["value"])
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"] == "C0GENERAL"
    assert completed["initial_comment"] == "Research graph of *Samyadeep Basu*. Shared by <@U0ALICE>"
    assert local_slack.uploads[-1].startswith(PNG_SIGNATURE)
    reply = driver.last_reply()
    assert reply["replace_original"] is True
    assert "You shared the research graph of Samyadeep Basu in this channel." in all_text(reply)
    assert "Share in channel" not in buttons(reply)


def test_the_sharer_is_the_presser_never_the_value(driver: SlackDriver, local_slack: LocalSlack) -> None:
    driver.command("graph Samyadeep Basu")
    share = _share_button(driver.last_reply())
    local_slack.clear()
    driver.press(share["action_id"], share["value"], user_id="U0BOB")
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["initial_comment"].endswith("Shared by <@U0BOB>")


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_share_where_the_bot_is_not_a_member_says_to_invite_it(
    driver: SlackDriver, local_slack: LocalSlack, error: str
) -> None:
    driver.command("graph Samyadeep Basu")
    share = _share_button(driver.last_reply())
    local_slack.clear()
    local_slack.fail_next("files.completeUploadExternal", error=error)
    driver.press(share["action_id"], share["value"])
    assert not [c for c in local_slack.calls_to("files.completeUploadExternal") if c.error is None]
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "I'm not a member of this channel, so I could not share the research graph here" in text
    assert "/invite @bzpeer" in text


@pytest.mark.parametrize(
    "value",
    [
        '{"r": 1, "c": "C0ELSEWHERE"}',  # offered in another channel than the one pressed in
        '{"r": 1, "c": "<!here>"}',
        '{"r": 1}',
        '{"r": 1, "c": "C0GENERAL", "u": "U0MALLORY"}',
        '{"r": 0, "c": "C0GENERAL"}',
    ],
)
def test_a_forged_share_is_refused(driver: SlackDriver, local_slack: LocalSlack, value: str) -> None:
    driver.press(Action.GRAPH_SHARE, value)
    assert not local_slack.calls_to("files.getUploadURLExternal")
    assert not local_slack.calls_to("files.completeUploadExternal")
    assert "That button is out of date" in all_text(driver.last_reply())


def test_other_upload_failures_reach_the_error_handler(driver: SlackDriver, local_slack: LocalSlack) -> None:
    local_slack.fail_next("files.completeUploadExternal", error="file_uploads_disabled")
    driver.command("graph Samyadeep Basu")
    assert "Something went wrong" in all_text(driver.last_reply())
    assert _posted_in_channels(local_slack) == []


def test_the_card_research_graph_button_sends_it_privately(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    driver.command("Samyadeep Basu")
    button = more_buttons(driver, driver.last_reply())["Research graph"]
    assert button["action_id"] == Action.GRAPH
    driver.press(button["action_id"], button["value"])
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"].startswith("D")
    assert _posted_in_channels(local_slack) == []
    assert local_slack.uploads[0].startswith(PNG_SIGNATURE)
    reply = driver.last_reply()
    assert reply["replace_original"] is False
    assert "to you in a direct message" in all_text(reply)
    assert "Share in channel" in buttons(reply)


def test_research_graph_on_a_shared_card_reaches_only_the_presser(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    driver.command("Samyadeep Basu")
    share_card = more_buttons(driver, driver.last_reply())["Share in channel"]
    driver.press(share_card["action_id"], share_card["value"])
    shared = driver.last_reply()
    assert shared["response_type"] == "in_channel"
    graph = more_buttons(driver, shared)["Research graph"]
    local_slack.clear()
    press(driver, graph, ephemeral=False, user_id="U0BOB")
    assert _only(local_slack, "conversations.open")["users"] == "U0BOB"
    assert _only(local_slack, "files.completeUploadExternal")["channel_id"].startswith("D")
    assert _posted_in_channels(local_slack) == []
    reply = driver.last_reply()
    assert reply["response_type"] == "ephemeral"
    assert "in_channel" not in [r.get("response_type") for r in driver.replies()]


def test_asked_in_the_dm_itself_there_is_nothing_to_share(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    dm = local_slack.api.call("conversations.open", {"users": "U0ALICE"})["channel"]["id"]
    driver.command("Samyadeep Basu")
    graph = more_buttons(driver, driver.last_reply())["Research graph"]
    local_slack.clear()
    press(driver, graph, channel_id=dm)
    assert _only(local_slack, "files.completeUploadExternal")["channel_id"] == dm
    assert "Share in channel" not in buttons(driver.last_reply())


def test_a_pick_list_leads_to_the_graph(driver: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    StoreBuilder(runtime.services.engine, prefix="graph").researchers(["Rahul Basu"])
    driver.command("graph Basu")
    pick = driver.last_reply()
    view = next(
        block["accessory"]
        for block in pick["blocks"]
        if block.get("accessory") and "Samyadeep" in block["text"]["text"]
    )
    assert view["action_id"] == Action.GRAPH
    assert not driver.local.uploads
    driver.press(view["action_id"], view["value"])
    assert driver.local.uploads[0].startswith(PNG_SIGNATURE)
    assert _posted_in_channels(driver.local) == []


def test_the_picture_is_deterministic(engine: Engine) -> None:
    DemoService(engine).load()
    pictures = GraphPictureService(engine)
    first, second = (pictures.find("Samyadeep Basu").result for _ in range(2))
    assert first is not None and second is not None
    assert first.nodes == second.nodes and first.edges == second.edges
    assert first.png == second.png
    kinds = {node.name: node.kind for node in first.nodes}
    assert kinds["Samyadeep Basu"] == RESEARCHER
    assert kinds["Soheil Feizi"] == kinds["Phillip Pope"] == kinds["Xuchen You"] == COAUTHOR
    assert kinds["Tom Goldstein"] == SUGGESTED
    # The researcher in the middle, the rest filling the picture.
    at = {node.name: node for node in first.nodes}
    assert (at["Samyadeep Basu"].x, at["Samyadeep Basu"].y) == (0, 0)
    assert all(-1 <= n.x <= 1 and -1 <= n.y <= 1 for n in first.nodes)
    assert max(abs(n.x) for n in first.nodes) == max(abs(n.y) for n in first.nodes) == 1


def _person(rid: int, works: int) -> CloseCollaborator:
    return CloseCollaborator(id=rid, name=f"Person {rid}", shared_works=works, openalex_id=None)


def _suggestion(rid: int, *via: int) -> Suggestion:
    return Suggestion(
        id=rid,
        name=f"Suggested {rid}",
        affiliation=None,
        open_to_collaborate=True,
        score=1.0,
        link_score=1.0,
        shared_coauthors=tuple(Person(v, f"Person {v}") for v in via),
        shared_coauthor_count=len(via),
        shared_topics=(),
    )


def _collaborators(close: list[CloseCollaborator], suggestions: list[Suggestion]) -> Collaborators:
    return Collaborators(
        researcher_id=1,
        researcher_name="Centre",
        close=tuple(close),
        close_total=len(close),
        suggestions=tuple(suggestions),
        stats=SearchStats(frontier=len(close), pairs_loaded=0, candidates=len(suggestions), capped=False),
    )


def test_coauthors_are_linked_to_each_other_as_wide_as_their_shared_works() -> None:
    found = _collaborators([_person(2, 5), _person(3, 2), _person(4, 1)], [_suggestion(9, 3)])
    links = [(1, 2, 4), (1, 3, 2), (2, 3, 3), (3, 4, 1), (3, 9, 2), (4, 9, 1), (9, 10, 7), (2, 77, 5)]
    graph = neighbourhood_graph(found, links)
    assert graph.nodes[1]["kind"] == RESEARCHER
    assert {n for n, kind in graph.nodes(data="kind") if kind == COAUTHOR} == {2, 3, 4}
    assert graph.nodes[9]["kind"] == SUGGESTED
    # The researcher's ties are as wide as the close list's count of shared works (all works).
    assert [graph.edges[1, c]["works"] for c in (2, 3, 4)] == [5, 2, 1]
    assert {graph.edges[1, c]["kind"] for c in (2, 3, 4)} == {TIE}
    # Co-authors who wrote together are linked, as wide as their shared works.
    assert graph.edges[2, 3] == {"works": 3, "kind": AMONG}
    assert graph.edges[3, 4] == {"works": 1, "kind": AMONG}
    assert not graph.has_edge(2, 4)
    # A suggestion is linked to the co-authors it shares; people outside the picture are not drawn.
    assert graph.edges[3, 9] == {"works": 2, "kind": TO_SUGGESTION}
    assert graph.edges[4, 9] == {"works": 1, "kind": TO_SUGGESTION}
    assert 10 not in graph and 77 not in graph
    edges = edges_of(graph)
    assert GraphEdge(2, 3, 3, AMONG) in edges and GraphEdge(1, 2, 5, TIE) in edges
    assert line_width(5) > line_width(2) > line_width(1)


def test_at_most_25_coauthors_and_every_suggestion_keeps_its_bridge() -> None:
    close = [_person(rid, 100 - rid) for rid in range(2, 42)]  # 40 co-authors, strongest first
    found = _collaborators(close, [_suggestion(500, 41), _suggestion(501, 3)])
    links = [(41, 500, 1), (3, 501, 2), (2, 3, 1)]
    graph = neighbourhood_graph(found, links)
    drawn = {n for n, kind in graph.nodes(data="kind") if kind == COAUTHOR}
    assert len(drawn) == MAX_COAUTHORS
    assert 41 in drawn and 3 in drawn  # the weakest co-author stays: it links a suggestion in
    assert drawn - {41} == set(range(2, 26))
    assert graph.has_edge(41, 500) and graph.has_edge(3, 501)
    positions = layout(graph, 1)
    assert positions[1] == (0.0, 0.0)
    assert all(-1 <= x <= 1 and -1 <= y <= 1 for x, y in positions.values())


def test_the_store_gives_the_picture_its_coauthor_links(engine: Engine) -> None:
    store = StoreBuilder(engine, prefix="links")
    me, ann, bob, cy, dee = store.researchers(["Me Centre", "Ann Able", "Bob Baker", "Cy Cole", "Dee Dunn"])
    store.works([[me, ann, bob], [me, ann, bob], [me, ann], [me, cy], [bob, dee], [cy, dee]])
    picture = GraphPictureService(engine).picture(me)
    assert picture is not None
    kinds = {n.id: n.kind for n in picture.nodes}
    assert kinds == {me: RESEARCHER, ann: COAUTHOR, bob: COAUTHOR, cy: COAUTHOR, dee: SUGGESTED}
    assert set(picture.edges) == {
        GraphEdge(me, ann, 3, TIE),
        GraphEdge(me, bob, 2, TIE),
        GraphEdge(me, cy, 1, TIE),
        GraphEdge(ann, bob, 2, AMONG),
        GraphEdge(bob, dee, 1, TO_SUGGESTION),
        GraphEdge(cy, dee, 1, TO_SUGGESTION),
    }
    assert "1 link between co-authors who wrote together" in picture.alt_text


def test_labels_are_pushed_apart_until_none_overlaps() -> None:
    # 25 labels piled on one spot and a node in the middle of them.
    labels = [Box(0.1, 0.0, 0.5, 0.06) for _ in range(25)]
    node = Box(0.0, 0.0, 0.05, 0.05)
    placed = spread_labels(labels, [node], limit=1.2, pad=0.01)
    for i, a in enumerate(placed):
        assert a.x - a.width / 2 >= -1.2 and a.x + a.width / 2 <= 1.2
        assert a.y - a.height / 2 >= -1.2 and a.y + a.height / 2 <= 1.2
        assert min(overlap(a, node)) <= 0
        for b in placed[i + 1 :]:
            assert min(overlap(a, b)) <= 0, (a, b)


def test_long_names_are_shortened_for_labels() -> None:
    assert short_name("Samyadeep Basu") == "Samyadeep Basu"
    assert short_name("Anneliese Marguerite Abernathy-Castellanos") == "A. Abernathy-Castella…"
    assert short_name("Lakshminarayanan Venkatasubramanian") == "L. Venkatasubramanian"
    assert short_name("Viktor von Hohenzollern-Sigmaringen") == "V. Hohenzollern-Sigma…"
    assert all(len(short_name(n)) <= 22 for n in ("x" * 80, "a " * 40, "王小明 " + "長" * 80))


def test_odd_names_and_empty_neighbourhoods_still_draw(engine: Engine) -> None:
    store = StoreBuilder(engine, prefix="odd")
    me, other, alone = store.researchers(["$x^2$ Dollar", "王小明 " + "長" * 80, "Solo Scholar"])
    store.works([[me, other]])
    pictures = GraphPictureService(engine)
    for rid in (me, alone):
        picture = pictures.picture(rid)
        assert picture is not None
        assert picture.png.startswith(PNG_SIGNATURE)
        assert len(picture.alt_text) <= 1000
    solo = pictures.picture(alone)
    assert solo is not None and "No co-authors in the store" in solo.alt_text
    assert [n.kind for n in solo.nodes] == [RESEARCHER] and solo.edges == ()
    assert pictures.picture(10**9) is None
