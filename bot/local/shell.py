"""The local shell ("like Hubot's shell adapter"): type slash commands, press buttons and fill
in modals against the real Bolt app, with no Slack anywhere.

Payloads are built as Slack builds them, signed with the signing secret and dispatched in-process;
replies land on the LocalSlack server (response_url, Web API, file uploads) and in the ack body,
and are rendered in the terminal.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from typing import Any

from rich.console import Console
from rich.markup import escape
from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest

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
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack
from bot.pools import ListenerPools

__all__ = ["LocalShell", "RenderedMessage", "ShellButton", "local_authorize", "run_one"]

HELP = """\
Type a slash command ("/peer Samyadeep Basu") or just its text ("Samyadeep Basu").
  N        press button or option N of the latest reply
  submit   fill in and submit the open modal
  close    close the open modal
  help     show this help
  quit     leave (also: exit, Ctrl-D)"""


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
    ) -> None:
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
        self._executor = _count_listener_tasks(app)

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
            self.console.print(f"[red]There is no \\[{number}] on screen.[/]")
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
                line = self.console.input("[bold cyan]bzpeer>[/] ").strip()
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
            if line == "help":
                self.console.print(HELP, markup=False)
            elif line.isdigit():
                self.press(int(line))
            elif line == "submit":
                self.submit_modal()
            elif line == "close":
                self.close_modal()
            elif line:
                self.run_command(line)

    # one turn: dispatch, wait for background deliveries, render in order --------------------

    def _turn(
        self, body: str, render_ack: Callable[[BoltResponse], list[RenderedMessage]]
    ) -> list[RenderedMessage]:
        self.screen.begin_turn()
        mark = len(self.local.calls)
        try:
            headers: dict[str, str | Sequence[str]] = {**signed_headers(self._secret, body)}
            request = BoltRequest(body=body, headers=headers)
            response = self.app.dispatch(request)
        except Exception as exc:  # the shell is a UI boundary: show the failure, keep going
            self.console.print_exception()
            return [self.screen.error(f"the app raised {exc!r}")]
        self._settle()
        # The ack is rendered first, where Slack shows it, then whatever the listeners sent
        # (lazy listeners after the ack; _settle waited for them).
        shown = render_ack(response)
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
            hint += (
                f" (HH:MM or 7am; Enter keeps {field.picker_initial})" if field.picker_initial else " (HH:MM)"
            )
        hint += " (optional)" if field.optional else ""
        return self.console.input(f"[bold]{escape(field.label)}[/]{hint}: ") or None


def _text(response: BoltResponse) -> str:
    return response.body if isinstance(response.body, str) else str(response.body)


class _CountingExecutor(Executor):
    """Wraps Bolt's listener executor to know when background listener work is done."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn` on the wrapped executor, counting it until it finishes."""
        with self._lock:
            self._pending += 1
        future = self.inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    @property
    def idle(self) -> bool:
        """True when no submitted task is queued or running."""
        with self._lock:
            return self._pending == 0

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the wrapped executor down."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def _count_listener_tasks(app: App) -> _CountingExecutor | ListenerPools | None:
    # Lazy listeners run on Bolt's executor after dispatch() returns; counting its tasks lets
    # the shell wait exactly as long as needed. These are private attributes of Bolt 1.30, so
    # fall back to waiting for quiet alone if they are not there.
    runner = getattr(app, "_listener_runner", None)
    pools = getattr(runner, "lazy_listener_runner", None)
    if isinstance(pools, ListenerPools):
        return pools  # the app's own runner knows when its work (on both pools) is done
    inner = getattr(runner, "listener_executor", None)
    if runner is None or not isinstance(inner, Executor):
        return None
    if isinstance(inner, _CountingExecutor):
        return inner
    counting = _CountingExecutor(inner)
    runner.listener_executor = counting
    lazy = getattr(runner, "lazy_listener_runner", None)
    if lazy is not None and getattr(lazy, "executor", None) is inner:
        lazy.executor = counting
    return counting


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
