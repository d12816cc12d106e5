"""What the person in the local shell sees: messages, modals and files, kept up to date from
the app's replies (ack bodies and calls recorded by LocalSlack) and printed with `rich`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.local.block_render import Control, render_blocks
from bot.local.modals import ModalStack, modal_inputs, read_ack, with_ids
from bot.local.signed_requests import SourceMessage
from bot.local.slack_server import LocalSlack, RecordedCall

# Look-ups the app may expect to fail (e.g. an unknown user); it reports what matters itself.
_QUIET_FAILURES = frozenset({"auth.test", "users.info", "users.lookupByEmail", "conversations.info"})


class ShellButton(NamedTuple):
    """A numbered control as the person sees it."""

    number: int
    label: str
    action_id: str | None
    value: str | None
    url: str | None


@dataclass
class RenderedMessage:
    """What the shell showed for one reply: plain text and its numbered buttons."""

    text: str
    buttons: list[ShellButton]
    kind: str = "message"  # message | update | delete | modal | home | file | error
    ephemeral: bool = False


@dataclass
class Hook:
    """What a response_url is attached to: the message a button was in, or a command."""

    message: SourceMessage | None
    from_command: bool


class Target(NamedTuple):
    """A pressable control and the message or view it sits in."""

    control: Control
    message: SourceMessage | None
    view: dict[str, Any] | None


class Screen:
    """Messages, modals and numbered controls on screen; renders each reply as it arrives."""

    def __init__(self, console: Console, local: LocalSlack, user_id: str, channel_id: str) -> None:
        self.console = console
        self.local = local
        self.user_id = user_id
        self.channel_id = channel_id
        self.modals = ModalStack()
        self.errored = False
        self.targets: dict[int, Target] = {}
        self.targets_on = ""  # which message or view the numbers belong to, for the prompt
        self._turn_targets: dict[int, Target] = {}
        self._turn_on: list[str] = []
        self._turn_shown = False
        self.last_with_buttons: SourceMessage | dict[str, Any] | None = None
        self._hooks: dict[str, Hook] = {}
        self._messages: dict[str, SourceMessage] = {}
        self._files_dir: Path | None = None

    def begin_turn(self) -> None:
        """Start numbering controls from 1 for a new reply."""
        self.errored = False
        self._turn_targets, self._turn_on, self._turn_shown = {}, [], False

    def end_turn(self) -> None:
        """Make this turn's numbers the pressable ones: they belong to the latest reply with
        buttons. A reply without any leaves nothing to press (an older card's buttons would be
        stale); a turn that showed nothing at all keeps the numbers as they were."""
        if self._turn_targets or self._turn_shown:
            self.targets = self._turn_targets
            self.targets_on = " + ".join(self._turn_on)

    def forget_view_targets(self) -> None:
        """Drop the numbers of a modal that was closed."""
        if any(target.view is not None for target in self.targets.values()):
            self.targets, self.targets_on = {}, ""

    def show_again(self) -> list[RenderedMessage]:
        """Print the latest message (or open modal) that had buttons again, numbered afresh."""
        last = self.last_with_buttons
        if isinstance(last, SourceMessage) and last.ts in self._messages:
            return [self.show(last)]
        if isinstance(last, dict) and self.modals.top is not None:
            return [self.show_modal(self.modals.top, "modal")]
        return [self.note("(no message with buttons to show)", "note")]

    @property
    def prompt_hint(self) -> str:
        """What the numbers press, e.g. "buttons 1–5 on: Samyadeep Basu's card"."""
        if not self.targets:
            return ""
        numbers = sorted(self.targets)
        if len(numbers) == 1:
            return f"button {numbers[0]} on: {self.targets_on}"
        return f"buttons {numbers[0]}–{numbers[-1]} on: {self.targets_on}"

    def watch(self, response_url: str, message: SourceMessage | None) -> None:
        """Remember what a response_url handed to the app replies to."""
        self._hooks[response_url] = Hook(message, from_command=message is None)

    # replies ----------------------------------------------------------------------------------

    def command_ack(self, status: int, body: str, response_url: str) -> list[RenderedMessage]:
        """Render a slash command's HTTP response: Slack shows its body as a reply."""
        if status != 200:
            return [
                self.error(f'the command failed with the error "dispatch_failed" ({_http(status, body)})')
            ]
        if not body:
            return []
        try:
            reply = json.loads(body)
        except ValueError:
            reply = {"text": body}
        if not isinstance(reply, dict) or not (reply.get("text") or reply.get("blocks")):
            return []
        message = self._new_message(reply, self.channel_id, reply.get("response_type") != "in_channel")
        self._hooks[response_url].message = message
        return [self.show(message)]

    def action_ack(self, status: int, body: str) -> list[RenderedMessage]:
        """Slack ignores a block_actions ack body; only a failure shows (as a warning)."""
        return [] if status == 200 else [self.error(f"the app answered {_http(status, body)}")]

    def submission_ack(self, status: int, body: str) -> list[RenderedMessage]:
        """Follow a view_submission ack: close, update, push, clear or show errors."""
        if status != 200:
            return [self.error(f"the app answered {_http(status, body)}")]
        outcome = read_ack(body)
        if outcome.action == "errors":
            labels = {f.block_id: f.label for f in modal_inputs(self.modals.top or {})}
            lines = [f"  {labels.get(b, b)}: {e}" for b, e in (outcome.errors or {}).items()]
            return [self.error("the modal was not accepted:\n" + "\n".join(lines), quiet=True)]
        self.modals.apply_ack(outcome)
        top = self.modals.top
        if outcome.action in ("update", "push") and top is not None:
            label = {"update": "modal updated", "push": "modal pushed"}[outcome.action]
            return [self.show_modal(top, label)]
        shown = [self.note("(modal closed)", "modal")]
        return shown + ([self.show_modal(top, "modal")] if top is not None else [])

    def call(self, call: RecordedCall) -> list[RenderedMessage]:
        """Render one request the app made to LocalSlack, if a person would see it."""
        if call.error is not None:
            if call.method in _QUIET_FAILURES:
                return []
            return [self.error(f"Slack API {call.method} → {call.error}", quiet=True)]
        params, response = call.params, call.response
        if call.method == "response_url":
            return self._response_url(call)
        if call.method == "chat.postMessage":
            channel = str(response.get("channel"))
            message = self._new_message(params, channel, False, response.get("ts"))
            members = self.local.api.members(channel)
            if members and self.user_id not in members:
                # Someone else's DM: in Slack you would not see it; say where it went.
                people = ", ".join(f"@{self.name_of(m)}" for m in members if m != self.local.bot_user_id)
                first = next((line for line in message.text.splitlines() if line.strip()), "a message")
                hint = f"(bzpeer sent {people} a direct message: “{first[:70]}” — :as to read it)"
                return [self.note(hint, "dm")]
            return [self.show(message)]
        if call.method == "chat.postEphemeral":
            message = self._new_message(params, str(params.get("channel")), True, response.get("message_ts"))
            who = str(params.get("user"))
            note = "" if who == self.user_id else f"only visible to @{self.name_of(who)}"
            return [self.show(message, note=note)]
        if call.method == "chat.update":
            known = self._messages.get(str(params.get("ts")))
            if known is None:
                channel = str(params.get("channel"))
                known = self._new_message(params, channel, False, params.get("ts"))
            else:
                self._update(known, params)
            return [self.show(known, updated=True)]
        if call.method == "chat.delete":
            self._messages.pop(str(params.get("ts")), None)
            return [self.note("(message deleted)", "delete")]
        if call.method.startswith("views."):
            return self._view_call(call)
        if call.method == "files.completeUploadExternal":
            comment = str(params.get("initial_comment") or "")
            return [self._upload(entry, comment) for entry in response.get("files", [])]
        return []

    def _response_url(self, call: RecordedCall) -> list[RenderedMessage]:
        hook = self._hooks.get(self.local.root + call.path) or Hook(None, from_command=True)
        body, source = call.params, hook.message
        if body.get("delete_original") and source is not None:
            self._messages.pop(source.ts, None)
            return [self.note("(message deleted)", "delete")]
        if body.get("replace_original") and source is not None:
            self._update(source, body)
            return [self.show(source, updated=True)]
        channel = source.channel if source is not None else self.channel_id
        message = self._new_message(body, channel, body.get("response_type") != "in_channel")
        if hook.from_command:
            hook.message = message  # a later replace_original on this url replaces this reply
        return [self.show(message)]

    def _view_call(self, call: RecordedCall) -> list[RenderedMessage]:
        view = call.response.get("view") or {}
        if call.method == "views.publish":
            who = self.name_of(str(call.params.get("user_id")))
            return [self._print(with_ids(view.get("blocks")), "", f"(App Home of @{who})", "home", view=view)]
        label = self.modals.apply_call(call.method, view)
        top = self.modals.top
        return [self.show_modal(top, label)] if label and top else []

    def _upload(self, entry: dict[str, Any], comment: str) -> RenderedMessage:
        uploaded = self.local.files.get(str(entry.get("id")))
        if uploaded is None or uploaded.content is None:
            return self.note(f"[file uploaded: {entry.get('name')}]", "file")
        if self._files_dir is None:
            self._files_dir = Path(tempfile.mkdtemp(prefix="bzpeer-shell-"))
        path = self._files_dir / f"{uploaded.id}-{Path(uploaded.filename).name}"
        path.write_bytes(uploaded.content)
        where = f"to channel {uploaded.channel}" if uploaded.channel else "not shared"
        line = f"[file uploaded: {uploaded.filename}, {len(uploaded.content)} bytes, {where}]"
        if comment:
            line = f"{comment}\n{line}"
        return self.note(f"{line}\n  saved a copy to {path}", "file")

    # messages ---------------------------------------------------------------------------------

    def _new_message(
        self, body: Mapping[str, Any], channel: str, ephemeral: bool, ts: Any = None
    ) -> SourceMessage:
        message = SourceMessage(
            channel=channel,
            ts=str(ts or self.local.new_ts()),
            text=str(body.get("text") or ""),
            blocks=with_ids(body.get("blocks")),
            ephemeral=ephemeral,
            thread_ts=body.get("thread_ts"),
        )
        self._messages[message.ts] = message
        return message

    def _update(self, message: SourceMessage, body: Mapping[str, Any]) -> None:
        message.text = str(body.get("text") or "")
        message.blocks = with_ids(body.get("blocks"))

    # printing ---------------------------------------------------------------------------------

    def show(self, message: SourceMessage, *, updated: bool = False, note: str = "") -> RenderedMessage:
        """Print a message with a header saying who sees it and whether it was updated."""
        labels = [note or ("only visible to you" if message.ephemeral else self._where(message))]
        labels += ["in thread"] if message.thread_ts else []
        labels += ["message updated"] if updated else []
        header = f"({', '.join(labels)})"
        kind = "update" if updated else "message"
        return self._print(message.blocks, message.text, header, kind, message=message)

    def show_modal(self, view: dict[str, Any], label: str) -> RenderedMessage:
        """Print a modal with its inputs and buttons."""
        title = str((view.get("title") or {}).get("text", ""))
        shown = self._print(view.get("blocks", []), "", f"({label}: {title})", "modal", view=view)
        if modal_inputs(view) or view.get("submit"):
            self.console.print("[dim]Type [cyan]submit[/] to fill it in, [cyan]close[/] to dismiss.[/]")
        return shown

    def _print(
        self,
        blocks: list[dict[str, Any]],
        text: str,
        header: str,
        kind: str,
        *,
        message: SourceMessage | None = None,
        view: dict[str, Any] | None = None,
    ) -> RenderedMessage:
        first = len(self._turn_targets) + 1
        rendering = render_blocks(blocks, text, first_number=first, name_of=self.name_of)
        for control in rendering.controls:
            self._turn_targets[control.number] = Target(control, message, view)
        self._turn_shown = True
        if rendering.controls and kind != "home":
            self.last_with_buttons = message or view
        if rendering.controls:
            self._turn_on.append(_what(header, kind, text or rendering.plain, view))
        ephemeral = message is not None and message.ephemeral
        style = "yellow" if ephemeral else "blue"
        body = Group(*rendering.renderables)
        self.console.print(Panel(body, title=header, title_align="left", border_style=style))
        buttons = [ShellButton(c.number, c.label, c.action_id, c.value, c.url) for c in rendering.controls]
        return RenderedMessage(f"{header}\n{rendering.plain}", buttons, kind, ephemeral)

    def note(self, text: str, kind: str) -> RenderedMessage:
        """Print a dim one-line note (deleted message, closed modal, uploaded file)."""
        self._turn_shown = True
        self.console.print(Text(text, style="dim"))
        return RenderedMessage(text, [], kind)

    def error(self, text: str, *, quiet: bool = False) -> RenderedMessage:
        """Print an error; unless quiet, the turn counts as failed (`run_one` exits 1)."""
        self._turn_shown = True
        if not quiet:
            self.errored = True
        self.console.print(Text(f"[error] {text}", style="red"))
        return RenderedMessage(f"[error] {text}", [], "error")

    def name_of(self, user_id: str) -> str:
        """A user's handle from LocalSlack's directory, or the id itself."""
        user = self.local.api.call("users.info", {"user": user_id}).get("user")
        return str(user["name"]) if user else user_id

    def direct_messages(self, limit: int = 3) -> list[RenderedMessage]:
        """The latest messages in every DM and group DM with the bot that the person is in."""
        shown: list[RenderedMessage] = []
        for channel in self.local.api.conversations_of(self.user_id):
            for posted in self.local.api.history(channel)[-limit:]:
                shown.append(self.show(self._new_message(posted, channel, False, posted.get("ts"))))
        return shown or [self.note("(bzpeer has sent you no direct messages yet)", "note")]

    def channel_messages(self, limit: int = 3) -> list[RenderedMessage]:
        """The latest messages bzpeer posted in the channel the person types in."""
        posted = self.local.api.history(self.channel_id)[-limit:]
        shown = [self.show(self._new_message(m, self.channel_id, False, m.get("ts"))) for m in posted]
        return shown or [self.note("(bzpeer has posted nothing in this channel yet)", "note")]

    def _where(self, message: SourceMessage) -> str:
        others = [m for m in self.local.api.members(message.channel) if m != self.local.bot_user_id]
        if message.channel.startswith("D"):
            to = "" if not others or others == [self.user_id] else f" to @{self.name_of(others[0])}"
            return f"direct message from bzpeer{to}"
        if message.channel.startswith("G"):
            names = ", ".join(f"@{self.name_of(m)}" for m in others)
            return f"group DM with {names}, bzpeer" if names else "group DM"
        known = self.local.api.channels.get(message.channel)
        return f"in #{known.name if known else message.channel}"


def _http(status: int, body: str) -> str:
    return f"HTTP {status}: {body}" if body else f"HTTP {status}"


def _what(header: str, kind: str, text: str, view: Mapping[str, Any] | None) -> str:
    """A short name for a message or view with buttons, as the prompt shows it."""
    if kind == "home":
        return "your App Home"
    if view is not None:
        return f"the modal “{(view.get('title') or {}).get('text', '')}”"
    first = next((line.strip(" *_~") for line in text.splitlines() if line.strip(" *_~")), header)
    first = first.replace("*", "")
    return first if len(first) <= 60 else first[:59] + "…"
