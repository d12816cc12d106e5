"""The claimant's profile edit modal (headline and "Open to collaborate") and its answers."""

from __future__ import annotations

from slack_sdk.models.blocks import CheckboxesElement, InputBlock, Option, PlainTextInputElement
from slack_sdk.models.views import View

from handlers.blocks import Reply, escape, section, shown_name
from handlers.collaboration.claim_blocks import trust_summary
from handlers.ids import ProfileInput
from handlers.ids import View as ViewId
from handlers.values import EditMetadata
from services.collaboration.claim_service import HEADLINE_MAX
from services.collaboration.claim_types import EditOutcome
from services.research.profiles import Profile


def edit_refusal() -> Reply:
    text = "Only the person whose approved claim holds this profile can edit it."
    return Reply(text, [section(f":no_entry: {text}")])


def profile_edit_modal(profile: Profile, *, from_home: bool = False) -> View:
    """Edit the headline and "Open to collaborate" of one's own claimed profile."""
    open_option = Option(text="Open to collaborate (others can invite me)", value="open")
    return View(
        type="modal",
        callback_id=ViewId.PROFILE_EDIT,
        private_metadata=EditMetadata(researcher_id=profile.id, from_home=from_home).dump(),
        title="Your profile",
        submit="Save",
        close="Cancel",
        blocks=[
            section(f"*{shown_name(profile.name)}* · {trust_summary(profile)}"),
            InputBlock(
                block_id=ProfileInput.HEADLINE,
                label="Headline",
                optional=True,
                hint=f"One or two sentences, up to {HEADLINE_MAX} characters; shown on your card.",
                element=PlainTextInputElement(
                    action_id=ProfileInput.HEADLINE,
                    multiline=True,
                    max_length=HEADLINE_MAX,
                    initial_value=profile.headline[:HEADLINE_MAX] if profile.headline else None,
                ),
            ),
            InputBlock(
                block_id=ProfileInput.OPEN,
                label="Invitations",
                optional=True,
                element=CheckboxesElement(
                    action_id=ProfileInput.OPEN,
                    options=[open_option],
                    initial_options=[open_option] if profile.open_to_collaborate else None,
                ),
            ),
        ],
    )


def profile_saved_view(outcome: EditOutcome) -> View:
    """The modal after saving: what the card now says."""
    profile = outcome.profile
    assert profile is not None
    headline = escape(profile.headline) if profile.headline else "_no headline_"
    openness = "Open to collaborate" if profile.open_to_collaborate else "Not open to collaboration"
    return View(
        type="modal",
        callback_id=ViewId.PROFILE_EDIT,
        title="Your profile",
        close="Done",
        blocks=[
            section(f":white_check_mark: Saved. *{shown_name(profile.name)}*\n{headline}\n{openness}"),
        ],
    )
