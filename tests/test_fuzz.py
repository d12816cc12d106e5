"""Input fuzzing through signed `app.dispatch`: any slash text, for every subcommand, and any
button value, for every action id, gets a valid Block Kit answer within Slack's limits, with the
user's text escaped, never an error reply or a 5xx, and a tampered button changes nothing.

Examples are few per run (the suite stays fast); `BZPEER_FUZZ_EXAMPLES=500` runs a long session
(benchmarks/chaos.py does, and reports the counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.local.signed_requests import SourceMessage, block_actions, interactive_body
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from handlers.ids import Action
from handlers.parsing import OTHER_SUBCOMMANDS, QUERY_SUBCOMMANDS
from handlers.values import (
    AuthorIdValue,
    ButtonValue,
    ChannelAuthorValue,
    ChannelLookupValue,
    ChannelResearcherValue,
    ChannelTopicValue,
    ClaimValue,
    ExpertsValue,
    GraphShareValue,
    InvitationValue,
    LookupValue,
    PapersValue,
    ResearcherValue,
    TopicChoiceValue,
    TopicValue,
    UnmuteValue,
)
from tests.fake_openalex import FakeOpenAlex
from tests.fuzz_support import (
    AnsweringOpenAlex,
    StoreState,
    Tally,
    button_value,
    changed_tables,
    check_surface,
    fuzz_examples,
    slash_text,
    surfaces,
)
from tests.slack_support import SlackDriver

# "" is the bare `/peer QUERY`.
SUBCOMMANDS = ("", *QUERY_SUBCOMMANDS, *OTHER_SUBCOMMANDS)
FUZZ = settings(
    max_examples=fuzz_examples(10),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The value each button carries; a press may change the store only when its value is one of these.
VALUE_OF: dict[Action, type[ButtonValue] | None] = {
    Action.VIEW_PROFILE: ResearcherValue,
    Action.WHY_SCORE: ResearcherValue,
    Action.SHARE_PROFILE: ResearcherValue,
    Action.CARD_MORE: ResearcherValue,
    Action.OPENALEX_LOOKUP: LookupValue,
    Action.OPENALEX_IMPORT: AuthorIdValue,
    Action.OPEN_LINK: None,
    Action.PAPERS: PapersValue,
    Action.PAPERS_PAGE: PapersValue,
    Action.PAPERS_CLEAR_FILTER: PapersValue,
    Action.WHO_PAGE: ExpertsValue,
    Action.COLLABORATORS: ResearcherValue,
    Action.GRAPH: ResearcherValue,
    Action.GRAPH_SHARE: GraphShareValue,
    Action.VIEW_PROFILE_NEW_MESSAGE: ResearcherValue,
    Action.FOLLOW: ResearcherValue,
    Action.UNFOLLOW: ResearcherValue,
    Action.MUTE_RESEARCHER: ResearcherValue,
    Action.UNMUTE_RESEARCHER: ResearcherValue,
    Action.DIGEST_SCHEDULE: None,
    Action.CHANNEL_FOLLOW: ChannelResearcherValue,
    Action.CHANNEL_UNFOLLOW: ChannelResearcherValue,
    Action.CHANNEL_TOPIC_FOLLOW: ChannelTopicValue,
    Action.CHANNEL_TOPIC_UNFOLLOW: ChannelTopicValue,
    Action.CHANNEL_LOOKUP: ChannelLookupValue,
    Action.CHANNEL_IMPORT: ChannelAuthorValue,
    Action.CLAIM: ResearcherValue,
    Action.CLAIM_APPROVE: ClaimValue,
    Action.CLAIM_REJECT: ClaimValue,
    Action.CLAIM_REVOKE: ClaimValue,
    Action.PROFILE_EDIT: ResearcherValue,
    Action.INVITE: ResearcherValue,
    Action.INVITE_ACCEPT: InvitationValue,
    Action.INVITE_DECLINE: InvitationValue,
    Action.INVITE_MUTE_PERSON: InvitationValue,
    Action.INVITE_MUTE_ALL: InvitationValue,
    Action.INVITE_UNMUTE: UnmuteValue,
    Action.TOPIC_VIEW: TopicChoiceValue,
    Action.TOPIC_FOLLOW: TopicValue,
    Action.TOPIC_UNFOLLOW: TopicValue,
    Action.TOPIC_MUTE: TopicValue,
    Action.TOPIC_UNMUTE: TopicValue,
}
# Buttons that live on the Home tab too (pressed there, they come without a response_url).
HOME_ACTIONS = {
    Action.FOLLOW,
    Action.UNFOLLOW,
    Action.MUTE_RESEARCHER,
    Action.UNMUTE_RESEARCHER,
    Action.DIGEST_SCHEDULE,
    Action.PROFILE_EDIT,
    Action.INVITE_UNMUTE,
    Action.TOPIC_FOLLOW,
    Action.TOPIC_UNFOLLOW,
    Action.TOPIC_MUTE,
    Action.TOPIC_UNMUTE,
}
# Presses that need no answer: a URL button, and buttons whose answer is a modal or Home tab.
QUIET_ACTIONS = {Action.OPEN_LINK, Action.DIGEST_SCHEDULE, Action.INVITE_UNMUTE}

Surface = Literal["ephemeral", "message", "view"]


@pytest.fixture
def openalex() -> FakeOpenAlex:
    return AnsweringOpenAlex()


@pytest.fixture(autouse=True)
def _alice_is_known(local_slack: LocalSlack) -> None:
    # users.info answers for the presser (as Slack would), so the logs stay quiet.
    local_slack.add_user(SlackUser(id="U0ALICE", team_id="T0TEAM1", name="alice", real_name="Alice Example"))


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    counts.write()


def test_every_action_id_is_fuzzed() -> None:
    assert set(VALUE_OF) == set(Action)


def _problems(local_slack: LocalSlack, start: int, typed: str) -> tuple[list[str], int]:
    calls = local_slack.calls[start:]
    problems = [f"response_url refused: {c.error}" for c in calls if c.method == "response_url" and c.error]
    shown = 0
    for method, message in surfaces(calls):
        shown += 1
        problems += check_surface(method, message, typed)
    return problems, shown


def test_any_slash_text_gets_a_clean_reply_from_every_subcommand(
    driver: SlackDriver, local_slack: LocalSlack, tally: Tally
) -> None:
    @FUZZ
    @given(text=slash_text)
    @example(text="<!here> <@UEVIL01> <#CEVIL01|x> <http://evil.example|click> payload")
    @example(text="Samyadeep Basu | <!channel> &lt;!here&gt; please")
    @example(text="²")
    @example(text="page ²")
    @example(text="weekly on ³ at ٠٩:٣٠")
    @example(text="Samyadeep\x00Basu")
    @example(text="\x00")
    @example(text="a" * 20_000)
    def run(text: str) -> None:
        for sub in SUBCOMMANDS:
            typed = f"{sub} {text}" if sub else text
            start = len(local_slack.calls)
            response = driver.command(typed)
            tally.add("slash", requests=1)
            assert response.status == 200, (typed, response.status, response.body)
            problems, shown = _problems(local_slack, start, typed)
            assert not problems, (typed, problems)
            assert shown, f"no answer to {typed!r}"
        tally.add("slash", inputs=1)

    run()


def _press_body(
    driver: SlackDriver,
    action_id: str,
    value: str | None,
    *,
    surface: Surface,
    block_id: str,
) -> str:
    element = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": "Press"}}
    if value is not None:
        element["value"] = value
    actor = driver.actor()
    if surface == "view":
        view = {"id": "V0HOME", "type": "home", "blocks": [], "private_metadata": ""}
        return interactive_body(block_actions(actor, element, block_id=block_id, view=view))
    message = SourceMessage(actor.channel_id, "1.2", "", [], ephemeral=surface == "ephemeral")
    payload = block_actions(
        actor, element, block_id=block_id, message=message, response_url=driver.local.response_url()
    )
    return interactive_body(payload)


_block_id = st.one_of(
    st.just("b1"),
    st.sampled_from(["following:0:1", "following:²:1", "following:99999999999999999999:1", "following:x"]),
    st.text(max_size=20),
)


def test_any_button_value_gets_a_clear_answer_and_a_tampered_one_changes_nothing(
    driver: SlackDriver, local_slack: LocalSlack, runtime: Runtime, tally: Tally
) -> None:
    driver.command("digest")  # Alice is a member already: a press may not need to create her
    state = StoreState(runtime.services.engine)

    @FUZZ
    @given(value=button_value, surface=st.sampled_from(["ephemeral", "message", "view"]), block_id=_block_id)
    @example(value='{"r": 99999999999999999999999}', surface="ephemeral", block_id="b1")
    @example(value='{"r": 1, "p": -99999999999999999999999}', surface="ephemeral", block_id="b1")
    @example(value='{"c": 9223372036854775808}', surface="message", block_id="b1")
    @example(value='{"r": 1}', surface="ephemeral", block_id="following:²:1")
    @example(value=None, surface="view", block_id="b1")
    def run(value: str | None, surface: Surface, block_id: str) -> None:
        for action, model in VALUE_OF.items():
            if action in (Action.GRAPH, Action.GRAPH_SHARE) and _valid(model, value):
                continue  # a real picture takes a second to draw; tests/test_graph.py presses it
            where: Surface = surface if surface != "view" or action in HOME_ACTIONS else "ephemeral"
            before, start = state.snapshot(), len(local_slack.calls)
            body = _press_body(driver, action, value, surface=where, block_id=block_id)
            response = driver.dispatch(body)
            tally.add("buttons", requests=1)
            context = (action.value, where, value)
            assert response.status == 200, (*context, response.status, response.body)
            problems, shown = _problems(local_slack, start, value or "")
            assert not problems, (*context, problems)
            if where != "view" and action not in QUIET_ACTIONS:
                assert shown, f"no answer to {context!r}"
            changed = changed_tables(before, state.snapshot())
            if changed:
                assert _valid(model, value), f"{context!r} changed {changed}"
        tally.add("buttons", inputs=1)

    run()


def _valid(model: type[ButtonValue] | None, value: str | None) -> bool:
    loader: Callable[[str | None], Any] = model.load if model else (lambda _: None)
    return loader(value) is not None
