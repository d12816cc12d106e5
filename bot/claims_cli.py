"""`bzpeer claims list|approve ID|reject ID`: the operator's view of pending claims, and deciding
them without the review message (recorded like an admin's; the claimant is told by DM when a bot
token is configured)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.runtime import Runtime
from services.collaboration.claim_types import ClaimView, DecisionOutcome

# soft_wrap: an error stays one line in a log or a pipe, however narrow the terminal.
err = Console(stderr=True, soft_wrap=True)


def add_claims_parser(sub: argparse._SubParsersAction) -> None:
    """`claims list`, `claims approve ID`, `claims reject ID`."""
    claims = sub.add_parser("claims", help="operators: pending claims, and deciding them")
    actions = claims.add_subparsers(dest="claims_action", required=True)
    actions.add_parser("list", help="pending claims, oldest first")
    for verb in ("approve", "reject"):
        decide = actions.add_parser(verb, help=f"{verb} a pending claim by id (as `claims list` shows it)")
        decide.add_argument("claim_id", metavar="ID")


def run_claims(runtime: Runtime, args: argparse.Namespace) -> int:
    """Run one `bzpeer claims …` command; 0 when done, 1 when the claim could not be decided,
    2 for a malformed id."""
    if args.claims_action == "list":
        return _list(runtime)
    raw = str(args.claim_id).strip().removeprefix("#")
    if not raw.isdigit() or int(raw) <= 0:
        err.print(
            f"error: {args.claim_id!r} is not a claim id: give the number `bzpeer claims list` shows.",
            markup=False,
        )
        return 2
    claim_id, approve = int(raw), args.claims_action == "approve"
    outcome = runtime.services.claims.decide_as_operator(claim_id, approve=approve, now=datetime.now(UTC))
    settings = runtime.settings
    return _report(claim_id, outcome, can_send=bool(settings.slack_bot_token or settings.oauth_enabled))


def _list(runtime: Runtime) -> int:
    pending = runtime.services.claims.pending()
    if not pending:
        print("No pending claims.")
        return 0
    table = Table(title=f"{len(pending)} pending claim{'s' if len(pending) != 1 else ''}")
    for column in ("id", "workspace", "claimant", "researcher", "since"):
        table.add_column(
            column, justify="right" if column == "id" else "left", no_wrap=column != "researcher"
        )
    for claim in pending:
        # Text, not markup: a researcher's name is data ("[1]" in a name stays as it is).
        cells = (str(claim.id), claim.claimant.team_id, claim.claimant.user_id, claim.researcher_name)
        table.add_row(*(Text(cell) for cell in (*cells, _since(claim))))
    # Wide enough for every column when piped (rich would otherwise assume 80 characters).
    Console(width=160, highlight=False).print(table)
    return 0


def _since(claim: ClaimView) -> str:
    created = claim.created_at if claim.created_at.tzinfo else claim.created_at.replace(tzinfo=UTC)
    return created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _report(claim_id: int, outcome: DecisionOutcome, *, can_send: bool) -> int:
    claim = outcome.claim
    if outcome.status == "gone" or claim is None:
        err.print(
            f"error: there is no claim {claim_id} in the store (`bzpeer claims list` shows the pending ones)."
        )
        return 1
    if outcome.status not in ("approved", "rejected"):
        err.print(f"error: claim {claim_id} is {claim.status}, not pending: nothing changed.", markup=False)
        return 1
    who = f"{claim.claimant.user_id} in {claim.claimant.team_id}"
    print(f"Claim {claim_id} on {claim.researcher_name} by {who}: {outcome.status}.")
    if outcome.claimant_told:
        print("The claimant was told by DM.")
    elif can_send:
        err.print(
            "warning: the DM to the claimant could not be sent (the log says why); the decision is stored."
        )
    else:
        err.print(
            "warning: no SLACK_BOT_TOKEN: the DM to the claimant could not be sent; the decision is stored."
        )
    return 0
