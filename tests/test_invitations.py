"""Invitations end to end: signed requests through the Bolt app against the fake Slack (group
DMs, DMs across workspaces, chat.update), the limits and consent rules, and the check-back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from bot.collaboration_sender import SlackInvitationSender, WorkspaceClients
from bot.runtime import Runtime
from handlers.ids import Action
from services.collaboration.claim_service import ClaimService
from services.collaboration.claim_types import Reviewer
from services.collaboration.invitation_service import InvitationService
from services.collaboration.invitation_types import InvitationView, PostedMessage
from services.store.engine import session_scope
from services.store.models import Researcher
from services.workspaces.members import Viewer
from tests.collab_support import (
    ADMIN,
    ALICE,
    BOB,
    OTHER_ADMIN,
    SAM,
    SAM_ELSEWHERE,
    SEED,
    ack_body,
    add_people,
    claim_and_approve,
    dms_to,
    invitations,
    invite_via_modal,
    last_view,
    posted_with,
    posts,
    press_as,
    researcher_id,
)
from tests.slack_support import (
    SlackDriver,
    all_text,
    button,
    buttons,
    open_home,
    press,
    published_home,
    submit_view,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(driver: SlackDriver) -> SlackDriver:
    add_people(driver)
    return driver


def _intro(driver: SlackDriver) -> dict[str, Any]:
    intros = posted_with(driver, Action.INVITE_ACCEPT)
    assert intros, "no invitation was posted"
    return intros[-1]


def _status(runtime: Runtime) -> list[str]:
    return [i.status for i in invitations(runtime.services.engine)]


# ---------------------------------------------------------------------------------------------
# Done when: claim, approve, invite, accept, through signed requests


def test_suggestions_can_be_followed_and_invited_from_the_collaborators_reply(
    people: SlackDriver,
) -> None:
    claim_and_approve(people, SAM)
    people.command("collaborators Tom Goldstein")
    blocks = people.last_reply()["blocks"]

    def actions_of(name: str) -> dict[str, Any]:
        at = next(
            i for i, b in enumerate(blocks) if b.get("text", {}).get("text", "").startswith(f"*{name}*")
        )
        return dict(blocks[at + 1])

    claimed, unclaimed = actions_of(SEED), actions_of("Xuchen You")
    labels = [e["text"]["text"] for e in claimed["elements"]]
    assert labels == ["View profile", "Follow", "Invite to collaborate"]
    assert [e["text"]["text"] for e in unclaimed["elements"]] == ["View profile", "Follow"]

    follow = claimed["elements"][1]
    press(people, follow, block_id=claimed["block_id"])
    note = people.last_reply()
    assert note["replace_original"] is False  # the other suggestions stay on screen
    assert f"You now follow *{SEED}*" in all_text(note)
    assert "Unfollow" in buttons(note)

    press(people, claimed["elements"][2], block_id=claimed["block_id"])
    modal = last_view(people)
    assert modal["callback_id"] == "invite" and SEED in all_text(modal)


def test_claim_approve_invite_accept_end_to_end(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    people.command(SEED)
    card = people.last_reply()
    assert "Trust 43 - Established · Verification L2 · Claimed" in all_text(card)
    assert "Invite to collaborate" in buttons(card)

    # The card's button opens the same modal as `/peer invite`.
    press(people, buttons(card)["Invite to collaborate"])
    modal = last_view(people)
    assert modal["callback_id"] == "invite" and "Samyadeep Basu" in all_text(modal)
    response = submit_view(
        people,
        modal,
        {"invite_message": {"invite_message": {"value": "Your influence-function work <3 — shall we talk?"}}},
    )
    assert ack_body(response)["response_action"] == "update"
    assert "Invitation sent to *Samyadeep Basu*" in all_text(last_view(people, "views.update"))

    opened = people.local.calls_to("conversations.open")[-1]
    assert opened.params["users"] == "U0ALICE,U0SAM"
    group = opened.response["channel"]["id"]
    assert group.startswith("G")
    intro = _intro(people)
    assert intro["_channel"] == group
    text = all_text(intro)
    assert "<@U0ALICE> would like to collaborate with <@U0SAM>" in text
    assert "> Your influence-function work &lt;3 — shall we talk?" in text
    assert "*Samyadeep Basu* · Trust 43 - Established · Verification L2 · Claimed · 2 works" in text
    assert "<@U0ALICE>: _no claimed profile yet_" in text
    assert {"Accept", "Decline", "Mute this person", "Mute all invitations"} <= set(buttons(intro))
    assert "Only <@U0SAM> can answer" in text
    stored = invitations(runtime.services.engine)[-1]
    assert (stored.status, stored.channel_id, stored.thread_ts) == ("open", group, intro["_ts"])

    # Forged presses: properly signed, wrong user; nothing changes.
    for who in (ALICE, ADMIN, BOB, SAM_ELSEWHERE):
        press_as(people, intro, Action.INVITE_ACCEPT, who)
        refusal = people.last_reply()
        assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
        assert "Only the person invited can answer this invitation." in all_text(refusal)
    assert _status(runtime) == ["open"] and not people.local.calls_to("chat.update")

    press_as(people, intro, Action.INVITE_ACCEPT, SAM)
    update_call = people.local.calls_to("chat.update")[-1]
    assert (update_call.params["channel"], update_call.params["ts"]) == (group, intro["_ts"])
    updated = all_text(update_call.params)
    assert "<@U0SAM> accepted <@U0ALICE>'s invitation. This thread is yours" in updated
    assert "invite_accept" not in str(update_call.params["blocks"])
    thread = [m for m in posts(people) if m.get("thread_ts") == intro["_ts"]]
    assert thread and "over to you both" in all_text(thread[-1])
    assert _status(runtime) == ["accepted"]

    # A replayed Accept (or a late Decline) changes nothing.
    press_as(people, intro, Action.INVITE_DECLINE, SAM)
    assert "Nothing changed: this invitation was already accepted." in all_text(people.last_reply())
    assert _status(runtime) == ["accepted"] and len(people.local.calls_to("chat.update")) == 1

    # Both Home tabs list it.
    open_home(people, user_id="U0ALICE")
    assert "<@U0SAM> (*Samyadeep Basu*) · accepted" in all_text(published_home(people, "U0ALICE"))
    open_home(people, user_id="U0SAM")
    home = all_text(published_home(people, "U0SAM"))
    assert "_Received_" in home and "<@U0ALICE> · accepted" in home
    assert "*Your researcher profile*" in home and "Edit profile" in buttons(published_home(people, "U0SAM"))


def test_invite_command_prefills_the_message_and_offers_my_works(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people, SAM)
    claim_and_approve(people, ALICE, "Phillip Pope")
    people.command(f"invite {SEED} | Influence &amp; robustness?")
    modal = last_view(people)
    message = next(b for b in modal["blocks"] if b.get("block_id") == "invite_message")
    assert message["element"]["initial_value"] == "Influence & robustness?"
    about = next(b for b in modal["blocks"] if b.get("block_id") == "invite_about")
    labels = [o["text"]["text"] for g in about["element"]["option_groups"] for o in g["options"]]
    assert "The Intrinsic Dimension of Images and Its Impact on Learning" in labels
    work = next(
        o["value"]
        for g in about["element"]["option_groups"]
        for o in g["options"]
        if o["text"]["text"].startswith("Influence Functions")
    )
    values = {
        "invite_message": {"invite_message": {"value": "Let's talk"}},
        "invite_about": {"invite_about": {"selected_option": {"value": work}}},
    }
    submit_view(people, modal, values)
    text = all_text(_intro(people))
    assert "*About:* Influence Functions in Deep Learning Are Fragile" in text
    assert "<@U0ALICE>: *Phillip Pope*" in text
    assert "1 work together" in text and "shared co-authors: Soheil Feizi" in text


def test_a_forged_about_value_is_ignored(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    claim_and_approve(people, ALICE, "Phillip Pope")
    values = {
        "invite_message": {"invite_message": {"value": "Hi"}},
        "invite_about": {"invite_about": {"selected_option": {"value": "w:999999"}}},
    }
    people.command(f"invite {SEED}")
    submit_view(people, last_view(people), values)
    assert invitations(runtime.services.engine)[-1].about is None
    assert "About:" not in all_text(_intro(people))


# ---------------------------------------------------------------------------------------------
# Who cannot be invited, and Follow instead


def test_an_unclaimed_researcher_cannot_be_invited_and_follow_is_offered(people: SlackDriver) -> None:
    people.command(f"invite {SEED}")
    reply = people.last_reply()
    assert "Claim this author entity first to unlock direct invitations." in all_text(reply)
    follow = buttons(reply)["Follow instead"]
    assert follow["action_id"] == Action.FOLLOW
    assert not people.local.calls_to("views.open")
    press(people, follow)
    assert "You now follow *Samyadeep Basu*" in all_text(people.last_reply())


def test_a_closed_researcher_is_declined_politely(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    with session_scope(runtime.services.engine) as session:
        session.execute(
            update(Researcher).where(col(Researcher.name) == SEED).values(open_to_collaborate=False)
        )
    people.command(f"invite {SEED}")
    reply = people.last_reply()
    assert "is not open to collaboration right now, so invitations are paused" in all_text(reply)
    assert "Follow instead" in buttons(reply)


def test_nobody_invites_themselves(people: SlackDriver) -> None:
    claim_and_approve(people, SAM)
    people.command(f"invite {SEED}", user_id="U0SAM")
    assert "is your own profile: you cannot invite yourself" in all_text(people.last_reply())


def test_a_forged_modal_naming_an_unclaimed_researcher_sends_nothing(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people, SAM)
    people.command(f"invite {SEED}")
    modal = last_view(people)
    forged = {
        **modal,
        "private_metadata": f'{{"r": {researcher_id(runtime.services.engine, "Soheil Feizi")}}}',
    }
    response = submit_view(people, forged, {"invite_message": {"invite_message": {"value": "Hi"}}})
    assert "Claim this author entity first" in str(ack_body(response)["view"])
    broken = submit_view(
        people, {**modal, "private_metadata": "{}"}, {"invite_message": {"invite_message": {"value": "Hi"}}}
    )
    assert "out of date" in ack_body(broken)["errors"]["invite_message"]
    empty = submit_view(people, modal, {"invite_message": {"invite_message": {"value": "   "}}})
    assert "Write a few words" in ack_body(empty)["errors"]["invite_message"]
    assert invitations(runtime.services.engine) == []
    assert not posted_with(people, Action.INVITE_ACCEPT)


def test_when_slack_refuses_nothing_is_kept(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    people.local.fail_next("conversations.open", error="user_not_found")
    invite_via_modal(people, ALICE)
    assert "would not deliver the invitation" in all_text(last_view(people, "views.update"))
    assert invitations(runtime.services.engine) == []


# ---------------------------------------------------------------------------------------------
# Decline and mute


def test_decline_closes_the_intro_and_tells_the_inviter_kindly(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    invite_via_modal(people, ALICE)
    press_as(people, _intro(people), Action.INVITE_DECLINE, SAM)
    assert "This invitation is closed." in all_text(people.local.calls_to("chat.update")[-1].params)
    kind = dms_to(people, "U0ALICE")[-1]
    assert "Thanks for reaching out to *Samyadeep Basu*. They can't take this on right now" in all_text(kind)
    assert _status(runtime) == ["declined"]


def test_mutes_stop_invitations_and_home_undoes_them(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    invite_via_modal(people, ALICE)
    press_as(people, _intro(people), Action.INVITE_MUTE_PERSON, SAM)
    assert "you won't get invitations from this person" in all_text(people.last_reply())
    assert _status(runtime) == ["declined"]
    # Alice is told the same kind words as for a decline, never that she was muted.
    assert "muted" not in all_text(dms_to(people, "U0ALICE")[-1]).lower()

    invite_via_modal(people, BOB)
    press_as(people, _intro(people), Action.INVITE_MUTE_ALL, SAM)
    people.command(f"invite {SEED}", user_id="U0ADMIN")
    assert "is not taking invitations through BZPEER right now" in all_text(people.last_reply())

    open_home(people, user_id="U0SAM")
    home = published_home(people, "U0SAM")
    assert "You have muted all invitations." in all_text(home)
    assert "Muted: invitations from <@U0ALICE>" in all_text(home)
    turn_on = button(home, Action.INVITE_UNMUTE)
    assert turn_on["value"] == '{"m":0}'
    press(people, turn_on, user_id="U0SAM")
    people.command(f"invite {SEED}", user_id="U0ADMIN")
    assert last_view(people)["callback_id"] == "invite"
    # Alice stays muted; her pressing the Unmute button mutes nothing of hers and frees nobody.
    unmute_alice = next(
        b["accessory"] for b in published_home(people, "U0SAM")["blocks"] if "Muted: invitations" in str(b)
    )
    press(people, unmute_alice, user_id="U0ALICE")
    people.command(f"invite {SEED}", user_id="U0ALICE")
    assert "is not taking invitations" in all_text(people.last_reply())


# ---------------------------------------------------------------------------------------------
# Limits and consent (service level, time injected)


@dataclass
class RecordingSender:
    """The InvitationSender port, recording what it was asked to send."""

    quiet: bool | None = True
    sent: list[tuple[str, int]] = field(default_factory=list)

    def send_invitation(self, invitation: InvitationView) -> PostedMessage:
        self.sent.append(("invitation", invitation.id))
        return PostedMessage(channel=f"G{invitation.id:07d}", ts=f"1700000000.{invitation.id:06d}")

    def update_invitation(self, invitation: InvitationView) -> None:
        self.sent.append(("update:" + invitation.status, invitation.id))

    def start_conversation(self, invitation: InvitationView) -> None:
        self.sent.append(("thread", invitation.id))

    def exchange_contacts(self, invitation: InvitationView) -> None:
        self.sent.append(("contacts", invitation.id))

    def tell_declined(self, invitation: InvitationView) -> None:
        self.sent.append(("declined", invitation.id))

    def thread_is_quiet(self, invitation: InvitationView) -> bool | None:
        return self.quiet

    def send_check_back(self, invitation: InvitationView) -> None:
        self.sent.append(("check_back", invitation.id))


def _claimed(runtime: Runtime, count: int) -> list[tuple[Viewer, int]]:
    """`count` researchers, each claimed (approved) by their own member."""
    claims = ClaimService(runtime.services.engine)
    names = [
        "Samyadeep Basu",
        "Phillip Pope",
        "Soheil Feizi",
        "Xuchen You",
        "Aounon Kumar",
        "Alexander Levine",
        "Tom Goldstein",
    ]
    people = []
    for index, name in enumerate(names[:count]):
        viewer = Viewer("T0TEAM1", f"U0R{index}")
        rid = researcher_id(runtime.services.engine, name)
        outcome = claims.claim(viewer, rid, identity=None, now=NOW)
        assert outcome.claim is not None
        claims.decide(outcome.claim.id, approve=True, reviewer=Reviewer(ADMIN, True), now=NOW)
        people.append((viewer, rid))
    return people


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def service(runtime: Runtime, sender: RecordingSender) -> InvitationService:
    return InvitationService(runtime.services.engine, sender)


def test_at_most_five_open_invitations_per_inviter(runtime: Runtime, service: InvitationService) -> None:
    targets = _claimed(runtime, 7)
    for _viewer, rid in targets[:5]:
        assert service.invite(ALICE, rid, message="Hi", now=NOW).status == "sent"
    refused = service.invite(ALICE, targets[5][1], message="Hi", now=NOW)
    assert refused.status == "limit" and refused.check.open_count == 5
    assert service.check(ALICE, targets[5][1], now=NOW).status == "limit"
    # An answer frees a slot; so does time (30 days without an answer).
    first = invitations(runtime.services.engine)[0]
    assert first.id is not None
    service.answer(first.id, targets[0][0], "accept", now=NOW)
    assert service.invite(ALICE, targets[5][1], message="Hi", now=NOW).status == "sent"
    assert service.check(ALICE, targets[6][1], now=NOW + timedelta(days=31)).status == "ok"
    assert len(invitations(runtime.services.engine)) == 6


def test_one_open_invitation_per_pair_in_either_direction(
    runtime: Runtime, service: InvitationService
) -> None:
    (sam, sam_rid), (phil, phil_rid) = _claimed(runtime, 2)
    assert service.invite(phil, sam_rid, message="Hi", now=NOW).status == "sent"
    assert service.invite(phil, sam_rid, message="Again", now=NOW).status == "pair_open"
    assert service.invite(sam, phil_rid, message="Back", now=NOW).status == "pair_open"
    assert len(invitations(runtime.services.engine)) == 1


def test_a_declined_pair_waits_thirty_days(runtime: Runtime, service: InvitationService) -> None:
    ((sam, sam_rid),) = _claimed(runtime, 1)
    sent = service.invite(ALICE, sam_rid, message="Hi", now=NOW)
    assert sent.invitation is not None
    service.answer(sent.invitation.id, sam, "decline", now=NOW)
    later = service.check(ALICE, sam_rid, now=NOW + timedelta(days=29))
    assert later.status == "cooldown" and later.until == NOW + timedelta(days=30)
    assert service.invite(ALICE, sam_rid, message="Hi", now=NOW + timedelta(days=29)).status == "cooldown"
    assert (
        service.invite(ALICE, sam_rid, message="Hi", now=NOW + timedelta(days=30, seconds=1)).status == "sent"
    )


def test_only_the_invitee_answers_at_service_level(
    runtime: Runtime, service: InvitationService, sender: RecordingSender
) -> None:
    ((sam, sam_rid),) = _claimed(runtime, 1)
    sent = service.invite(ALICE, sam_rid, message="Hi", now=NOW)
    assert sent.invitation is not None
    for who in (ALICE, BOB, Viewer("T0TEAM2", sam.user_id)):
        assert service.answer(sent.invitation.id, who, "accept", now=NOW).status == "not_invitee"
    assert service.answer(999_999, sam, "accept", now=NOW).status == "gone"
    assert _status(runtime) == ["open"] and sender.sent == [("invitation", sent.invitation.id)]


# ---------------------------------------------------------------------------------------------
# Check-back and expiry


def test_check_back_after_seven_quiet_days_once(
    runtime: Runtime, service: InvitationService, sender: RecordingSender
) -> None:
    (sam, sam_rid), (_phil, phil_rid) = _claimed(runtime, 2)
    quiet = service.invite(ALICE, sam_rid, message="Hi", now=NOW)
    assert quiet.invitation is not None
    service.answer(quiet.invitation.id, sam, "accept", now=NOW + timedelta(hours=1))
    assert service.check_back_due(now=NOW + timedelta(days=6, hours=23)) == []
    due = service.check_back_due(now=NOW + timedelta(days=7))
    assert [v.id for v in due] == [quiet.invitation.id]

    report = service.send_check_backs(now=NOW + timedelta(days=7))
    assert (report.due, report.sent) == (1, 1)
    assert ("check_back", quiet.invitation.id) in sender.sent
    assert service.send_check_backs(now=NOW + timedelta(days=8)).sent == 0  # never twice

    talking = service.invite(BOB, phil_rid, message="Hi", now=NOW)
    sender.quiet = False
    report = service.send_check_backs(now=NOW + timedelta(days=8))
    assert (report.talking, report.sent) == (1, 0)
    assert talking.invitation is not None and ("check_back", talking.invitation.id) not in sender.sent


def test_unanswered_invitations_expire_after_thirty_days(
    runtime: Runtime, service: InvitationService, sender: RecordingSender
) -> None:
    ((_, sam_rid),) = _claimed(runtime, 1)
    sent = service.invite(ALICE, sam_rid, message="Hi", now=NOW)
    assert sent.invitation is not None
    report = service.send_check_backs(now=NOW + timedelta(days=30))
    assert report.expired == 1 and _status(runtime) == ["expired"]
    assert ("update:expired", sent.invitation.id) in sender.sent


def test_check_back_job_posts_in_the_thread_through_slack(people: SlackDriver, runtime: Runtime) -> None:
    claim_and_approve(people, SAM)
    invite_via_modal(people, ALICE)
    intro = _intro(people)
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    report = runtime.services.invitations.send_check_backs(now=later)
    assert report.sent == 1
    replies = people.local.calls_to("conversations.replies")
    assert replies and replies[-1].params["ts"] == intro["_ts"]
    check_back = [m for m in posts(people) if m.get("thread_ts") == intro["_ts"]][-1]
    assert "Checking back: <@U0SAM>, <@U0ALICE>'s invitation is still open" in all_text(check_back)
    assert runtime.services.invitations.send_check_backs(now=later + timedelta(days=1)).sent == 0


# ---------------------------------------------------------------------------------------------
# Across workspaces


def test_invitation_across_workspaces_goes_to_the_invitee_where_they_are(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people, SAM_ELSEWHERE, admin=OTHER_ADMIN)
    people.command(SEED)
    assert "Verification L2 · Claimed" in all_text(people.last_reply())
    invite_via_modal(people, ALICE, message="Hello from another lab")
    assert "They got it as a DM in their workspace" in all_text(last_view(people, "views.update"))

    intro = _intro(people)
    assert people.local.calls_to("conversations.open")[-1].params["users"] == "U0SAM2"
    text = all_text(intro)
    assert "*Alice Example* from the *Local* workspace would like to collaborate with you." in text
    assert "<@U0ALICE>" not in text and "alice@lab.example.org" not in text
    assert "each other's Slack name and e-mail" in text

    # Alice (another workspace) and an admin there cannot answer for Sam.
    for who in (ALICE, OTHER_ADMIN, SAM):
        press_as(people, intro, Action.INVITE_ACCEPT, who)
        assert "Only the person invited can answer" in all_text(people.last_reply())
    assert _status(runtime) == ["open"]

    press_as(people, intro, Action.INVITE_ACCEPT, SAM_ELSEWHERE)
    assert _status(runtime) == ["accepted"]
    to_alice = all_text(dms_to(people, "U0ALICE")[-1])
    assert "*Samyadeep Basu* (Local workspace) accepted your invitation" in to_alice
    assert "E-mail: samyadeep@umd.edu" in to_alice
    to_sam = all_text(dms_to(people, "U0SAM2")[-1])
    assert "You accepted *Alice Example* (Local workspace)'s invitation" in to_sam
    assert "E-mail: alice@lab.example.org" in to_sam
    assert "You accepted." in all_text(people.local.calls_to("chat.update")[-1].params)


def test_each_workspace_is_reached_with_its_own_token(runtime: Runtime, local_slack: Any) -> None:
    tokens = {"T0TEAM1": "xoxb-team-one", "T0TEAM2": "xoxb-team-two"}
    clients = WorkspaceClients(runtime.settings, token_for=tokens.get)
    service = InvitationService(runtime.services.engine, SlackInvitationSender(clients))
    claims = ClaimService(runtime.services.engine)
    rid = researcher_id(runtime.services.engine)
    outcome = claims.claim(SAM_ELSEWHERE, rid, identity=None, now=NOW)
    assert outcome.claim is not None
    claims.decide(outcome.claim.id, approve=True, reviewer=Reviewer(OTHER_ADMIN, True), now=NOW)
    sent = service.invite(ALICE, rid, message="Hi", now=NOW)
    assert sent.status == "sent"
    post = local_slack.calls_to("chat.postMessage")[-1]
    assert post.token == "xoxb-team-two"
    # The inviter's name and workspace are read with the inviter's own token.
    assert {c.token for c in local_slack.calls_to("users.info")} == {"xoxb-team-one"}
    assert not WorkspaceClients(runtime.settings, token_for=tokens.get).client("T0NOTINSTALLED")
