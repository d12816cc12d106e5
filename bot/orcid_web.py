"""GET /orcid/start and GET /orcid/callback: ORCID sign-in for Verification L3, as small HTML
pages (collaboration/orcid_service.py does the work). Without ORCID settings both answer 404."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from services.collaboration.orcid_service import OrcidOutcome, OrcidService

log = logging.getLogger("bzpeer.orcid")

StartResponse = Callable[..., Any]
ORCID_PATHS = ("/orcid/start", "/orcid/callback")

_TITLES = {
    "bad_state": "This sign-in link cannot be used",
    "replayed": "This sign-in was already used",
    "denied": "ORCID sign-in was cancelled",
    "orcid_error": "ORCID did not confirm the sign-in",
    "not_approved": "There is no approved claim to verify",
    "not_claimant": "This is not your claim",
    "no_orcid": "No ORCID iD on record",
    "mismatch": "A different ORCID iD signed in",
}


def orcid_route(
    orcid: OrcidService | None, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Answer /orcid/start (redirect to ORCID) or /orcid/callback (grant L3 or say why not)."""
    if orcid is None or not orcid.enabled or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return _page(start_response, "404 Not Found", "Not found", "ORCID sign-in is not enabled here.")
    query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING") or "").items()}
    if environ.get("PATH_INFO") == "/orcid/start":
        started = orcid.start(query.get("state", ""))
        if started.redirect_url:
            start_response("302 Found", [("Location", started.redirect_url), ("Content-Length", "0")])
            return [b""]
        assert started.refusal is not None
        return _refused(start_response, started.refusal)
    outcome = orcid.callback(code=query.get("code"), state=query.get("state"), error=query.get("error"))
    if outcome.status != "verified":
        return _refused(start_response, outcome)
    profile = outcome.profile
    assert profile is not None
    trust = profile.trust
    body = (
        f"<p>ORCID confirmed the iD <strong>{html.escape(outcome.orcid_signed_in or '')}</strong>, the ORCID "
        f"iD of <strong>{html.escape(outcome.researcher_name)}</strong>.</p>"
        "<p>Your claim is now ORCID-verified: the profile shows "
        f"<strong>Verification L{trust.level}</strong> and "
        f"<strong>Trust {trust.score} - {html.escape(trust.label)}</strong>.</p>"
        "<p>You can close this page and go back to Slack.</p>"
    )
    log.info("orcid: claim of %s verified (L3)", outcome.orcid_signed_in)
    return _page(start_response, "200 OK", "Verified with ORCID", body, raw=True)


def _refused(start_response: StartResponse, outcome: OrcidOutcome) -> Iterable[bytes]:
    log.info("orcid: refused (%s)", outcome.status)
    title = _TITLES.get(outcome.status, "ORCID sign-in failed")
    reason = outcome.detail[:1].upper() + outcome.detail[1:] if outcome.detail else title
    body = (
        f"<p>{html.escape(reason)}.</p>"
        "<p>Nothing changed. Start again with <em>Verify with ORCID</em> on your card in Slack.</p>"
    )
    status = (
        "403 Forbidden" if outcome.status in ("bad_state", "replayed", "not_claimant") else "400 Bad Request"
    )
    if outcome.status == "orcid_error":
        status = "502 Bad Gateway"
    return _page(start_response, status, title, body, raw=True)


def _page(
    start_response: StartResponse, status: str, title: str, body: str, *, raw: bool = False
) -> Iterable[bytes]:
    content = body if raw else f"<p>{html.escape(body)}</p>"
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · BZPEER</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    ).encode()
    start_response(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(page))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [page]
