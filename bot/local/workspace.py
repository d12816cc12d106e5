"""The local workspace `make run` opens: an admin (you) and a colleague, so that claims, admin
approval, invitations, follows and digests can all be tried in the shell; and the shell commands
that run the scheduler's jobs on demand."""

from __future__ import annotations

from collections.abc import Callable

from bot.local.slack_objects import SlackUser
from services.container import Services
from services.store.models import utcnow
from services.store.text import plural

__all__ = ["LOCAL_PEOPLE", "shell_commands"]

TEAM_ID = "T0LOCAL"
# You start as Ada, a workspace admin (claim reviews reach her); `:as sam` to be her colleague.
LOCAL_PEOPLE = (
    SlackUser("U0LOCAL", TEAM_ID, "ada", "Ada (admin)", email="ada@local.test", is_admin=True),
    SlackUser("U0SAM", TEAM_ID, "sam", "Sam", email="sam@local.test"),
)


def shell_commands(services: Services) -> dict[str, tuple[str, Callable[[], str]]]:
    """`:news` and `:digest`: what the refresh and delivery jobs would do, now."""

    def news() -> str:
        published = services.demo_news.publish_for_followed(now=utcnow())
        if not published.papers:
            return "(nobody follows anyone yet: /peer follow NAME or /peer follow topic T10017 first)"
        lines = [f"  {name}: {title}" for name, title in published.papers]
        return "\n".join([f"(demo news: {plural(published.queued, 'digest item')} queued)", *lines])

    def digest() -> str:
        # `bzpeer digest --now`: every member with pending items gets their digest now.
        return f"(bzpeer digest --now: {services.digests.deliver_due(now=utcnow(), force=True).summary()})"

    return {
        "news": (
            "every followed researcher publishes a new demo paper, and one appears on each followed topic "
            "(as a refresh would find)",
            news,
        ),
        "digest": ("send due digests now, as `bzpeer digest --now` does", digest),
    }
