"""Exactly-once sending over a Slack that may act and then time out: what digests and
invitations (and, later, channel feeds) share.

Every message we send carries a key as Slack message metadata. When the request went out and
no answer came back (a timeout, a connection dropped mid-answer, a sender killed mid-send),
Slack may or may not have posted it: the sender raises `OutcomeUnknown` and the caller keeps the
key, the conversation and the attempt's time instead of sending again. Before anything is sent
again, the conversation's history around the attempt is read for the key: found → it was posted
(settle with that ts); not found → send again. When the history cannot be read (a rate limit:
for apps outside the Marketplace conversations.history is Tier 1, one call a minute and 15
messages a page), the message waits for a later cycle: we never send blind. After
`GIVE_UP_AFTER` without a readable history it is given up and logged, still never resent.

A port that certainly did not deliver (the recipient is gone, Slack refused or is down) raises
`MessageNotDelivered` instead: nothing was posted, so the caller may drop or retry freely.
"""

from __future__ import annotations

from datetime import timedelta

# Our clock against Slack's: the history read starts this long before the attempt.
CLOCK_SKEW = timedelta(minutes=2)
# Waiting for a readable history (a Tier 1 budget shared by a whole workspace drains about one
# look-up a delivery cycle; a missing history scope never clears until the app is reinstalled).
GIVE_UP_AFTER = timedelta(days=7)


class OutcomeUnknown(Exception):
    """The post was sent but its answer never came: Slack may have posted it.

    `channel` is the conversation it went to, when known (a DM opened before the post).
    """

    def __init__(self, message: str, *, channel: str | None) -> None:
        super().__init__(message)
        self.channel = channel


class MessageNotDelivered(Exception):
    """A port could not deliver a message (the recipient is gone, Slack refused or is down)."""
