"""Helpers for the fuzz and integrity tests: what a reply must look like, the store's state as
plain data, an OpenAlex stand-in that answers everything, and hostile input strategies."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from bot.local.slack_server import RecordedCall
from handlers.blocks import within_limits
from tests.fake_openalex import FakeOpenAlex, UnexpectedRequest
from tests.slack_support import all_text

# Tables a button press could change. slack_event (delivery keys) and Slack's OAuth tables are
# bookkeeping, not data a person owns.
DATA_TABLES = (
    "member",
    "follow",
    "topic_follow",
    "topic",
    "delivery",
    "claim",
    "invitation",
    "invitation_mute",
    "researcher",
    "researcher_name",
    "work",
    "authorship",
)

# Markup a hostile (or careless) user can type. Each carries "EVIL"/"evil" so a leak is obvious.
SLACK_MARKUP = (
    "<!here>",
    "<!channel>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0EVIL|@evil-team>",
    "<@UEVIL01>",
    "<@UEVIL01|mallory>",
    "<@WEVIL02>",
    "<#CEVIL01>",
    "<#CEVIL01|general>",
    "<http://evil.example|click>",
    "<https://evil.example/login?next=1&x=2|Samyadeep Basu>",
    "<mailto:evil@evil.example|mail me>",
    "<tel:+15555550100|call>",
    "&lt;!here&gt;",
    "&lt;@UEVIL01&gt;",
    "*bold* _it_ ~strike~ `code` ```block```",
    ">quote",
)
FRAGMENTS = (
    "payload",
    "payload=",
    'payload={"type":"block_actions","actions":[{"action_id":"follow","value":"{\\"r\\":1}"}]}',
    '{"r": 1}',
    '{"text": "<!here>", "blocks": []}',
    '"}]}',
    "[{",
    "\\u0000",
    "%3C%21here%3E",
    "&amp;",
    "%00",
    "' OR 1=1 --",
    "'; DROP TABLE member; --",
    "%",
    "_",
    "\\",
)
WORDS = (
    "Samyadeep",
    "Basu",
    "Samyadeep Basu",
    "Tom Goldstein",
    "year:2021",
    "year:²⁰²¹",
    "type:preprint",
    "type:",
    "daily",
    "weekly",
    "instant",
    "off",
    "at",
    "09:00",
    "25:99",
    "on",
    "monday",
    "preview",
    "page",
    "2",
    "²",
    "٣",
    "0",
    "-1",
    "99999999999999999999999",
    "revoke",
    "|",
    "A5023888391",
    "A99999999999999999",
    "W2741809807",
    "0000-0002-1825-0097",
    "٠٠٠٠-٠٠٠٢-١٨٢٥-٠٠٩٧",
    "https://openalex.org/A5023888391",
    "orcid:0000-0002-1825-0097",
    "help",
)
CONTROL = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co"])

piece = st.one_of(
    st.text(max_size=30),
    st.sampled_from(SLACK_MARKUP),
    st.sampled_from(FRAGMENTS),
    st.sampled_from(WORDS),
    st.text(alphabet=CONTROL, min_size=1, max_size=4),
)
# Slash text: a few pieces, raw unicode, or something far past every length limit.
slash_text = st.one_of(
    st.lists(piece, max_size=8).map(" ".join),
    st.lists(piece, max_size=8).map("".join),
    st.text(max_size=250),
    st.builds(lambda p, n: (p + " ") * n, st.sampled_from(SLACK_MARKUP + WORDS), st.integers(30, 1500)),
)

_small_ids = st.integers(min_value=-3, max_value=25)
_any_int = st.one_of(_small_ids, st.integers(), st.sampled_from([2**31, 2**63, 2**64, -(2**63) - 1, 10**30]))
_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    _any_int,
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(WORDS + SLACK_MARKUP),
)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
_value_keys = st.sampled_from(["r", "p", "y", "t", "q", "a", "c", "i", "m", "h", "u", "team", "user"])
# Button values: JSON shaped like ours (right keys, hostile values), any JSON, any text, nothing.
button_value = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(FRAGMENTS + SLACK_MARKUP),
    _json.map(json.dumps),
    st.dictionaries(_value_keys, _json_scalar, min_size=1, max_size=4).map(json.dumps),
    st.builds(lambda n: json.dumps({"r": n}), _any_int),
    st.builds(lambda n, p: json.dumps({"r": n, "p": p}), _small_ids, _any_int),
    st.builds(lambda n: json.dumps({"c": n}), _any_int),
    st.builds(lambda n: json.dumps({"i": n}), _any_int),
    st.builds(lambda n: json.dumps({"m": n}), _any_int),
    st.builds(lambda q: json.dumps({"q": q}), st.text(max_size=250)),
    st.builds(lambda a: json.dumps({"a": a}), st.sampled_from(WORDS) | st.text(max_size=20)),
    st.builds(lambda s: s * 400, st.sampled_from(['{"r": 1}', "x", "<!here>"])),
)


class AnsweringOpenAlex(FakeOpenAlex):
    """OpenAlex that knows nobody: an empty autocomplete, an HTML 404 for every record."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle(request)
        except UnexpectedRequest:
            self.requests.append(request)
            if request.url.path.startswith("/autocomplete/"):
                return httpx.Response(200, json={"meta": {"count": 0}, "results": []})
            return httpx.Response(404, text="<html>Not Found</html>", headers={"content-type": "text/html"})


class StoreState:
    """Every row of the data tables as sorted tuples: equal snapshots mean nothing changed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._meta = MetaData()
        self._meta.reflect(engine, only=list(DATA_TABLES))

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        with self._engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(select(self._meta.tables[name]))), key=repr)
                for name in DATA_TABLES
            }


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in DATA_TABLES if before[name] != after[name]]


# What the bot may legitimately write in angle brackets: Slack's date formatting.
_BROADCAST = re.compile(r"<!(?!date\^)")
_PLANTED = ("<@UEVIL", "<@WEVIL", "<#CEVIL", "<http://evil", "<https://evil", "<mailto:evil", "<tel:")


def leaks(typed: str, shown: str) -> list[str]:
    """Raw Slack markup that came from `typed` and shows unescaped in `shown`."""
    found = [m.group(0) for m in _BROADCAST.finditer(shown)]
    found += [p for p in _PLANTED if p in shown]
    typed = " ".join(typed.split())
    for start in (i for i, ch in enumerate(typed) if ch == "<"):
        chunk = typed[start : start + 12]
        if len(chunk) >= 6 and chunk in shown:
            found.append(chunk)
    return found


def view_of(call: RecordedCall) -> dict[str, Any] | None:
    view = call.params.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    return view if isinstance(view, dict) else None


def surfaces(calls: list[RecordedCall]) -> Iterator[tuple[str, dict[str, Any]]]:
    """What a person would see from these calls: replies, messages, modals and Home tabs."""
    for call in calls:
        if call.method in ("response_url", "chat.postMessage", "chat.postEphemeral", "chat.update"):
            params = dict(call.params)
            if isinstance(params.get("blocks"), str):
                params["blocks"] = json.loads(params["blocks"])
            yield call.method, params
        elif call.method in ("views.open", "views.publish", "views.update", "views.push"):
            view = view_of(call)
            if view is not None:
                title = (view.get("title") or {}).get("text", "")
                yield call.method, {"text": title, "blocks": view.get("blocks", []), "view": True}
        elif call.method == "files.completeUploadExternal":
            yield call.method, {"text": str(call.params.get("initial_comment") or ""), "blocks": []}


def check_surface(method: str, message: dict[str, Any], typed: str) -> list[str]:
    """Problems with one message or view: invalid blocks, over limits, unescaped input, errors."""
    problems: list[str] = []
    blocks = message.get("blocks") or []
    try:
        for block in Block.parse_all(blocks):
            block.to_dict()  # slack_sdk validates lengths and required fields here
    except Exception as error:  # any validation failure is what we report
        problems.append(f"{method}: invalid Block Kit ({error})")
    if message.get("view"):
        if len(blocks) > 100:
            problems.append(f"{method}: {len(blocks)} blocks in a view")
    elif not within_limits(blocks):
        problems.append(f"{method}: message over Slack's limits")
    shown = all_text(message)
    if "error id" in shown:
        problems.append(f"{method}: an error reply: {shown[:200]!r}")
    problems += [f"{method}: raw markup {leak!r} shown" for leak in leaks(typed, shown)]
    return problems


@dataclass
class Tally:
    """Inputs tried and requests sent, written for benchmarks/chaos.py when BZPEER_FUZZ_TALLY is set."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, test: str, *, inputs: int = 0, requests: int = 0) -> None:
        entry = self.counts.setdefault(test, {"inputs": 0, "requests": 0})
        entry["inputs"] += inputs
        entry["requests"] += requests

    def write(self) -> None:
        target = os.environ.get("BZPEER_FUZZ_TALLY")
        if target:
            with Path(target).open("a", encoding="utf-8") as out:
                for test, entry in self.counts.items():
                    out.write(json.dumps({"test": test, **entry}) + "\n")


def fuzz_examples(default: int) -> int:
    """Examples per fuzz test: small in `make test`, larger when benchmarks/chaos.py asks."""
    return int(os.environ.get("BZPEER_FUZZ_EXAMPLES", default))
