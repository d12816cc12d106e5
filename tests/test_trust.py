import pytest

from services.research.trust import TrustSignals, trust_label, trust_snapshot, verification_level


@pytest.mark.parametrize(
    ("works", "score", "label"),
    [
        (0, 9, "Unverified"),
        (1, 11, "Unverified"),
        (2, 13, "Unverified"),
        (5, 19, "Unverified"),
        (6, 21, "Emerging"),
        (40, 21, "Emerging"),
    ],
)
def test_unclaimed_l1_without_followers_matches_bzpeer_pages(works: int, score: int, label: str) -> None:
    snapshot = trust_snapshot(TrustSignals(level=1, works=works, followers=0))
    assert (snapshot.score, snapshot.label) == (score, label)


def test_followers_count_one_each_up_to_nine() -> None:
    assert trust_snapshot(TrustSignals(level=1, works=2, followers=3)).score == 16
    assert trust_snapshot(TrustSignals(level=1, works=2, followers=50)).score == 22


def test_claim_levels_add_thirty_or_forty_five_instead() -> None:
    assert trust_snapshot(TrustSignals(level=2, works=2, followers=0)).score == 43
    assert trust_snapshot(TrustSignals(level=3, works=2, followers=0)).score == 58
    top = trust_snapshot(TrustSignals(level=3, works=9, followers=20))
    assert (top.score, top.label) == (75, "Trusted")


def test_level_zero_has_no_record_base() -> None:
    snapshot = trust_snapshot(TrustSignals(level=0, works=1, followers=0))
    assert snapshot.score == 2
    assert snapshot.signals[0].points == 0


def test_breakdown_adds_up_to_the_score() -> None:
    snapshot = trust_snapshot(TrustSignals(level=2, works=4, followers=2))
    assert sum(s.points for s in snapshot.signals) == snapshot.score == 9 + 8 + 2 + 30


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (19, "Unverified"),
        (20, "Emerging"),
        (39, "Emerging"),
        (40, "Established"),
        (69, "Established"),
        (70, "Trusted"),
    ],
)
def test_label_boundaries(score: int, label: str) -> None:
    assert trust_label(score) == label


def test_verification_levels() -> None:
    assert verification_level(has_persistent_id=False, claim_approved=False, orcid_authenticated=False) == 0
    assert verification_level(has_persistent_id=True, claim_approved=False, orcid_authenticated=False) == 1
    assert verification_level(has_persistent_id=True, claim_approved=True, orcid_authenticated=False) == 2
    assert verification_level(has_persistent_id=True, claim_approved=True, orcid_authenticated=True) == 3
