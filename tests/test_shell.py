"""The local shell drives a real Bolt app with signed Slack payloads and renders the replies."""

from __future__ import annotations

import builtins
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.local.block_render import mrkdwn, render_blocks
from bot.local.modals import modal_inputs, submitted_view
from bot.local.shell import LocalShell, RenderedMessage, ShellButton, local_authorize, run_one
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack
from handlers.digests.schedule import read_schedule_form
from handlers.digests.schedule_blocks import schedule_modal
from handlers.ids import ScheduleInput
from services.digests.follow_views import DigestSettings
from services.digests.schedule import DigestPrefs

SECRET = "shell-test-secret"
OPENALEX = "https://openalex.org/A5023888391"


def profile_blocks() -> list[Any]:
    return [
        HeaderBlock(text="Ada Lovelace"),
        SectionBlock(text="*Trust 42* · _MODERATE_ · <https://orcid.org/0000|ORCID> &amp; more"),
        SectionBlock(
            fields=[
                MarkdownTextObject(text="*Works*\n12"),
                MarkdownTextObject(text="*Followers*\n3"),
            ]
        ),
        ContextBlock(elements=[MarkdownTextObject(text="Verification L1 · Unclaimed author")]),
        DividerBlock(),
        ImageBlock(image_url="https://example.org/a.png", alt_text="trust gauge"),
        ActionsBlock(
            block_id="profile_actions",
            elements=[
                ButtonElement(text="Why this score?", action_id="why", value="A1"),
                ButtonElement(text="Share in channel", action_id="share", value="A1"),
                ButtonElement(text="Open OpenAlex", url=OPENALEX),
            ],
        ),
    ]


def invite_modal() -> View:
    return View(
        type="modal",
        callback_id="invite",
        title="Invite",
        submit="Send",
        blocks=[
            InputBlock(
                block_id="note",
                label="Note",
                element=PlainTextInputElement(action_id="note_input"),
            ),
            InputBlock(
                block_id="role",
                label="Role",
                element=StaticSelectElement(
                    action_id="role_select",
                    options=[Option(text="Lead", value="lead"), Option(text="Peer", value="peer")],
                ),
            ),
        ],
    )


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    with LocalSlack(users=[SlackUser("U0LOCAL", "T0LOCAL", "you", "You There")]) as server:
        yield server


@pytest.fixture
def received() -> list[dict[str, Any]]:
    """Every request body the app's listeners saw."""
    return []


@pytest.fixture
def app(local: LocalSlack, received: list[dict[str, Any]]) -> App:
    bolt = App(
        signing_secret=SECRET,
        client=WebClient(base_url=local.url),
        authorize=local_authorize,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @bolt.command("/peer")
    def peer(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        received.append(body)
        if body["text"] == "modal":
            client.views_open(trigger_id=body["trigger_id"], view=invite_modal())
        elif body["text"] == "quick":
            return
        else:
            respond(text="Ada Lovelace", blocks=profile_blocks())

    @bolt.action("why")
    def why(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        received.append(body)
        respond(
            replace_original=True,
            text="Trust 42",
            blocks=[SectionBlock(text="*Trust 42*: ORCID +20, OpenAlex +22")],
        )

    @bolt.action("share")
    def share(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        received.append(body)
        channel = body["channel"]["id"]
        again = ButtonElement(text="Why this score?", action_id="why", value="A1")
        client.chat_postMessage(
            channel=channel,
            text="Ada Lovelace (shared)",
            blocks=[SectionBlock(text="Shared: *Ada Lovelace*"), ActionsBlock(elements=[again])],
        )
        client.files_upload_v2(content=b"\x89PNG graph", filename="graph.png", title="Graph", channel=channel)

    @bolt.view("invite")
    def invite(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        if not values["note"]["note_input"]["value"]:
            ack(response_action="errors", errors={"note": "Say hello first"})
            return
        ack()
        received.append(body)
        role = values["role"]["role_select"]["selected_option"]["value"]
        client.chat_postMessage(channel=body["user"]["id"], text=f"Invitation sent as {role}")

    @bolt.command("/more")
    def more(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        home = View(type="home", blocks=[SectionBlock(text="*Your follows*: 3")])
        client.views_publish(user_id=body["user_id"], view=home)
        client.chat_postEphemeral(channel=body["channel_id"], user="U0BOB", text="psst, Bob")
        pick = StaticSelectElement(
            action_id="pick",
            placeholder="Digest",
            options=[Option(text="Daily", value="daily"), Option(text="Weekly", value="weekly")],
        )
        edit = ButtonElement(text="Edit", action_id="edit")
        remove = ButtonElement(text="Remove", action_id="remove", style="danger")
        respond(
            text="Settings",
            response_type="in_channel",
            blocks=[SectionBlock(text="Settings"), ActionsBlock(elements=[pick, edit, remove])],
        )

    @bolt.action("pick")
    def pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        received.append(body)
        respond(text=f"Digest: {action['selected_option']['value']}", replace_original=False)

    @bolt.action("edit")
    def edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["container"]["message_ts"], text="Edited")

    @bolt.action("remove")
    def remove(ack: Ack, respond: Respond) -> None:
        ack()
        respond(delete_original=True)

    def slow_ack(ack: Ack) -> None:
        ack("Working on it…")

    def slow_reply(respond: Respond) -> None:
        time.sleep(0.4)  # longer than the settle time: the shell must wait for the lazy work
        respond(text="Done after a while")

    bolt.command("/slow")(ack=slow_ack, lazy=[slow_reply])
    return bolt


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=120, color_system=None)


@pytest.fixture
def shell(app: App, local: LocalSlack, console: Console) -> LocalShell:
    return LocalShell(app, local_slack=local, signing_secret=SECRET, console=console)


def output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def test_command_is_signed_and_dispatched_as_slack_sends_it(
    shell: LocalShell, local: LocalSlack, received: list[dict[str, Any]]
) -> None:
    shell.run_command("/peer Ada Lovelace")
    body = received[0]
    assert body["command"] == "/peer"
    assert body["text"] == "Ada Lovelace"
    assert (body["team_id"], body["user_id"], body["channel_id"]) == (
        "T0LOCAL",
        "U0LOCAL",
        "C0LOCAL",
    )
    assert body["response_url"].startswith(local.root + "/response/")
    assert body["trigger_id"]


def test_text_without_the_command_is_sent_to_the_default_command(
    shell: LocalShell, received: list[dict[str, Any]]
) -> None:
    shell.run_command("Ada Lovelace")
    assert (received[0]["command"], received[0]["text"]) == ("/peer", "Ada Lovelace")


def test_reply_is_rendered_as_a_person_sees_it(shell: LocalShell, console: Console) -> None:
    [reply] = shell.run_command("/peer Ada Lovelace")

    assert reply.ephemeral
    lines = reply.text.splitlines()
    assert lines[0] == "(only visible to you)"
    assert "Ada Lovelace" in lines
    assert "Trust 42 · MODERATE · ORCID (https://orcid.org/0000) & more" in lines
    assert any(line.startswith("Works") and "Followers" in line for line in lines)
    assert "Verification L1 · Unclaimed author" in lines
    assert "---" in lines
    assert "[image: trust gauge]" in lines
    assert reply.buttons == [
        ShellButton(1, "Why this score?", "why", "A1", None),
        ShellButton(2, "Share in channel", "share", "A1", None),
        ShellButton(3, "Open OpenAlex", None, None, OPENALEX),
    ]
    printed = output(console)
    assert "[1] Why this score?  [2] Share in channel  [3] Open OpenAlex ↗" in printed
    assert "*Trust 42*" not in printed


def test_pressing_a_number_sends_block_actions_and_renders_the_update(
    shell: LocalShell, local: LocalSlack, received: list[dict[str, Any]]
) -> None:
    shell.run_command("/peer Ada Lovelace")
    [update] = shell.press(1)

    action_body = received[-1]
    assert action_body["type"] == "block_actions"
    [action] = action_body["actions"]
    assert (action["action_id"], action["value"], action["type"]) == ("why", "A1", "button")
    assert action["block_id"] == "profile_actions"
    assert action_body["container"]["is_ephemeral"] is True
    assert "message" not in action_body  # Slack leaves it out for ephemeral messages
    assert action_body["response_url"].startswith(local.root + "/response/")
    assert action_body["user"]["id"] == "U0LOCAL" and action_body["trigger_id"]

    assert update.kind == "update"
    assert update.text.splitlines()[0] == "(only visible to you, message updated)"
    assert "Trust 42: ORCID +20, OpenAlex +22" in update.text
    assert local.calls_to("response_url")[-1].params["replace_original"] is True


def test_url_button_without_action_id_only_prints_its_url(
    shell: LocalShell, console: Console, received: list[dict[str, Any]]
) -> None:
    shell.run_command("/peer Ada Lovelace")
    assert shell.press(3) == []
    assert len(received) == 1
    assert f"Opening in a browser: {OPENALEX}" in output(console)


def test_share_posts_to_the_channel_and_uploads_a_file(
    shell: LocalShell, received: list[dict[str, Any]]
) -> None:
    shell.run_command("/peer Ada Lovelace")
    posted, uploaded = shell.press(2)

    assert not posted.ephemeral
    assert posted.text.splitlines()[0] == "(in #C0LOCAL)"
    assert "Shared: Ada Lovelace" in posted.text
    assert uploaded.kind == "file"
    assert "[file uploaded: graph.png, 10 bytes, to channel C0LOCAL]" in uploaded.text
    saved = Path(uploaded.text.split("saved a copy to ")[1].strip())
    assert saved.read_bytes() == b"\x89PNG graph"

    # Buttons of the new in-channel message are numbered afresh, and Slack includes the
    # source message in the payload because it is not ephemeral.
    assert posted.buttons == [ShellButton(1, "Why this score?", "why", "A1", None)]
    shell.press(1)
    assert received[-1]["message"]["text"] == "Ada Lovelace (shared)"
    assert received[-1]["message"]["blocks"][0]["text"]["text"] == "Shared: *Ada Lovelace*"
    assert received[-1]["container"]["is_ephemeral"] is False


def test_wrong_signature_is_rejected_with_401(
    app: App, local: LocalSlack, console: Console, received: list[dict[str, Any]]
) -> None:
    shell = LocalShell(app, local_slack=local, signing_secret="not-the-secret", console=console)
    assert run_one(shell, "/peer Ada Lovelace") == 1
    assert received == []
    assert 'failed with the error "dispatch_failed" (HTTP 401' in output(console)


def test_run_one_returns_0_on_success_and_1_when_unhandled(shell: LocalShell) -> None:
    assert run_one(shell, "/peer Ada Lovelace") == 0
    assert run_one(shell, "/unknown thing") == 1
    assert run_one(shell, "/peer quick") == 0  # an empty ack is a fine answer


def test_lazy_listener_replies_are_awaited(shell: LocalShell) -> None:
    shown = shell.run_command("/slow")
    assert [m.text.splitlines()[-1] for m in shown] == ["Working on it…", "Done after a while"]


def test_modal_submission_with_errors_then_values(shell: LocalShell, received: list[dict[str, Any]]) -> None:
    [modal] = shell.run_command("/peer modal")
    assert modal.kind == "modal"
    assert modal.text.splitlines()[0] == "(modal opened: Invite)"
    assert "Note: (plain_text_input)" in modal.text
    assert "Role: (static_select) Lead / Peer" in modal.text

    [refused] = shell.submit_modal({})
    assert "Note: Say hello first" in refused.text
    assert shell.screen.modals.top is not None  # still open

    closed, dm = shell.submit_modal({"note_input": "Hello!", "Role": "2"})
    assert closed.text == "(modal closed)"
    assert shell.screen.modals.top is None
    assert "Invitation sent as peer" in dm.text
    assert dm.text.splitlines()[0] == "(direct message from bzpeer)"
    state = received[-1]["view"]["state"]["values"]
    assert state["note"]["note_input"] == {"type": "plain_text_input", "value": "Hello!"}
    assert state["role"]["role_select"]["selected_option"]["value"] == "peer"


def test_repl_reads_commands_and_numbers_until_quit(
    shell: LocalShell, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["help", "/peer Ada Lovelace", "1", "9", "quit"])
    monkeypatch.setattr(builtins, "input", lambda *_: next(lines))
    assert shell.repl() == 0
    printed = output(console)
    assert "press button or option N" in printed
    assert "message updated" in printed
    assert "There is no [9] to press" in printed


def test_repl_ends_on_eof(shell: LocalShell, monkeypatch: pytest.MonkeyPatch) -> None:
    def eof(*_: Any) -> str:
        raise EOFError

    monkeypatch.setattr(builtins, "input", eof)
    assert shell.repl() == 0


def test_mrkdwn_conversion() -> None:
    text = mrkdwn(
        "*bold* _it_ ~gone~ `code` <https://x.org|X> <https://y.org> <@U1> <#C1|general> "
        "<!here> &lt;tag&gt; a*b*c snake_case_name",
        name_of=lambda uid: {"U1": "ada"}.get(uid, uid),
    )
    assert text.plain == (
        "bold it gone code X (https://x.org) https://y.org @ada #general @here <tag> a*b*c snake_case_name"
    )


def test_selects_home_ephemerals_updates_and_deletes(
    shell: LocalShell, local: LocalSlack, received: list[dict[str, Any]]
) -> None:
    local.add_user(SlackUser("U0BOB", "T0LOCAL", "bob", "Bob"))
    home, whisper, settings = shell.run_command("/more")
    assert home.kind == "home" and "Your follows: 3" in home.text
    assert home.text.splitlines()[0] == "(App Home of @you)"
    assert whisper.ephemeral and whisper.text.splitlines()[0] == "(only visible to @bob)"
    assert not settings.ephemeral
    assert [b[:4] for b in settings.buttons] == [
        (1, "Daily", "pick", "daily"),
        (2, "Weekly", "pick", "weekly"),
        (3, "Edit", "edit", None),
        (4, "Remove", "remove", None),
    ]
    assert "Digest: [1] Daily  [2] Weekly  [3] Edit  [4] Remove" in settings.text

    [digest] = shell.press(2)
    [action] = received[-1]["actions"]
    assert action["type"] == "static_select"
    assert action["selected_option"]["value"] == "weekly"
    assert digest.text.endswith("Digest: weekly")

    # The digest reply had no buttons: a number presses nothing stale from the settings message
    # until `:buttons` shows the latest message with buttons again.
    assert shell.screen.prompt_hint == ""
    assert shell.press(3) == []
    assert all(call.method != "response_url" or "Edited" not in str(call.params) for call in local.calls)
    [again] = shell.show_buttons()
    assert again.text.splitlines()[0].startswith("(in #C0LOCAL")
    assert shell.screen.prompt_hint == "buttons 1–4 on: Settings"
    [edited] = shell.press(3)
    assert edited.kind == "update" and edited.text.endswith("Edited")
    assert edited.text.splitlines()[0] == "(in #C0LOCAL, message updated)"


def test_delete_original_removes_the_message(shell: LocalShell) -> None:
    shell.run_command("/more")
    [deleted] = shell.press(4)
    assert (deleted.kind, deleted.text) == ("delete", "(message deleted)")


def test_slack_api_errors_are_shown(shell: LocalShell, local: LocalSlack) -> None:
    shell.run_command("/peer Ada Lovelace")
    local.fail_next("chat.postMessage", error="channel_not_found")
    shown = [m.text for m in shell.press(2)]
    assert shown == [
        "[error] the app answered HTTP 500",  # the listener raised SlackApiError
        "[error] Slack API chat.postMessage → channel_not_found",
    ]
    assert shell.errored


def test_closing_a_modal(shell: LocalShell) -> None:
    shell.run_command("/peer modal")
    [closed] = shell.close_modal()
    assert closed.text == "(modal closed)"
    assert shell.screen.modals.top is None
    assert shell.close_modal() == []


def test_the_shell_user_is_known_to_slack(app: App, console: Console) -> None:
    with LocalSlack() as bare:
        shell = LocalShell(app, local_slack=bare, signing_secret=SECRET, console=console)
        assert shell.screen.name_of("U0LOCAL") == "you"
        user = WebClient(token="xoxb-local", base_url=bare.url).users_info(user="U0LOCAL")
        assert user["user"]["tz"] == "Europe/London"


def test_render_blocks_rich_text_markdown_inputs_and_accessories() -> None:
    blocks = [
        {"type": "markdown", "text": "**Plain** markdown"},
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi "},
                        {"type": "user", "user_id": "U1"},
                        {"type": "link", "url": "https://x.org", "text": "X"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]}],
                },
            ],
        },
        {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "plain_text", "text": "*not bold*"},
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [{"text": {"type": "plain_text", "text": "Mute"}, "value": "mute"}],
            },
        },
        {"type": "video", "title": {"type": "plain_text", "text": "v"}},
    ]
    rendering = render_blocks(blocks, "fallback", first_number=5, name_of=lambda _: "ada")
    assert rendering.plain.splitlines() == [
        "**Plain** markdown",
        "Hi @adaX (https://x.org)",
        "• a",
        "*not bold*",
        "⋯: [5] Mute",
        "[video block]",
    ]
    [mute] = rendering.controls
    assert (mute.number, mute.action_id, mute.value, mute.block_id) == (5, "more", "mute", "s1")
    assert render_blocks([], "just *text*").plain == "just text"


def test_rendered_message_is_plain_data() -> None:
    message = RenderedMessage("hi", [ShellButton(1, "Go", "go", "v", None)])
    number, label, action_id, value, url = message.buttons[0]
    assert (number, label, action_id, value, url) == (1, "Go", "go", "v", None)


def test_the_shell_fills_in_the_schedule_modals_time_picker() -> None:
    # `make run` edits the schedule through the same modal Slack shows: a time picker whose
    # initial time is kept on Enter, and whose answer arrives as `selected_time`.
    settings = DigestSettings(
        prefs=DigestPrefs(frequency="daily", time="18:45", tz="Europe/Paris"),
        next_at=None,
        last_digest_at=None,
        last_digest_items=0,
        following=0,
        muted=0,
    )
    view = schedule_modal(settings).to_dict()
    fields = {field.block_id: field for field in modal_inputs(view)}
    picker = fields[ScheduleInput.TIME]
    assert picker.element["type"] == "timepicker" and picker.picker_initial == "18:45"
    assert picker.state(None) == {"type": "timepicker", "selected_time": "18:45"}

    def read(time: str | None) -> tuple[str, str] | None:
        answers = [
            (f, {ScheduleInput.FREQUENCY: "1", ScheduleInput.TIME: time}.get(f.block_id))
            for f in fields.values()
        ]
        form = read_schedule_form(submitted_view(view, answers)["state"]["values"])
        return None if form.errors else (form.frequency, form.time)

    assert read(None) == ("daily", "18:45")
    assert read("07:10") == ("daily", "07:10")
    assert read("7am") == ("daily", "07:00")
