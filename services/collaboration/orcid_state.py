"""Signed ORCID sign-in states: which claim, which member, until when, for what step.

Two kinds, one signer. The *link* on a Slack button ("Verify with ORCID") lasts a week, so an
approval DM read days later still works; /orcid/start swaps it for a fresh *sign-in* state that
travels through ORCID and back to /orcid/callback, lasts 10 minutes and is used once (the store
records its nonce). Both are `payload.signature`: base64url JSON and an HMAC-SHA256 over it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

LINK_TTL = timedelta(days=7)
SIGN_IN_TTL = timedelta(minutes=10)
Purpose = Literal["link", "sign_in"]


class BadState(Exception):
    """A state that was forged, altered, meant for another step, or is out of date."""


@dataclass(frozen=True)
class OrcidState:
    claim_id: int
    team_id: str
    user_id: str
    purpose: Purpose
    expires: int  # Unix seconds
    nonce: str


class StateSigner:
    """Signs and checks states with a key derived from the app's secret (never the secret itself)."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"bzpeer orcid state v1", hashlib.sha256).digest()

    def sign(self, *, claim_id: int, team_id: str, user_id: str, purpose: Purpose, now: datetime) -> str:
        """A new state for this claim and member, valid for its purpose's lifetime."""
        ttl = LINK_TTL if purpose == "link" else SIGN_IN_TTL
        body = {
            "c": claim_id,
            "t": team_id,
            "u": user_id,
            "p": purpose,
            "e": int((now + ttl).timestamp()),
            "n": secrets.token_urlsafe(18),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def check(self, state: str, *, purpose: Purpose, now: datetime) -> OrcidState:
        """The state's contents when it is genuine, for this step and unexpired; else BadState."""
        payload, _, mac = (state or "").partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise BadState("this sign-in link was not issued by this app (or was altered)")
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            found = OrcidState(
                claim_id=int(body["c"]),
                team_id=str(body["t"]),
                user_id=str(body["u"]),
                purpose=body["p"],
                expires=int(body["e"]),
                nonce=str(body["n"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BadState("this sign-in link is malformed") from error
        if found.purpose != purpose:
            raise BadState("this sign-in link was meant for another step")
        if now.timestamp() > found.expires:
            raise BadState("this sign-in link has expired")
        return found

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
