"""The shell shows every feature: a whole session typed into `bzpeer` (no Slack credentials)
through its command line with stdin piped, as a person would."""

from __future__ import annotations

from pathlib import Path

from tests.fake_openalex import FakeOpenAlex, fixture
from tests.test_cli import _env, bzpeer

# One run of `bzpeer` (no credentials: demo store + local shell), typed line by line. Blank lines
# are Enter at a modal's prompt: keep what the input was pre-filled with.
SESSION = """\
/peer Samyadeep Basu
/peer help
1
:as sam
/peer claim Samyadeep Basu
:as ada
:dms
1
:as sam
:dms
/peer Samyadeep Basu
5
submit
Works on influence functions.

:as ada
/peer invite Samyadeep Basu | Shall we compare notes on influence functions?
submit

:as sam
:dms
1
:as ada
/peer follow Samyadeep Basu
:digest
:news
:digest
quit
"""


def test_a_whole_session_claim_approval_invitation_follow_and_digest(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, COLUMNS="250")
    result = bzpeer(env=env, cwd=tmp_path, stdin=SESSION)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Button numbers name the message they press; a reply without buttons leaves nothing to press.
    assert "(buttons 1–5 on: Samyadeep Basu" in out
    assert "There is no [1] to press (the latest reply has no buttons)" in out
    # Sam claims; the review reaches Ada, the admin, who approves it; Sam hears of it.
    after_claim = out.split("bzpeer> /peer claim Samyadeep Basu", 1)[1]
    assert "(bzpeer sent @ada a direct message: “Claim to review: Samyadeep Basu”" in after_claim
    assert "@sam claims the profile Samyadeep Basu" in after_claim
    assert "@sam's claim on Samyadeep Basu was approved by @ada" in after_claim
    assert "Your claim on Samyadeep Basu was approved" in after_claim
    # Sam edits only the headline: "Open to collaborate" stays ticked.
    saved = out.split("Works on influence functions.", 1)[1]
    assert ":white_check_mark: Saved. Samyadeep Basu" in saved
    assert "Not open to collaboration" not in saved.split("bzpeer> :as ada", 1)[0]
    # Ada invites with a message; submitting the modal as it came sends that message.
    invited = out.split("/peer invite Samyadeep Basu |", 1)[1]
    assert "(group DM with @ada, @sam, bzpeer)" in invited
    assert "> Shall we compare notes on influence functions?" in invited
    assert "Invitation sent to Samyadeep Basu" in invited
    assert "@sam accepted" in invited
    # Ada follows; nothing new → no digest; the demo news → one digest DM.
    followed = out.split("bzpeer> /peer follow Samyadeep Basu", 1)[1]
    first, rest = followed.split("bzpeer> :news", 1)
    assert "0 messages sent" in first
    assert "New from researchers you follow" in rest
    assert "A new paper by Samyadeep Basu (demo news" in rest
    assert "1 message sent (1 item)" in rest


def test_the_shell_follows_a_topic_and_its_demo_news_reaches_the_digest(
    database_url: str, tmp_path: Path
) -> None:
    openalex = FakeOpenAlex()
    openalex.add_topics(fixture("topic_T10017.json"))  # the shell's OpenAlex stand-in serves T10017
    session = "/peer follow topic T10017\n:news\n:digest\n/peer following\nquit\n"
    with openalex.serve() as url:
        result = bzpeer(env=_env(database_url, COLUMNS="250", OPENALEX_URL=url), cwd=tmp_path, stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    name = "Interpretability and Influence of Training Data in Machine Learning"
    assert f"You now follow the topic {name}" in out or f"You now follow the topic *{name}*" in out
    news = out.split("bzpeer> :news", 1)[1]
    assert f"topic {name}: A new paper on {name} (demo news" in news
    digest = news.split("bzpeer> :digest", 1)[1]
    assert "(topic) · 1 new work" in digest and "1 message sent (1 item)" in digest
    assert "You follow 0 researchers and 1 topic." in digest


def test_the_shell_tries_a_channel_feed_end_to_end(database_url: str, tmp_path: Path) -> None:
    openalex = FakeOpenAlex()
    openalex.add_topics(fixture("topic_T10017.json"))
    session = (
        ":help\n:in #lab-papers\n/peer channel follow Samyadeep Basu\n/peer channel follow topic T10017\n"
        "/peer channel\n:news\n:digest\n:channel\nquit\n"
    )
    with openalex.serve() as url:
        result = bzpeer(env=_env(database_url, COLUMNS="250", OPENALEX_URL=url), cwd=tmp_path, stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # `:help` is help too, and it says how to try a channel feed and a topic digest.
    helped = out.split("bzpeer> :help", 1)[1].split("bzpeer> :in", 1)[0]
    assert ":in #NAME" in helped and ":channel" in helped and "/peer who influence functions" in helped
    assert "/peer follow topic T10017, then :news, :digest" in helped
    assert ":in #lab-papers, /peer channel follow Samyadeep Basu" in helped
    name = "Interpretability and Influence of Training Data in Machine Learning"
    listed = out.split("bzpeer> /peer channel\n", 1)[1].split("bzpeer> :news", 1)[0]
    assert "#lab-papers follows 1 researcher and 1 topic." in listed
    posted = out.split("bzpeer> :digest", 1)[1]
    before, shown = posted.split("bzpeer> :channel", 1)
    for text in (before, shown):
        assert "(in #lab-papers)" in text
        assert "New papers from researchers and topics this channel follows" in text
        assert "A new paper by Samyadeep Basu (demo news" in text
        assert f"A new paper on {name} (demo news" in text
    assert "1 message sent (2 items)" in before
