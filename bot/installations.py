"""Slack installations at rest: slack_sdk's SQLAlchemy stores on our own tables, with every bot
token, user token and refresh token encrypted by BZPEER_SECRET_KEY (Fernet).

BZPEER_SECRET_KEY is a comma-separated list of Fernet keys: the first encrypts, all of them
decrypt, so a key is rotated by putting the new one first, running `bzpeer rotate-key`, and
dropping the old one afterwards.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Dialect, Table, Text, delete, select, update
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeDecorator

from bot.settings import Settings

log = logging.getLogger("bzpeer.installations")

# Token columns of slack_sdk's tables; our migration made them Text for the ciphertext.
INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
BOT_SECRETS = ("bot_token", "bot_refresh_token")
# Refresh an expiring (rotated) token when it has less than this left (Slack issues 12 h tokens).
ROTATE_BEFORE_MINUTES = 120
KEY_HELP = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class SecretKeyError(Exception):
    """BZPEER_SECRET_KEY is missing, malformed, or cannot read the stored tokens."""


class TokenCipher:
    """Fernet over a list of keys: the first encrypts, any of them decrypts."""

    def __init__(self, secret_key: str | None) -> None:
        keys = [part.strip() for part in (secret_key or "").split(",") if part.strip()]
        if not keys:
            raise SecretKeyError(
                "OAuth mode stores Slack tokens encrypted: set BZPEER_SECRET_KEY (" + KEY_HELP + ")."
            )
        fernets = []
        for number, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key))
            except ValueError:
                raise SecretKeyError(
                    f"BZPEER_SECRET_KEY key #{number} is not a Fernet key (32 url-safe base64 bytes); "
                    + KEY_HELP
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str) -> str:
        """The plaintext; raises SecretKeyError when no key fits."""
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "BZPEER_SECRET_KEY cannot decrypt the stored Slack tokens: was the key replaced? "
                "Keep the old key after the new one (comma-separated) until `bzpeer rotate-key` has run."
            ) from None

    def rotate(self, value: str) -> str:
        """The same plaintext, re-encrypted with the first key."""
        try:
            return self._fernet.rotate(value.encode()).decode()
        except InvalidToken:
            raise SecretKeyError("BZPEER_SECRET_KEY cannot decrypt a stored Slack token.") from None


class EncryptedToken(TypeDecorator[str]):
    """A Text column holding a Fernet token: encrypted on the way in, decrypted on the way out."""

    impl = Text
    # Statements are cached per cipher instance (it is part of the cache key, hashed by identity).
    cache_ok = True

    def __init__(self, cipher: TokenCipher) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.cipher.decrypt(value)


def _encrypt_columns(table: Table, names: tuple[str, ...], cipher: TokenCipher) -> None:
    # Swapping the column type keeps slack_sdk's queries unchanged while every value that
    # crosses the driver is ciphertext; token columns are never compared in SQL.
    for name in names:
        table.c[name].type = EncryptedToken(cipher)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store with encrypted token columns.

    The tables come from our migrations (never `create_tables()`).
    """

    def __init__(self, *, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        self.cipher = cipher
        _encrypt_columns(self.installations, INSTALLATION_SECRETS, cipher)
        _encrypt_columns(self.bots, BOT_SECRETS, cipher)

    def check_key(self) -> None:
        """Decrypt the newest stored token of each table; SecretKeyError when the key cannot."""
        for table in (self.bots, self.installations):
            raw = _raw(table, ("bot_token", "installed_at"))
            with self.engine.connect() as conn:
                value = conn.execute(
                    select(raw.c.bot_token)
                    .where(raw.c.bot_token.is_not(None))
                    .order_by(raw.c.installed_at.desc())
                    .limit(1)
                ).scalar()
            if value is not None:
                self.cipher.decrypt(value)

    def rotate_key(self) -> int:
        """Re-encrypt every stored token with the first key; returns how many values changed."""
        changed = 0
        for table, names in ((self.installations, INSTALLATION_SECRETS), (self.bots, BOT_SECRETS)):
            raw = _raw(table, ("id", *names))
            with self.engine.begin() as conn:
                for row in conn.execute(select(raw)).mappings().all():
                    values = {name: self.cipher.rotate(row[name]) for name in names if row[name] is not None}
                    if values:
                        conn.execute(update(raw).where(raw.c.id == row["id"]).values(**values))
                        changed += len(values)
        return changed


def _raw(table: Table, names: tuple[str, ...]) -> TableClause:
    """The same table without column types, so values pass through as stored (ciphertext)."""
    return sql_table(table.name, *(sql_column(name) for name in names))


class PurgingOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, which deletes only consumed states, plus a periodic purge of
    expired ones so install-page visits that never came back do not pile up."""

    PURGE_EVERY_SECONDS = 600.0

    def __init__(self, *, expiration_seconds: int, engine: Engine) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine, logger=log)
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = super().issue(*args, **kwargs)
        with self._lock:
            due = time.monotonic() >= self._next_purge
            if due:
                self._next_purge = time.monotonic() + self.PURGE_EVERY_SECONDS
        if due:
            # expire_at is a naive UTC column (slack_sdk normalises datetimes that way).
            now = datetime.now(UTC).replace(tzinfo=None)
            with self.engine.begin() as conn:
                conn.execute(delete(self.oauth_states).where(self.oauth_states.c.expire_at < now))
        return state


def build_installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    """The encrypted installation store for OAuth mode; SecretKeyError when the key is unusable."""
    if not settings.slack_client_id:
        raise SecretKeyError("OAuth mode needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.")
    return EncryptedInstallationStore(
        client_id=settings.slack_client_id, engine=engine, cipher=TokenCipher(settings.bzpeer_secret_key)
    )


def check_secret_key(settings: Settings, engine: Engine) -> None:
    """Fail fast at start: in OAuth mode the key must exist, parse, and decrypt what is stored."""
    if settings.oauth_enabled:
        build_installation_store(settings, engine).check_key()


class InstallationTokens:
    """Bot tokens by workspace for work outside a Slack request (digest DMs): read from the
    encrypted store and refreshed like Bolt's authorizer does when they are about to expire.

    The store is built on first use, so one-shot commands that never send work without a key.
    """

    def __init__(self, settings: Settings, engine: Engine, client: WebClient) -> None:
        self._settings = settings
        self._engine = engine
        self._client = client
        self._store: EncryptedInstallationStore | None = None
        self._rotator: TokenRotator | None = None
        self._lock = threading.Lock()

    def _parts(self) -> tuple[EncryptedInstallationStore, TokenRotator]:
        with self._lock:
            if self._store is None or self._rotator is None:
                self._store = build_installation_store(self._settings, self._engine)
                self._rotator = TokenRotator(
                    client_id=self._settings.slack_client_id or "",
                    client_secret=self._settings.slack_client_secret or "",
                    client=self._client,
                )
            return self._store, self._rotator

    def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token, or None when the app is not installed there."""
        store, rotator = self._parts()
        installation = store.find_installation(enterprise_id=None, team_id=team_id)
        if installation is None or installation.bot_token is None:
            return None
        if installation.bot_refresh_token is not None:
            # Saved whole (installation and bot rows), as Bolt does, so both stay in step.
            refreshed = rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=ROTATE_BEFORE_MINUTES
            )
            if refreshed is not None:
                store.save(refreshed)
                return refreshed.bot_token
        return installation.bot_token
