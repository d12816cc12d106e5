"""The `bzpeer` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import logging
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
from bot.manifest import manifest_yaml
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from services.identifiers import AuthorRef, InvalidReference, parse_author_ref
from services.openalex import OpenAlexError

err = Console(stderr=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bzpeer", description="BZPEER for Slack")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("start", help="Slack (Socket Mode or HTTP) with credentials; else demo + local shell")
    serve = sub.add_parser("serve", help="HTTP web process (gunicorn, threads)")
    serve.add_argument("--port", type=int, default=None)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    command = args.command or "start"
    # Long-running processes log their work; one-shot commands only say what went wrong.
    quiet = command in ("shell", "demo", "import", "db", "manifest") or (
        command == "start" and not settings.has_slack_credentials
    )
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if command == "manifest":
        print(manifest_yaml(settings.bzpeer_command, args.url), end="")
        return 0
    if command == "serve":
        from bot.serve import serve

        build_runtime(settings).close()  # migrate once, before the workers start
        serve(settings, port=args.port or settings.port, workers=args.workers, threads=args.threads)
        return 0
    runtime = build_runtime(settings)
    try:
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
        print(f"Demo store ready: {result.researchers} researchers, {result.works} works.")
        return 0
    if command == "import":
        return _import(runtime, args.refs, first=args.first)
    if command == "shell":
        return _shell(runtime, args.line)
    if command == "socket":
        return _socket(runtime)
    # start
    if not settings.has_slack_credentials:
        runtime.services.demo.load()
        err.print("[dim]No Slack credentials set: demo store loaded, opening the local shell.[/dim]")
        return _shell(runtime, None)
    if settings.slack_app_token:
        return _socket(runtime)
    from bot.serve import serve

    serve(settings, port=settings.port)
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
    from slack_bolt.authorization import AuthorizeResult

    from bot.local_slack import LocalSlack
    from bot.shell import LocalShell, run_one

    with LocalSlack() as local:
        secret = secrets.token_hex(16)
        settings = runtime.settings.model_copy(
            update={"slack_api_url": local.url, "slack_signing_secret": secret}
        )

        def authorize(**_: object) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=None,
                team_id="T0LOCAL",
                bot_token="xoxb-local",
                bot_user_id="U0BOT",
                bot_id="B0BOT",
            )

        app = build_bolt_app(settings, runtime.services, process_before_response=True, authorize=authorize)
        shell = LocalShell(app, local_slack=local, signing_secret=secret, command=settings.bzpeer_command)
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
            f"{candidate.works_count or 0:,} works"
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
        print(
            f"Imported {result.name} ({result.openalex_id}){merged}: "
            f"{result.works} works, {result.coauthors} co-authors."
        )
    return 1 if failures else 0
