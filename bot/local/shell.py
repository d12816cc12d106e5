"""The local shell ("like Hubot's shell adapter"): type slash commands, press buttons and fill
in modals against the real Bolt app, with no Slack anywhere.

Payloads are built as Slack builds them, signed with the signing secret and dispatched in-process;
replies land on the LocalSlack server (response_url, Web API, file uploads) and in the ack body,
and are rendered in the terminal.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from rich.console import Console
from rich.markup import escape
from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest

from bot.local.listener_wait import count_listener_tasks
from bot.local.modals import AckOutcome, ModalInput, answer_for, modal_inputs, submitted_view
from bot.local.screen import RenderedMessage, Screen, ShellButton
from bot.local.signed_requests import (
    Actor,
    block_actions,
    escape_typed,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_closed,
    view_submission,
)
from bot.local.slack_objects import LocalChannel, SlackUser
from bot.local.slack_server import LocalSlack

__all__ = ["LocalShell", "RenderedMessage", "ShellButton", "local_authorize", "run_one"]

HELP = """\
Type a slash command ("{command} Samyadeep Basu") or just its text ("Samyadeep Basu");
{command} help lists every command.
  N          press button or option N of the latest reply with buttons (the prompt says which)
  submit     fill in and submit the open modal (Enter keeps what an input was pre-filled with)
  close      close the open modal
  :buttons   show the latest message with buttons again, to press its numbers
  :as NAME   become another member of the local workspace (:who lists them)
  :who       who you are and who else is in the workspace
  :dms       the direct messages and group DMs bzpeer sent you (claim reviews, invitations, digests)
  :in #NAME  type the next commands in channel #NAME, as `{command} channel …` needs
  :channel   what bzpeer posted in the channel you type in (its channel digest)
{extra}  help       show this help (also :help)
  quit       leave (also: exit, Ctrl-D)
Try:
  who works on it   {command} who influence functions
  a topic digest    {command} follow topic T10017, then :news, :digest (the DM lists the topic's new work)
  a channel feed    :in #lab-papers, {command} channel follow Samyadeep Basu,
                    {command} channel follow topic T10017, {command} channel (what it follows, when it
                    is posted), then :news, :digest, :channel (the post in #lab-papers)"""

# A shell command beyond the built-in ones: its help line, and what it does (returns a summary).
ShellCommand = tuple[str, Callable[[], str]]


class LocalShell:
    """Drives a Bolt app like a person in Slack would, and renders the replies."""

    settle_seconds = 0.15  # quiet time after which background deliveries count as done
    max_wait_seconds = 10.0

    def __init__(
        self,
        app: App,
        *,
        local_slack: LocalSlack,
        signing_secret: str,
        command: str = "/peer",
        team_id: str = "T0LOCAL",
        user_id: str = "U0LOCAL",
        channel_id: str = "C0LOCAL",
        console: Console | None = None,
        commands: Mapping[str, ShellCommand] | None = None,
    ) -> None:
        """`commands`: extra `:name` commands (e.g. `:digest`), run as a turn so that what they
        send to Slack is shown."""
        self.app = app
        self.local = local_slack
        self.command = command
        self.actor = Actor(team_id=team_id, user_id=user_id, channel_id=channel_id)
        self.console = console or Console()
        self.screen = Screen(self.console, local_slack, user_id, channel_id)
        if not local_slack.api.call("users.info", {"user": user_id}).get("ok"):
            # The app may look up whoever typed the command (time zone, name, e-mail).
            local_slack.add_user(SlackUser(user_id, team_id, "you", "You (local shell)"))
        self._secret = signing_secret
        self.commands = dict(commands or {})
        self._executor = count_listener_tasks(app)

    @property
    def errored(self) -> bool:
        """True if the last command or press failed (HTTP error from the app, or an exception)."""
        return self.screen.errored

    def run_command(self, line: str) -> list[RenderedMessage]:
        """Send a slash command ("/peer Ada", or just "Ada") and render what comes back."""
        line = line.strip()
        command, text = self.command, line
        if line.startswith("/"):
            command, _, text = line.partition(" ")
        response_url = self.local.response_url()
        self.screen.watch(response_url, None)
        body = slash_command_body(self.actor, command, escape_typed(text.strip()), response_url)
        return self._turn(body, lambda r: self.screen.command_ack(r.status, _text(r), response_url))

    def press(self, number: int) -> list[RenderedMessage]:
        """Press button (or choose option) `number` of the latest reply."""
        target = self.screen.targets.get(number)
        if target is None:
            hint = self.screen.prompt_hint or "the latest reply has no buttons"
            self.console.print(f"[red]There is no \\[{number}] to press ({escape(hint)}).[/]")
            return []
        control = target.control
        if control.url:
            self.console.print(f"[dim]Opening in a browser:[/] {control.url}")
            if not control.action_id:
                return []  # a plain link button: nothing for the app to hear about
        response_url = None
        if target.message is not None:
            response_url = self.local.response_url()
            self.screen.watch(response_url, target.message)
        payload = block_actions(
            self.actor,
            control.element,
            block_id=control.block_id,
            option=control.option,
            message=target.message,
            view=target.view,
            response_url=response_url,
            bot_user_id=self.local.bot_user_id,
        )
        return self._turn(interactive_body(payload), lambda r: self.screen.action_ack(r.status, _text(r)))

    def show_buttons(self) -> list[RenderedMessage]:
        """Show the latest message with buttons again, so that its numbers can be pressed."""
        self.screen.begin_turn()
        shown = self.screen.show_again()
        self.screen.end_turn()
        return shown

    def switch_user(self, who: str) -> bool:
        """Become another member of the workspace (by handle, name or id)."""
        wanted = who.strip().lstrip("@").lower()
        members = self.local.api.call("users.list", {}).get("members") or []
        found = [
            m
            for m in members
            if not m.get("is_bot")
            and wanted
            and (
                wanted in (str(m["id"]).lower(), str(m["name"]).lower())
                or str(m.get("real_name", "")).lower().startswith(wanted)
            )
        ]
        if not found:
            self.console.print(f"[red]No member called {escape(who)!r}; :who lists them.[/]")
            return False
        user = found[0]
        self.actor = replace(self.actor, user_id=str(user["id"]))
        self.screen.user_id = str(user["id"])
        self.screen.targets, self.screen.targets_on = {}, ""
        self.screen.last_with_buttons = None
        self.console.print(
            f"You are now [bold]@{escape(str(user['name']))}[/] ({escape(str(user['real_name']))})."
        )
        return True

    def who(self) -> None:
        """Print the workspace's members, marking who you are."""
        for member in self.local.api.call("users.list", {}).get("members") or []:
            if member.get("is_bot"):
                continue
            you = " ← you" if member["id"] == self.actor.user_id else ""
            admin = " (workspace admin)" if member.get("is_admin") else ""
            self.console.print(f"  @{member['name']}: {member['real_name']}{admin}{you}", markup=False)

    def switch_channel(self, name: str) -> bool:
        """Type the next commands in channel #name (a public channel everyone is in, made on
        first use), as `/peer channel …` needs."""
        wanted = name.strip().lstrip("#").lower()
        channel_id = "C0" + "".join(char for char in wanted.upper() if char.isalnum())[:18]
        if len(channel_id) < 3:
            self.console.print("[red]Type a channel name, e.g. :in #lab-papers[/]")
            return False
        api = self.local.api
        if channel_id not in api.channels:
            people = [
                str(m["id"]) for m in api.call("users.list", {}).get("members") or [] if not m.get("is_bot")
            ]
            self.local.add_channel(LocalChannel(channel_id, wanted, members=people))
        self.actor = replace(self.actor, channel_id=channel_id)
        self.screen.channel_id = channel_id
        self.console.print(
            f"You now type in [bold]#{escape(wanted)}[/]; :channel shows what bzpeer posted there."
        )
        return True

    def channel_messages(self) -> list[RenderedMessage]:
        """Show what bzpeer posted in the channel you type in."""
        self.screen.begin_turn()
        shown = self.screen.channel_messages()
        self.screen.end_turn()
        return shown

    def direct_messages(self) -> list[RenderedMessage]:
        """Show the DMs and group DMs bzpeer sent you, with their buttons numbered."""
        self.screen.begin_turn()
        shown = self.screen.direct_messages()
        self.screen.end_turn()
        return shown

    def run_extra(self, name: str) -> list[RenderedMessage]:
        """Run an extra `:name` command and show what it sent to Slack."""
        command = self.commands.get(name)
        if command is None:
            self.console.print(f"[red]Unknown command :{escape(name)}; type help.[/]")
            return []
        summary: list[str] = []
        shown = self._observe(lambda: summary.append(command[1]()))
        return shown + ([self.screen.note(summary[0], "note")] if summary and summary[0] else [])

    def submit_modal(self, values: Mapping[str, str] | None = None) -> list[RenderedMessage]:
        """Submit the open modal: `values` keyed by action_id, block_id or label, else prompt."""
        view = self.screen.modals.top
        if view is None:
            self.console.print("[red]No modal is open.[/]")
            return []
        answers = [
            (field, answer_for(field, values) if values is not None else self._ask(field))
            for field in modal_inputs(view)
        ]
        payload = view_submission(self.actor, submitted_view(view, answers))
        return self._turn(interactive_body(payload), lambda r: self.screen.submission_ack(r.status, _text(r)))

    def close_modal(self) -> list[RenderedMessage]:
        """Close the open modal; the app hears of it only if it asked (notify_on_close)."""
        view = self.screen.modals.top
        if view is None:
            self.console.print("[red]No modal is open.[/]")
            return []
        self.screen.modals.apply_ack(AckOutcome("close"))
        self.screen.forget_view_targets()
        shown = [self.screen.note("(modal closed)", "modal")]
        if view.get("notify_on_close"):
            body = interactive_body(view_closed(self.actor, view))
            shown += self._turn(body, lambda r: self.screen.action_ack(r.status, _text(r)))
        return shown

    def repl(self) -> int:
        """Read lines until EOF or quit; digits press buttons. Returns the exit code."""
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        self.console.print(f"[bold]BZPEER local shell[/] ({self.command}) — type [cyan]help[/].")
        while True:
            try:
                line = self.console.input(self._prompt()).strip()
                if not sys.stdin.isatty():
                    self.console.print(line, markup=False, highlight=False)  # echo piped input
            except EOFError:
                self.console.print()
                return 0
            except KeyboardInterrupt:
                self.console.print()
                continue
            if line in ("quit", "exit"):
                return 0
            self.run_line(line)

    def run_line(self, line: str) -> None:
        """One line of the REPL: a number, a shell command or a slash command."""
        word, _, rest = line.partition(" ")
        if line in ("help", ":help", "?"):
            extra = "".join(f"  :{name:<10}{text}\n" for name, (text, _) in self.commands.items())
            self.console.print(HELP.format(extra=extra, command=self.command), markup=False)
        elif line.isdigit():
            self.press(int(line))
        elif line == "submit":
            self.submit_modal()
        elif line == "close":
            self.close_modal()
        elif word == ":as":
            self.switch_user(rest)
        elif line == ":who":
            self.who()
        elif line == ":dms":
            self.direct_messages()
        elif word == ":in":
            self.switch_channel(rest)
        elif line == ":channel":
            self.channel_messages()
        elif line == ":buttons":
            self.show_buttons()
        elif line.startswith(":"):
            self.run_extra(line[1:].strip())
        elif line:
            self.run_command(line)

    def _prompt(self) -> str:
        hint = self.screen.prompt_hint
        return (f"[dim]({escape(hint)})[/]\n" if hint else "") + "[bold cyan]bzpeer>[/] "

    # one turn: dispatch, wait for background deliveries, render in order --------------------

    def _turn(
        self, body: str, render_ack: Callable[[BoltResponse], list[RenderedMessage]]
    ) -> list[RenderedMessage]:
        responses: list[BoltResponse] = []

        def dispatch() -> None:
            headers: dict[str, str | Sequence[str]] = {**signed_headers(self._secret, body)}
            responses.append(self.app.dispatch(BoltRequest(body=body, headers=headers)))

        # The ack is rendered first, where Slack shows it, then whatever the listeners sent
        # (lazy listeners after the ack; _observe waits for them).
        return self._observe(dispatch, lambda: render_ack(responses[0]) if responses else [])

    def _observe(
        self, run: Callable[[], None], first: Callable[[], list[RenderedMessage]] = list
    ) -> list[RenderedMessage]:
        """Run something that talks to Slack, wait for background work, render what it sent."""
        self.screen.begin_turn()
        mark = len(self.local.calls)
        try:
            run()
        except Exception as exc:  # the shell is a UI boundary: show the failure, keep going
            self.console.print_exception()
            shown = [self.screen.error(f"the app raised {exc!r}")]
            self.screen.end_turn()
            return shown
        self._settle()
        shown = first()
        for call in self.local.calls[mark:]:
            shown += self.screen.call(call)
        self.screen.end_turn()
        return shown

    def _settle(self) -> None:
        deadline = time.monotonic() + self.max_wait_seconds
        seen, quiet_since = len(self.local.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.01)
            count = len(self.local.calls)
            working = self.local.busy or (self._executor is not None and not self._executor.idle)
            if count != seen or working:
                seen, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= self.settle_seconds:
                return

    def _ask(self, field: ModalInput) -> str | None:
        for number, option in enumerate(field.options, start=1):
            label = (option.get("text") or {}).get("text", "")
            self.console.print(f"  [cyan]\\[{number}][/] {escape(str(label))}")
        hint = " (number)" if field.is_choice else ""
        if field.element.get("type") == "timepicker":
            hint += " (HH:MM or 7am)"
        initial = field.initial_shown
        if initial is not None:
            # As in Slack, what the input was pre-filled with is submitted unless changed.
            clear = "" if field.picker_initial else ", - clears it"
            hint += f" (Enter keeps: {escape(initial)}{clear})"
        hint += " (optional)" if field.optional else ""
        typed = self.console.input(f"[bold]{escape(field.label)}[/]{hint}: ")
        if not sys.stdin.isatty():
            self.console.print(typed, markup=False, highlight=False)  # echo piped input
        if typed.strip() == "-" and initial is not None:
            return ""
        return typed or None


def _text(response: BoltResponse) -> str:
    return response.body if isinstance(response.body, str) else str(response.body)


def local_authorize(**_: object) -> AuthorizeResult:
    """Bolt's `authorize` for the local workspace: its bot, whatever the request (no install)."""
    return AuthorizeResult(
        enterprise_id=None,
        team_id="T0LOCAL",
        bot_token="xoxb-local",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
    )


def run_one(shell: LocalShell, line: str) -> int:
    """Run one command (`bzpeer shell -c "..."`) and print the reply; 1 if the app errored."""
    shell.run_command(line)
    return 1 if shell.errored else 0
