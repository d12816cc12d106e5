"""`/peer graph`: the neighbourhood picture, uploaded to the channel or, failing that, a DM."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack
from handlers.ids import Action
from services.research.collaborators import CollaboratorService
from services.research.demo import DemoService
from services.research.graph_picture import GraphPictureService
from tests.slack_support import SlackDriver, all_text, buttons
from tests.store_support import StoreBuilder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _only(local: LocalSlack, method: str) -> dict:
    calls = [c for c in local.calls_to(method) if c.error is None]
    assert len(calls) == 1, [c.params for c in local.calls_to(method)]
    return calls[0].params


def test_graph_is_uploaded_to_the_channel_as_a_png_with_alt_text(
    driver: SlackDriver, local_slack: LocalSlack
) -> None:
    driver.command("graph Samyadeep Basu")
    announced = _only(local_slack, "files.getUploadURLExternal")
    assert announced["filename"].endswith(".png")
    assert "Research graph of Samyadeep Basu" in announced["alt_txt"]
    assert "Tom Goldstein" in announced["alt_txt"] and "Soheil Feizi" in announced["alt_txt"]
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"] == "C0GENERAL"
    assert "Research graph of *Samyadeep Basu*" in completed["initial_comment"]
    (uploaded,) = local_slack.uploads
    assert uploaded.startswith(PNG_SIGNATURE)
    (stored,) = local_slack.files.values()
    assert stored.completed and stored.channel == "C0GENERAL" and stored.content == uploaded
    assert stored.title == "Research graph: Samyadeep Basu"
    # The user is told where it went, with the nodes as text.
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "The research graph of Samyadeep Basu is posted in this channel." in text
    assert "• Researcher: Samyadeep Basu" in text
    assert "• Close collaborators: Soheil Feizi (2 shared works), Phillip Pope (1 shared work)" in text
    assert "• Suggested collaborators: Tom Goldstein (2 shared co-authors)" in text


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_outside_the_channel_the_graph_goes_to_a_dm(
    driver: SlackDriver, local_slack: LocalSlack, error: str
) -> None:
    local_slack.fail_next("files.completeUploadExternal", error=error)
    driver.command("graph Samyadeep Basu")
    opened = _only(local_slack, "conversations.open")
    assert opened["users"] == "U0ALICE"
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"].startswith("D")
    shared = [f for f in local_slack.files.values() if f.completed]
    assert len(shared) == 1 and shared[0].channel == completed["channel_id"]
    assert shared[0].content is not None and shared[0].content.startswith(PNG_SIGNATURE)
    text = all_text(driver.last_reply())
    assert "I'm not a member of this channel, so I sent the research graph of Samyadeep Basu" in text
    assert "direct message" in text and "Tom Goldstein" in text


def test_other_upload_failures_reach_the_error_handler(driver: SlackDriver, local_slack: LocalSlack) -> None:
    local_slack.fail_next("files.completeUploadExternal", error="file_uploads_disabled")
    driver.command("graph Samyadeep Basu")
    assert not local_slack.calls_to("conversations.open")
    assert "Something went wrong" in all_text(driver.last_reply())


def test_the_card_research_graph_button_uploads_too(driver: SlackDriver, local_slack: LocalSlack) -> None:
    driver.command("Samyadeep Basu")
    button = buttons(driver.last_reply())["Research graph"]
    assert button["action_id"] == Action.GRAPH
    driver.press(button["action_id"], button["value"])
    completed = _only(local_slack, "files.completeUploadExternal")
    assert completed["channel_id"] == "C0GENERAL"
    assert local_slack.uploads[0].startswith(PNG_SIGNATURE)
    reply = driver.last_reply()
    assert reply["replace_original"] is False
    assert "posted in this channel" in all_text(reply)


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
    assert not local_uploads(driver)
    driver.press(view["action_id"], view["value"])
    assert local_uploads(driver)[0].startswith(PNG_SIGNATURE)


def local_uploads(driver: SlackDriver) -> list[bytes]:
    return driver.local.uploads


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
