"""`/peer graph`: the neighbourhood picture, sent privately to whoever asked; Share in channel
posts it where they asked, saying who shared it."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack
from handlers.ids import Action
from handlers.values import GraphShareValue
from services.research.collaborators import CollaboratorService
from services.research.demo import DemoService
from services.research.graph_picture import GraphPictureService
from tests.slack_support import SlackDriver, all_text, buttons, press
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
    button = buttons(driver.last_reply())["Research graph"]
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
    share_card = buttons(driver.last_reply())["Share in channel"]
    driver.press(share_card["action_id"], share_card["value"])
    shared = driver.last_reply()
    assert shared["response_type"] == "in_channel"
    graph = buttons(shared)["Research graph"]
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
    graph = buttons(driver.last_reply())["Research graph"]
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
    pictures = GraphPictureService(CollaboratorService(engine))
    first, second = (pictures.find("Samyadeep Basu").result for _ in range(2))
    assert first is not None and second is not None
    assert first.nodes == second.nodes
    assert first.png == second.png
    kinds = {node.name: node.kind for node in first.nodes}
    assert kinds["Samyadeep Basu"] == "researcher"
    assert kinds["Soheil Feizi"] == kinds["Phillip Pope"] == kinds["Xuchen You"] == "close"
    assert kinds["Tom Goldstein"] == "suggested"
    # The researcher in the middle, co-authors on the inner ring, suggestions on the outer one.
    radius = {node.name: round((node.x**2 + node.y**2) ** 0.5, 6) for node in first.nodes}
    assert radius["Samyadeep Basu"] == 0 and radius["Soheil Feizi"] == 1 and radius["Tom Goldstein"] == 2


def test_odd_names_and_empty_neighbourhoods_still_draw(engine: Engine) -> None:
    store = StoreBuilder(engine, prefix="odd")
    me, other, alone = store.researchers(["$x^2$ Dollar", "王小明 " + "長" * 80, "Solo Scholar"])
    store.works([[me, other]])
    pictures = GraphPictureService(CollaboratorService(engine))
    for rid in (me, alone):
        picture = pictures.picture(rid)
        assert picture is not None
        assert picture.png.startswith(PNG_SIGNATURE)
        assert len(picture.alt_text) <= 1000
    solo = pictures.picture(alone)
    assert solo is not None and "No co-authors in the store" in solo.alt_text
    assert pictures.picture(10**9) is None
