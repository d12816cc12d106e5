"""Acks first: every listener answers Slack before it calls the Web API or a response_url, so a
slow Slack never pushes an ack past Slack's 3 s (issue 14, finding 3).

The three cases of the issue run with the production pools and one slowed Slack method, and
assert order: the ack came back while the slowed call still owed its answer. The guard drives
every registered listener with its work held back, so whatever reached Slack had done so before
the ack; a listener added without a row here fails the coverage check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from sqlmodel import Session, select

from bot.app import build_bolt_app
from bot.local.signed_requests import (
    FORM,
    Actor,
    SourceMessage,
    block_actions,
    direct_message,
    event_callback,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission,
)
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack, RecordedCall
from bot.runtime import Runtime
from handlers.ids import Action, InviteInput, ProfileInput, ScheduleInput
from handlers.ids import View as ViewId
from handlers.values import (
    AuthorIdValue,
    ChannelAuthorValue,
    ChannelLookupValue,
    ChannelResearcherValue,
    ChannelTopicValue,
    ClaimValue,
    EditMetadata,
    ExpertsValue,
    GraphShareValue,
    InvitationValue,
    InviteMetadata,
    LookupValue,
    PapersValue,
    ResearcherValue,
    TopicChoiceValue,
    TopicValue,
    UnmuteValue,
)
from services.store.models import Topic
from tests.collab_support import SAM, SEED, ack_body, add_people, claim_and_approve, last_view, researcher_id
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.process_support import wait_until
from tests.slack_support import SlackDriver, all_text, buttons, open_home, press, published_home, submit_view

# Slack's whole ack budget: an ack that waited for the slowed call would come after it.
DELAY = 3.0
TEAM, USER, ADMIN = "T0TEAM1", "U0ALICE", "U0ADMIN"


def _production_pools(runtime: Runtime, local: LocalSlack) -> SlackDriver:
    """The app as a web process builds it: acks come back while the work goes on."""
    return SlackDriver(
        app=build_bolt_app(runtime.settings, runtime.services), local=local, secret=SIGNING_SECRET
    )


def _answered(local: LocalSlack, method: str) -> bool:
    """`method` was called and answered: the listener's last step is done."""
    return bool(local.calls_to(method)) and not local.busy


def _answered_after(acked_at: float, call: RecordedCall) -> bool:
    """The ack came back before Slack answered `call` (the stand-in answers DELAY after it)."""
    return acked_at < call.at + DELAY


# ---------------------------------------------------------------------------------------------
# The three cases


def test_a_follow_press_is_acked_while_users_info_is_still_unanswered(
    driver: SlackDriver, runtime: Runtime, local_slack: LocalSlack
) -> None:
    local_slack.add_user(SlackUser(USER, TEAM, "alice", "Alice", tz="Asia/Kolkata"))
    driver.command(SEED)
    follow = buttons(driver.last_reply())["Follow"]
    local_slack.clear()
    production = _production_pools(runtime, local_slack)
    local_slack.slow_next("users.info", DELAY)

    response = press(production, follow)
    acked_at = time.time()

    assert response.status == 200
    assert wait_until(lambda: bool(production.replies()), timeout=30)
    (asked,) = local_slack.calls_to("users.info")  # the member's time zone, on their first follow
    assert _answered_after(acked_at, asked)
    assert f"You now follow *{SEED}*" in all_text(production.last_reply())


def test_the_home_tab_event_is_acked_while_views_publish_is_still_unanswered(
    runtime: Runtime, local_slack: LocalSlack
) -> None:
    local_slack.add_user(SlackUser(USER, TEAM, "alice", "Alice", tz="Asia/Kolkata"))
    production = _production_pools(runtime, local_slack)
    local_slack.slow_next("views.publish", DELAY)

    response = open_home(production)
    acked_at = time.time()

    assert response.status == 200
    assert wait_until(lambda: _answered(local_slack, "views.publish"), timeout=30)
    (published,) = local_slack.calls_to("views.publish")
    assert _answered_after(acked_at, published)
    assert "Edit schedule" in buttons(published_home(production))


def test_an_invitation_is_acked_while_its_chat_post_message_is_still_unanswered(
    driver: SlackDriver, runtime: Runtime, local_slack: LocalSlack
) -> None:
    add_people(driver)
    claim_and_approve(driver, SAM)
    driver.command(f"invite {SEED}")
    modal = last_view(driver)
    local_slack.clear()
    production = _production_pools(runtime, local_slack)
    local_slack.slow_next("chat.postMessage", DELAY)

    message = {InviteInput.MESSAGE: {InviteInput.MESSAGE: {"type": "plain_text_input", "value": "Talk?"}}}
    response = submit_view(production, modal, message)
    acked_at = time.time()

    assert response.status == 200
    assert f"Sending your invitation to *{SEED}*" in all_text(ack_body(response)["view"])
    assert wait_until(lambda: _answered(local_slack, "views.update"), timeout=30)
    intro = local_slack.calls_to("chat.postMessage")[0]
    assert _answered_after(acked_at, intro)
    assert f"Invitation sent to *{SEED}*" in all_text(last_view(production, "views.update"))


# ---------------------------------------------------------------------------------------------
# The guard: every listener


class HeldExecutor(Executor):
    """Keeps submitted work until the test runs it: what reached Slack by the time dispatch()
    returned was sent before the ack."""

    def __init__(self) -> None:
        self.held: list[tuple[Future[Any], Callable[[], Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.held.append((future, lambda: fn(*args, **kwargs)))
        return future

    def run_held(self) -> None:
        while self.held:
            future, run = self.held.pop(0)
            try:
                future.set_result(run())
            except BaseException as error:  # kept on the future, as a pool would
                future.set_exception(error)


@dataclass(frozen=True)
class Delivery:
    """One request as Slack sends it, and whether its listener answers anyone in Slack."""

    name: str
    body: str
    content_type: str = FORM
    answers: bool = True

    def request(self) -> BoltRequest:
        headers = signed_headers(SIGNING_SECRET, self.body, content_type=self.content_type)
        return BoltRequest(body=self.body, headers=dict(headers))


def _actor(user: str = USER) -> Actor:
    return Actor(TEAM, user, "C0GENERAL")


def _button(
    local: LocalSlack, action_id: str, value: str | None, *, user: str = USER, in_home: bool = False
) -> str:
    element = {"type": "button", "action_id": action_id, "value": value}
    if in_home:
        return interactive_body(block_actions(_actor(user), element, view={"id": "V0HOME", "type": "home"}))
    message = SourceMessage("C0GENERAL", "1.2", "", [], ephemeral=True)
    payload = block_actions(_actor(user), element, message=message, response_url=local.response_url())
    return interactive_body(payload)


def _submission(callback_id: str, values: dict[str, Any], metadata: str = "", user: str = USER) -> str:
    view = {
        "id": "V0MODAL",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "state": {"values": values},
    }
    return interactive_body(view_submission(_actor(user), view))


def _command(local: LocalSlack, text: str) -> str:
    return slash_command_body(_actor(), "/peer", text, local.response_url())


def _deliveries(local: LocalSlack, rid: int, topic_id: int) -> list[Delivery]:
    researcher = ResearcherValue(researcher_id=rid).dump()
    topic = TopicValue(topic_id=topic_id).dump()
    on_topic = [Action.TOPIC_FOLLOW, Action.TOPIC_MUTE, Action.TOPIC_UNMUTE, Action.TOPIC_UNFOLLOW]
    on_researcher = [
        Action.VIEW_PROFILE,
        Action.WHY_SCORE,
        Action.SHARE_PROFILE,
        Action.CARD_MORE,
        Action.COLLABORATORS,
        Action.GRAPH,
        Action.VIEW_PROFILE_NEW_MESSAGE,
        Action.FOLLOW,
        Action.MUTE_RESEARCHER,
        Action.UNMUTE_RESEARCHER,
        Action.UNFOLLOW,
        Action.CLAIM,
        Action.PROFILE_EDIT,
        Action.INVITE,
    ]
    claim, invitation = ClaimValue(claim_id=1).dump(), InvitationValue(invitation_id=1).dump()
    schedule = {
        ScheduleInput.FREQUENCY: {ScheduleInput.FREQUENCY: {"selected_option": {"value": "daily"}}},
        ScheduleInput.TIME: {ScheduleInput.TIME: {"value": "08:30"}},
    }
    headline = {ProfileInput.HEADLINE: {ProfileInput.HEADLINE: {"value": "Interpretability"}}}
    note = {InviteInput.MESSAGE: {InviteInput.MESSAGE: {"value": "Shall we talk?"}}}
    return [
        Delivery("/peer QUERY", _command(local, SEED)),  # answered inside the ack
        Delivery("/peer follow QUERY", _command(local, f"follow {SEED}")),  # answered after it
        *(Delivery(action, _button(local, action, researcher)) for action in on_researcher),
        *(Delivery(action, _button(local, action, topic)) for action in on_topic),
        Delivery(
            Action.TOPIC_VIEW,
            _button(local, Action.TOPIC_VIEW, TopicChoiceValue(openalex_id="T10017").dump()),
        ),
        Delivery(Action.PAPERS, _button(local, Action.PAPERS, PapersValue(researcher_id=rid).dump())),
        Delivery(
            Action.PAPERS_PAGE,
            _button(local, f"{Action.PAPERS_PAGE}:next", PapersValue(researcher_id=rid).dump()),
        ),
        Delivery(
            Action.WHO_PAGE,
            _button(
                local, f"{Action.WHO_PAGE}:next", ExpertsValue(query="influence functions", page=2).dump()
            ),
        ),
        Delivery(
            Action.PAPERS_CLEAR_FILTER,
            _button(local, f"{Action.PAPERS_CLEAR_FILTER}:year", PapersValue(researcher_id=rid).dump()),
        ),
        Delivery(
            Action.GRAPH_SHARE,
            _button(
                local, Action.GRAPH_SHARE, GraphShareValue(researcher_id=rid, channel_id="C0GENERAL").dump()
            ),
        ),
        *(
            Delivery(
                action,
                _button(
                    local, action, ChannelResearcherValue(researcher_id=rid, channel_id="C0GENERAL").dump()
                ),
            )
            for action in (Action.CHANNEL_FOLLOW, Action.CHANNEL_UNFOLLOW)
        ),
        *(
            Delivery(
                action,
                _button(
                    local, action, ChannelTopicValue(openalex_id="T10017", channel_id="C0GENERAL").dump()
                ),
            )
            for action in (Action.CHANNEL_TOPIC_FOLLOW, Action.CHANNEL_TOPIC_UNFOLLOW)
        ),
        Delivery(
            Action.OPENALEX_LOOKUP, _button(local, Action.OPENALEX_LOOKUP, LookupValue(query="Nobody").dump())
        ),
        Delivery(
            Action.CHANNEL_LOOKUP,
            _button(
                local,
                Action.CHANNEL_LOOKUP,
                ChannelLookupValue(query="Nobody", channel_id="C0GENERAL").dump(),
            ),
        ),
        Delivery(
            Action.CHANNEL_IMPORT,
            _button(
                local,
                Action.CHANNEL_IMPORT,
                ChannelAuthorValue(openalex_id="A5017898742", channel_id="C0GENERAL").dump(),
            ),
        ),
        Delivery(
            Action.OPENALEX_IMPORT,
            _button(local, Action.OPENALEX_IMPORT, AuthorIdValue(openalex_id="A5017898742").dump()),
        ),
        Delivery(Action.OPEN_LINK, _button(local, f"{Action.OPEN_LINK}:orcid", None), answers=False),
        Delivery(Action.DIGEST_SCHEDULE, _button(local, Action.DIGEST_SCHEDULE, None, in_home=True)),
        *(
            Delivery(action, _button(local, action, claim, user=ADMIN))
            for action in (Action.CLAIM_APPROVE, Action.CLAIM_REJECT, Action.CLAIM_REVOKE)
        ),
        *(
            Delivery(action, _button(local, action, invitation))
            for action in (
                Action.INVITE_ACCEPT,
                Action.INVITE_DECLINE,
                Action.INVITE_MUTE_PERSON,
                Action.INVITE_MUTE_ALL,
            )
        ),
        Delivery(
            Action.INVITE_UNMUTE,
            _button(local, Action.INVITE_UNMUTE, UnmuteValue(member_id=0).dump(), in_home=True),
        ),
        Delivery("a button of an older version", _button(local, "retired_button", None)),
        Delivery(ViewId.DIGEST_SCHEDULE, _submission(ViewId.DIGEST_SCHEDULE, schedule)),
        Delivery(
            ViewId.PROFILE_EDIT,
            _submission(
                ViewId.PROFILE_EDIT, headline, EditMetadata(researcher_id=rid, from_home=True).dump()
            ),
            answers=False,  # not Alice's profile: the form says so in the ack
        ),
        Delivery(
            ViewId.INVITE,
            _submission(ViewId.INVITE, note, InviteMetadata(researcher_id=rid).dump()),
            answers=False,  # nobody claimed the profile: the modal says so in the ack
        ),
        Delivery(
            "app_home_opened",
            event_callback(TEAM, {"type": "app_home_opened", "user": USER, "tab": "home"}),
            "application/json",
        ),
        Delivery(
            "message.im",
            event_callback(TEAM, direct_message(Actor(TEAM, USER, "D0ALICE"), f"papers {SEED}")),
            "application/json",
        ),
        # Last: both park the workspace.
        Delivery(
            "app_uninstalled",
            event_callback(TEAM, {"type": "app_uninstalled"}),
            "application/json",
            answers=False,
        ),
        Delivery(
            "tokens_revoked",
            event_callback(TEAM, {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}),
            "application/json",
            answers=False,
        ),
    ]


def test_every_listener_acks_before_it_calls_slack(
    driver: SlackDriver, runtime: Runtime, local_slack: LocalSlack, openalex: FakeOpenAlex
) -> None:
    add_people(driver)
    openalex.add("/autocomplete/authors", {"meta": {"count": 0}, "results": []})
    openalex.add("/authors/A5017898742", fixture("author_A5017898742.json"))
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
    openalex.add_topics(fixture("topic_T10017.json"))
    held = HeldExecutor()
    app = build_bolt_app(runtime.settings, runtime.services, listener_executor=held)
    with Session(runtime.services.engine) as session:
        topic_id = session.exec(select(Topic.id).where(Topic.openalex_id == "T10017")).one() or 0
    deliveries = _deliveries(local_slack, researcher_id(runtime.services.engine), topic_id)

    unmatched = [
        listener
        for listener in app._listeners
        if not any(listener.matches(req=d.request(), resp=BoltResponse(status=404)) for d in deliveries)
    ]
    assert not unmatched, f"listeners without a delivery in this test: {unmatched}"

    # Bolt's single-workspace authorize asks auth.test once per process, before any listener.
    app.dispatch(Delivery("warm-up", _command(local_slack, "help")).request())
    held.run_held()
    for delivery in deliveries:
        local_slack.clear()
        response = app.dispatch(delivery.request())
        assert response.status == 200, (delivery.name, response.body)
        before_ack = [call.method for call in local_slack.calls]
        assert before_ack == [], f"{delivery.name} called Slack before its ack: {before_ack}"
        held.run_held()
        if delivery.answers:
            in_ack = "blocks" in ack_body(response)
            assert in_ack or local_slack.calls, (
                f"{delivery.name} answered nobody: the row does not reach its work"
            )
            assert not (in_ack and local_slack.calls), f"{delivery.name} answered in its ack and after it"
