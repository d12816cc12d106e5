"""ORCID's 3-legged OAuth (`/authenticate` scope): the authorize URL a member is sent to, and
the code-for-token exchange whose `orcid` field is the iD that signed in."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class OrcidError(Exception):
    """ORCID did not confirm a sign-in (refused the code, answered garbage, or was unreachable)."""


@dataclass(frozen=True)
class OrcidConfig:
    """ORCID sign-in settings: the ORCID base URL, this app's ORCID client, where ORCID sends the
    member back, and the secret that signs states."""

    orcid_url: str
    client_id: str
    client_secret: str
    public_url: str
    secret: str

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url.rstrip('/')}/orcid/callback"

    @property
    def start_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/orcid/start"


class OrcidClient:
    """Talks to ORCID; pass `transport=` in tests (or point orcid_url at a stand-in)."""

    def __init__(self, config: OrcidConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self._config = config
        self._http = httpx.Client(base_url=config.orcid_url.rstrip("/"), transport=transport, timeout=TIMEOUT)

    def authorize_url(self, state: str) -> str:
        """Where the member signs in at ORCID; ORCID then redirects to our callback with a code."""
        query = urlencode(
            {
                "client_id": self._config.client_id,
                "response_type": "code",
                "scope": "/authenticate",
                "redirect_uri": self._config.redirect_uri,
                "state": state,
            }
        )
        return f"{self._config.orcid_url.rstrip('/')}/oauth/authorize?{query}"

    def authenticated_orcid(self, code: str) -> str:
        """Exchange a (single-use, short-lived) code for the iD that signed in."""
        try:
            response = self._http.post(
                "/oauth/token",
                data={
                    "client_id": self._config.client_id,
                    "client_secret": self._config.client_secret,
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self._config.redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise OrcidError(f"ORCID could not be reached ({type(error).__name__})") from error
        if response.status_code != 200:
            raise OrcidError(f"ORCID refused the sign-in code (HTTP {response.status_code})")
        try:
            orcid = response.json().get("orcid")
        except ValueError as error:
            raise OrcidError("ORCID's answer was not JSON") from error
        if not isinstance(orcid, str) or not orcid:
            raise OrcidError("ORCID's answer named no iD")
        return orcid

    def close(self) -> None:
        self._http.close()
