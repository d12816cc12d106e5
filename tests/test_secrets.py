"""Slack tokens at rest: encrypted with BZPEER_SECRET_KEY, rotatable, and a bad key stops the
process at start with one clear line."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.installations import EncryptedInstallationStore, SecretKeyError, TokenCipher
from tests.oauth_support import CLIENT_ID, CLIENT_SECRET

# Fixed keys, so a failing run can be replayed byte for byte.
KEY_A = base64.urlsafe_b64encode(bytes(range(32))).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(32, 64))).decode()
SECRETS = {
    "bot_token": "xoxe.xoxb-1-bot-plaintext",
    "bot_refresh_token": "xoxe-1-bot-refresh-plaintext",
    "user_token": "xoxe.xoxp-1-user-plaintext",
    "user_refresh_token": "xoxe-1-user-refresh-plaintext",
}


def _store(engine: Engine, key: str) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher(key))


def _installation(team_id: str = "T0LAB1") -> Installation:
    return Installation(
        app_id="A0LOCAL",
        enterprise_id=None,
        team_id=team_id,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes=["commands"],
        user_id="U0ADMIN",
        user_scopes=["identify"],
        bot_token_expires_in=43200,
        user_token_expires_in=43200,
        **SECRETS,
    )


def _raw_tokens(engine: Engine) -> list[str]:
    values: list[str] = []
    with engine.connect() as conn:
        for row in conn.execute(
            text(
                "SELECT bot_token, bot_refresh_token, user_token, user_refresh_token FROM slack_installations"
            )
        ):
            values.extend(value for value in row if value is not None)
        for row in conn.execute(text("SELECT bot_token, bot_refresh_token FROM slack_bots")):
            values.extend(value for value in row if value is not None)
    return values


def test_token_columns_hold_ciphertext_and_the_store_reads_plaintext(engine: Engine) -> None:
    store = _store(engine, KEY_A)
    store.save(_installation())
    raw = _raw_tokens(engine)
    assert len(raw) == 6  # four on the installation row, two on the bot row
    for value in raw:
        assert "xox" not in value and "plaintext" not in value
        assert Fernet(KEY_A.encode()).decrypt(value.encode()).decode() in SECRETS.values()
    found = store.find_installation(enterprise_id=None, team_id="T0LAB1")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token) == (SECRETS["bot_token"], SECRETS["bot_refresh_token"])
    assert (found.user_token, found.user_refresh_token) == (
        SECRETS["user_token"],
        SECRETS["user_refresh_token"],
    )
    bot = store.find_bot(enterprise_id=None, team_id="T0LAB1")
    assert bot is not None and bot.bot_token == SECRETS["bot_token"]
    store.check_key()


def test_a_new_key_first_still_reads_old_tokens_and_rotate_key_moves_them(engine: Engine) -> None:
    _store(engine, KEY_A).save(_installation())
    both = _store(engine, f"{KEY_B},{KEY_A}")
    both.check_key()
    assert both.find_bot(enterprise_id=None, team_id="T0LAB1").bot_token == SECRETS["bot_token"]  # type: ignore[union-attr]
    assert both.rotate_key() == 6
    for value in _raw_tokens(engine):
        Fernet(KEY_B.encode()).decrypt(value.encode())
    only_new = _store(engine, KEY_B)
    only_new.check_key()
    assert (
        only_new.find_installation(enterprise_id=None, team_id="T0LAB1").user_token == SECRETS["user_token"]
    )  # type: ignore[union-attr]
    with pytest.raises(SecretKeyError, match="cannot decrypt"):
        _store(engine, KEY_A).check_key()
    # Reads through the store fail the same way (compiled statements are cached per key).
    with pytest.raises(SecretKeyError, match="cannot decrypt"):
        _store(engine, KEY_A).find_bot(enterprise_id=None, team_id="T0LAB1")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "set BZPEER_SECRET_KEY"),
        ("", "set BZPEER_SECRET_KEY"),
        ("not-a-fernet-key", "key #1 is not a Fernet key"),
        (f"{KEY_A},short", "key #2 is not a Fernet key"),
    ],
)
def test_missing_or_malformed_keys_are_refused(key: str | None, message: str) -> None:
    with pytest.raises(SecretKeyError, match=message):
        TokenCipher(key)


def _serve(database_url: str, tmp_path: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET="signing-secret-for-tests",
        # Nothing listens here: the process must stop before it would talk to anyone.
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    if key is not None:
        env["BZPEER_SECRET_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "9"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "error: OAuth mode stores Slack tokens encrypted: set BZPEER_SECRET_KEY"),
        ("garbage", "error: BZPEER_SECRET_KEY key #1 is not a Fernet key"),
        (KEY_B, "error: BZPEER_SECRET_KEY cannot decrypt the stored Slack tokens"),
    ],
)
def test_bzpeer_serve_fails_fast_with_one_clear_line(
    database_url: str, engine: Engine, tmp_path: Path, key: str | None, expected: str
) -> None:
    _store(engine, KEY_A).save(_installation())
    result = _serve(database_url, tmp_path, key)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and lines[0].startswith(expected), result.stderr
    assert "Traceback" not in result.stderr and KEY_A not in result.stderr


@pytest.mark.slow
def test_rotate_key_command(database_url: str, engine: Engine, tmp_path: Path) -> None:
    _store(engine, KEY_A).save(_installation())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET="signing-secret-for-tests",
        BZPEER_SECRET_KEY=f"{KEY_B},{KEY_A}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "rotate-key"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Re-encrypted 6 stored tokens" in result.stdout
    _store(engine, KEY_B).check_key()
