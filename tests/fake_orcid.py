"""A local ORCID over real HTTP on 127.0.0.1:0: `/oauth/token` answers codes the test granted
(which iD "signed in"), records every request, and refuses anything else."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

CLIENT_ID = "APP-BZPEERTEST0001"
CLIENT_SECRET = "orcid-client-secret-5c4b"


class FakeOrcid:
    """What ORCID's token endpoint answers: a code the test granted becomes that iD, once."""

    def __init__(self) -> None:
        self.url = ""
        self.codes: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def grant(self, code: str, orcid: str) -> None:
        """As if the member signed in at ORCID as `orcid` and ORCID issued `code`."""
        with self._lock:
            self.codes[code] = orcid

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            orcid = self.codes.pop(form.get("code", ""), None)  # codes are single use
        if orcid is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        return 200, {
            "access_token": "orcid-access-token",
            "token_type": "bearer",
            "refresh_token": "orcid-refresh-token",
            "expires_in": 631138518,
            "scope": "/authenticate",
            "name": "Samyadeep Basu",
            "orcid": orcid,
        }


@contextmanager
def running_orcid() -> Iterator[FakeOrcid]:
    fake = FakeOrcid()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(raw).items()}
            fake.requests.append(
                {
                    "path": self.path,
                    "form": form,
                    "accept": self.headers.get("Accept"),
                    "type": self.headers.get("Content-Type"),
                }
            )
            status, body = fake._token(form) if self.path == "/oauth/token" else (404, {"error": "not found"})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
