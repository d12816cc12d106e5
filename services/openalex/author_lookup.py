"""Looking researchers up on OpenAlex from Slack: search, import, and answer with the card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.openalex.client import OpenAlexClient
from services.openalex.importer import ImportService
from services.openalex.records import AuthorCandidate, OpenAlexError
from services.research.identifiers import AuthorRef, InvalidReference, parse_author_ref
from services.research.profiles import Profile, ProfileService
from services.store.text import normalize_name

MAX_CANDIDATES = 8
# A person is waiting on a look-up: past this (retries and backoff included) they are told that
# OpenAlex is slow, instead of watching a "Looking up…" message for the two minutes that the
# patient retries of the refresh job can take.
LOOKUP_BUDGET_SECONDS = 10.0


@dataclass(frozen=True)
class OpenAlexLookup:
    status: Literal["found", "choices", "none", "error"]
    query: str
    profile: Profile | None = None
    candidates: tuple[AuthorCandidate, ...] = ()
    message: str | None = None


class LookupService:
    """Finds authors on OpenAlex and imports the one the user means."""

    def __init__(self, profiles: ProfileService, importer: ImportService, openalex: OpenAlexClient) -> None:
        self._profiles = profiles
        self._importer = importer
        self._openalex = openalex

    def look_up(self, query: str) -> OpenAlexLookup:
        """Search OpenAlex for a name (or fetch an id/ORCID); import when the answer is clear."""
        try:
            ref = parse_author_ref(query)
        except InvalidReference as error:
            return OpenAlexLookup("error", query, message=str(error))
        with self._openalex.time_budget(LOOKUP_BUDGET_SECONDS):
            return self._search_or_import(query, ref)

    def import_author(self, openalex_id: str) -> OpenAlexLookup:
        """Import one OpenAlex author chosen from a pick list and answer with their card."""
        with self._openalex.time_budget(LOOKUP_BUDGET_SECONDS):
            return self._import(openalex_id, AuthorRef("openalex", openalex_id))

    def _search_or_import(self, query: str, ref: AuthorRef) -> OpenAlexLookup:
        if ref.kind != "name":
            return self._import(query, ref)
        try:
            candidates = self._importer.search_openalex(ref.value, limit=MAX_CANDIDATES)
        except OpenAlexError as error:
            return OpenAlexLookup("error", query, message=error.user_message)
        if not candidates:
            return OpenAlexLookup("none", query)
        wanted = normalize_name(ref.value)
        exact = [c for c in candidates if normalize_name(c.display_name) == wanted]
        if len(candidates) == 1 or len(exact) == 1:
            chosen = candidates[0] if len(candidates) == 1 else exact[0]
            return self._import(query, AuthorRef("openalex", chosen.openalex_id))
        return OpenAlexLookup("choices", query, candidates=tuple(candidates))

    def _import(self, query: str, ref: AuthorRef) -> OpenAlexLookup:
        try:
            result = self._importer.import_author(ref)
        except OpenAlexError as error:
            return OpenAlexLookup("error", query, message=error.user_message)
        profile = self._profiles.profile(result.researcher_id)
        if profile is None:
            return OpenAlexLookup("error", query, message="The import finished but the profile is missing.")
        return OpenAlexLookup("found", query, profile=profile)
