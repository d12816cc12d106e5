"""A failure inside a listener becomes a clear ephemeral message with an id that is in the log."""

from __future__ import annotations

import logging
import re

import pytest

from services.research.profiles import ProfileService
from tests.slack_support import SlackDriver, all_text


def test_unexpected_failure_gets_an_error_id_in_reply_and_log(
    driver: SlackDriver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("database on fire")

    # The card is read inside the ack and, when that fails, again on the listener pool.
    monkeypatch.setattr(ProfileService, "lookup", broken)
    with caplog.at_level(logging.ERROR):
        response = driver.command("Samyadeep Basu")
    assert response.status == 200
    text = all_text(driver.last_reply())
    match = re.search(r"error id `([0-9a-f]{8})`", text)
    assert match, text
    assert "database on fire" not in text
    assert any(match.group(1) in record.getMessage() for record in caplog.records)
