"""BZPEER's trust snapshot: a pure, documented function of a profile's signals (README: Trust snapshot).

BZPEER's live pages fit `Trust = 9 + 2 × min(works, 6)` exactly for unclaimed L1 profiles
without followers. What those pages never show is extended here:

| signal                                   | points                     |
|------------------------------------------|----------------------------|
| public record with a persistent id (L1+) | 9                          |
| works in the store                       | 2 each, up to 6 works (12) |
| followers                                | 1 each, up to 9            |
| claim approved (L2)                      | 30                         |
| claim ORCID-authenticated (L3)           | 45 (instead of the 30)     |

Labels: below 20 Unverified, 20–39 Emerging, 40–69 Established, 70 and above Trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

RECORD_POINTS = 9
POINTS_PER_WORK = 2
MAX_SCORED_WORKS = 6
MAX_FOLLOWER_POINTS = 9
CLAIM_POINTS = 30
ORCID_CLAIM_POINTS = 45
LABELS = ((70, "Trusted"), (40, "Established"), (20, "Emerging"), (0, "Unverified"))


@dataclass(frozen=True)
class TrustSignals:
    """What the score is computed from; `level` is the verification level 0–3."""

    level: int
    works: int
    followers: int


@dataclass(frozen=True)
class TrustSignal:
    """One line of the "Why this score?" breakdown."""

    name: str
    detail: str
    points: int


@dataclass(frozen=True)
class TrustSnapshot:
    score: int
    label: str
    level: int
    signals: tuple[TrustSignal, ...]


def verification_level(*, has_persistent_id: bool, claim_approved: bool, orcid_authenticated: bool) -> int:
    """L0 name only, L1 persistent id, L2 approved claim, L3 ORCID-authenticated claim."""
    if claim_approved and orcid_authenticated:
        return 3
    if claim_approved:
        return 2
    return 1 if has_persistent_id else 0


def trust_label(score: int) -> str:
    """The label for a score: Unverified, Emerging, Established or Trusted."""
    return next(label for floor, label in LABELS if score >= floor)


def trust_snapshot(signals: TrustSignals) -> TrustSnapshot:
    """Score a profile and explain each signal's contribution."""
    scored_works = min(max(signals.works, 0), MAX_SCORED_WORKS)
    follower_points = min(max(signals.followers, 0), MAX_FOLLOWER_POINTS)
    parts = [
        TrustSignal(
            "Public record",
            "persistent id (OpenAlex / ORCID / BZPEER record)"
            if signals.level >= 1
            else "no persistent id: name only",
            RECORD_POINTS if signals.level >= 1 else 0,
        ),
        TrustSignal(
            "Published works",
            f"{signals.works} in the store; {POINTS_PER_WORK} each, up to {MAX_SCORED_WORKS}",
            POINTS_PER_WORK * scored_works,
        ),
        TrustSignal(
            "Followers",
            f"{signals.followers}; 1 each, up to {MAX_FOLLOWER_POINTS}",
            follower_points,
        ),
    ]
    if signals.level >= 3:
        parts.append(TrustSignal("Verified claim", "claimed with ORCID sign-in (L3)", ORCID_CLAIM_POINTS))
    elif signals.level == 2:
        parts.append(TrustSignal("Verified claim", "claim approved (L2)", CLAIM_POINTS))
    else:
        parts.append(TrustSignal("Verified claim", "unclaimed author", 0))
    score = sum(part.points for part in parts)
    return TrustSnapshot(score=score, label=trust_label(score), level=signals.level, signals=tuple(parts))
