"""The `bzpeer` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.prompt import IntPrompt

from bot.app import build_bolt_app
from bot.claims_cli import add_claims_parser, run_claims
from bot.installations import SecretKeyError, build_installation_store, check_secret_key
from bot.logs import configure_logging
from bot.manifest import manifest_yaml
from bot.runtime import Runtime, build_runtime, with_slack
from bot.settings import Settings
from handlers.blocks import plural
from services.openalex.records import OpenAlexError
from services.research.identifiers import AuthorRef, InvalidReference, parse_author_ref

# The commands that talk to OpenAlex (look-ups from Slack or the shell, imports, the refresh job).
OPENALEX_COMMANDS = ("start", "serve", "socket", "scheduler", "shell", "import", "refresh")
# soft_wrap: an error stays one line in a log or a pipe, however narrow the terminal.
err = Console(stderr=True, soft_wrap=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bzpeer", description="BZPEER for Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("start", help="Slack (Socket Mode or HTTP) with credentials; else demo + local shell")
    serve = sub.add_parser("serve", help="HTTP web process (gunicorn, threads)")
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--host", default=None, help="address to listen on (default $BZPEER_HOST or 0.0.0.0)")
    serve.add_argument("--workers", type=int, default=None)
    serve.add_argument("--threads", type=int, default=8)
    sub.add_parser("socket", help="Socket Mode only")
    shell = sub.add_parser("shell", help="local console driving the real Bolt app")
    shell.add_argument("-c", dest="line", help='run one command, e.g. -c "/peer Samyadeep Basu"')
    sub.add_parser("demo", help="load the bundled demo dataset (idempotent)")
    imp = sub.add_parser("import", help="import researchers from OpenAlex")
    imp.add_argument("refs", nargs="+", metavar="REF", help="OpenAlex author id or URL, ORCID, or a name")
    imp.add_argument("--first", action="store_true", help="for a name, take the best match")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    manifest = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", default=None, help="public base URL for HTTP mode")
    manifest.add_argument(
        "--oauth", action="store_true", help="multi-workspace install (needs --url): token rotation on"
    )
    sub.add_parser("scheduler", help="a scheduler process: every one delivers; one at a time refreshes")
    sub.add_parser("refresh", help="one refresh cycle now: poll OpenAlex for followed researchers and topics")
    digest = sub.add_parser("digest", help="one delivery cycle now: DM every member whose digest is due")
    digest.add_argument("--now", action="store_true", help="treat every member with pending items as due")
    sub.add_parser("rotate-key", help="re-encrypt stored Slack tokens with the first BZPEER_SECRET_KEY")
    forget = sub.add_parser("forget-member", help="delete a member's data (follows, digests, invitations…)")
    forget.add_argument("team_id", metavar="TEAM_ID")
    forget.add_argument("user_id", metavar="USER_ID")
    add_claims_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    command = args.command or "start"
    # Long-running processes log their work; one-shot commands only say what went wrong.
    one_shot = ("shell", "demo", "import", "db", "manifest", "refresh", "digest", "forget-member", "claims")
    quiet = command in one_shot or (command == "start" and not settings.has_slack_credentials)
    # Processes that serve Slack log one JSON object per line; people at a terminal get text.
    json_lines = command in ("serve", "socket", "scheduler") or (
        command == "start" and settings.has_slack_credentials
    )
    configure_logging(
        json_lines=json_lines,
        level=logging.WARNING if quiet else logging.INFO,
        secrets=_secret_values(settings),
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if command == "manifest":
        if args.oauth and not args.url:
            err.print("error: --oauth needs --url (the OAuth redirect URL is on the public base URL).")
            return 2
        print(manifest_yaml(settings.bzpeer_command, args.url, token_rotation=args.oauth), end="")
        return 0
    if command == "serve":
        from bot.serve import serve

        runtime = build_runtime(settings)  # migrate once, before the workers start
        try:
            _check_secret_key(runtime)
        finally:
            runtime.close()
        _warn_keyless_openalex(command, settings)
        host, port = args.host or settings.bzpeer_host, args.port or settings.port
        serve(settings, host=host, port=port, workers=args.workers, threads=args.threads)
        return 0
    runtime = build_runtime(settings)
    try:
        if command in ("start", "socket", "scheduler", "digest", "rotate-key", "claims"):
            _check_secret_key(runtime)
        _warn_keyless_openalex(command, settings)
        return _run(command, args, runtime)
    finally:
        runtime.close()


def _run(command: str, args: argparse.Namespace, runtime: Runtime) -> int:
    settings = runtime.settings
    if command == "db":
        print("Store is at the latest schema.")
        return 0
    if command == "demo":
        result = runtime.services.demo.load()
        loaded = f"{plural(result.researchers, 'researcher')}, {plural(result.works, 'work')}"
        print(f"Demo store ready: {loaded}.")
        return 0
    if command == "import":
        return _import(runtime, args.refs, first=args.first)
    if command == "shell":
        return _shell(runtime, args.line)
    if command == "rotate-key":
        return _rotate_key(runtime)
    if command == "forget-member":
        return _forget_member(runtime, args.team_id, args.user_id)
    if command == "claims":
        return run_claims(runtime, args)
    if command == "socket":
        return _socket(runtime)
    if command in ("scheduler", "refresh", "digest"):
        return _jobs(command, args, runtime)
    # start
    if not settings.has_slack_credentials:
        runtime.services.demo.load()
        err.print("[dim]No Slack credentials set: demo store loaded, opening the local shell.[/dim]")
        return _shell(runtime, None)
    from bot.scheduler import scheduler_in_background

    with scheduler_in_background(runtime):  # one box: the jobs run in this process
        if settings.slack_app_token:
            return _socket(runtime)
        from bot.serve import serve

        serve(settings, host=settings.bzpeer_host, port=settings.port)
        return 0


def _secret_values(settings: Settings) -> list[str | None]:
    """Configured secrets that must never appear in a log line, whatever their shape."""
    return [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.openalex_api_key,
        settings.bzpeer_secret_key,
    ]


def _warn_keyless_openalex(command: str, settings: Settings) -> None:
    """One start-up line when the live OpenAlex would be asked without a key: through the
    process's log handler, so a JSON line for the services and on stderr at a terminal. After the
    fail-fast checks (their error stays the only line) and before anything asks OpenAlex."""
    if command in OPENALEX_COMMANDS and settings.live_openalex_without_key:
        logging.getLogger("bzpeer.openalex").warning(
            "OPENALEX_API_KEY is not set: the live OpenAlex (%s) wants a free API key; without one, "
            "look-ups, imports and refreshes may be throttled or refused.",
            settings.openalex_url,
        )


def _check_secret_key(runtime: Runtime) -> None:
    """OAuth mode: stop at once, in one line, when BZPEER_SECRET_KEY cannot do its job."""
    try:
        check_secret_key(runtime.settings, runtime.services.engine)
    except SecretKeyError as error:
        raise SystemExit(f"error: {error}") from None


def _rotate_key(runtime: Runtime) -> int:
    settings = runtime.settings
    if not settings.oauth_enabled:
        err.print("error: rotate-key is for OAuth mode (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET).")
        return 2
    try:
        changed = build_installation_store(settings, runtime.services.engine).rotate_key()
    except SecretKeyError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"Re-encrypted {plural(changed, 'stored token')} with the first BZPEER_SECRET_KEY.")
    return 0


def _forget_member(runtime: Runtime, team_id: str, user_id: str) -> int:
    if not (re.fullmatch(r"[TE][A-Z0-9]{2,20}", team_id) and re.fullmatch(r"[UW][A-Z0-9]{2,20}", user_id)):
        err.print("error: give a workspace id and a user id, e.g. bzpeer forget-member T0123ABC U0456DEF.")
        return 2
    print("\n".join(runtime.services.privacy.forget_member(team_id, user_id).lines()))
    return 0


def _jobs(command: str, args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.scheduler import SchedulerRunner, run_until_signalled
    from services.store.models import utcnow

    if command == "scheduler":
        if not runtime.services.digests.can_send:
            err.print("warning: no SLACK_BOT_TOKEN: the delivery job cannot send digests.")
        run_until_signalled(SchedulerRunner(runtime))
        return 0
    if command == "refresh":
        print(runtime.services.refresh.refresh(now=utcnow()).summary())
        return 0
    if not runtime.services.digests.can_send:
        err.print("error: bzpeer digest needs SLACK_BOT_TOKEN (xoxb-…) to send DMs.")
        return 2
    print(runtime.services.digests.deliver_due(now=utcnow(), force=args.now).summary())
    return 0


def _socket(runtime: Runtime) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = runtime.settings
    if not (settings.slack_app_token and settings.slack_bot_token):
        err.print("error: Socket Mode needs SLACK_APP_TOKEN (xapp-…) and SLACK_BOT_TOKEN (xoxb-…).")
        return 2
    app = build_bolt_app(settings, runtime.services, socket_mode=True)
    SocketModeHandler(app, settings.slack_app_token).start()
    return 0


def _shell(runtime: Runtime, line: str | None) -> int:
    from bot.local.shell import LocalShell, local_authorize, run_one
    from bot.local.slack_server import LocalSlack
    from bot.local.workspace import LOCAL_PEOPLE, shell_commands

    with LocalSlack(users=LOCAL_PEOPLE) as local:
        secret = secrets.token_hex(16)
        # The stand-in is the bot token's Slack too: claim reviews, invitations and digests
        # the services send reach it, and the shell shows them (:dms).
        settings = runtime.settings.model_copy(
            update={
                "slack_api_url": local.url,
                "slack_signing_secret": secret,
                "slack_bot_token": "xoxb-local",
            }
        )
        local_runtime = with_slack(runtime, settings)
        app = build_bolt_app(settings, local_runtime.services, authorize=local_authorize)
        shell = LocalShell(
            app,
            local_slack=local,
            signing_secret=secret,
            command=settings.bzpeer_command,
            commands=shell_commands(local_runtime.services),
        )
        return run_one(shell, line) if line else shell.repl()


def _resolve(runtime: Runtime, ref: AuthorRef, *, first: bool) -> AuthorRef | None:
    if ref.kind != "name":
        return ref
    candidates = runtime.services.importer.search_openalex(ref.value, limit=10)
    if not candidates:
        err.print(f"error: OpenAlex has no author matching {ref.value!r}.")
        return None
    if first or len(candidates) == 1:
        return AuthorRef("openalex", candidates[0].openalex_id)
    for number, candidate in enumerate(candidates, 1):
        hint = candidate.hint or "no institution listed"
        err.print(
            f"[{number}] {candidate.display_name} ({candidate.openalex_id}) · {hint} · "
            f"{plural(candidate.works_count or 0, 'work')}"
        )
    if not sys.stdin.isatty():
        err.print("error: several authors match; pass --first or an OpenAlex id.")
        return None
    choice = IntPrompt.ask(
        "Import which one", console=err, choices=[str(i) for i in range(1, len(candidates) + 1)]
    )
    return AuthorRef("openalex", candidates[choice - 1].openalex_id)


def _import(runtime: Runtime, refs: Sequence[str], *, first: bool) -> int:
    failures = 0
    for raw in refs:
        try:
            ref = _resolve(runtime, parse_author_ref(raw), first=first)
            if ref is None:
                failures += 1
                continue
            with Progress(
                TextColumn(f"Importing {ref.value}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("works", total=None)

                def report(done: int, total: int | None, task_id: TaskID = task) -> None:
                    progress.update(task_id, completed=done, total=total)

                result = runtime.services.importer.import_author(ref, progress=report)
        except InvalidReference as error:
            err.print(f"error: {error}")
            failures += 1
            continue
        except OpenAlexError as error:
            err.print(f"error: {raw}: {error.user_message}")
            failures += 1
            continue
        merged = f" (merged from {result.merged_from})" if result.merged_from else ""
        skipped = result.works_skipped
        refused = f"; {plural(skipped, 'work')} could not be stored (named in the log)"
        print(
            f"Imported {result.name} ({result.openalex_id}){merged}: "
            f"{plural(result.works, 'work')}, {plural(result.coauthors, 'co-author')}"
            f"{refused if skipped else ''}."
        )
    return 1 if failures else 0
