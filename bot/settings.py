"""Runtime configuration: every variable of the README's configuration table, read from the
environment and `.env`. Built once by the composition root; never a module-level instance."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The live OpenAlex API; it wants a (free) key since 2026-02.
DEFAULT_OPENALEX_URL = "https://api.openalex.org"


class Settings(BaseSettings):
    """The contract's environment variables, with their defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite:///bzpeer.db", alias="DATABASE_URL")
    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    openalex_url: str = Field(default=DEFAULT_OPENALEX_URL, alias="OPENALEX_URL")
    openalex_api_key: str | None = Field(default=None, alias="OPENALEX_API_KEY")
    port: int = Field(default=3000, alias="PORT")
    # The address the web process listens on: every interface by default (a load balancer on
    # another host, a container); 127.0.0.1 when a proxy on the same host is the only client.
    bzpeer_host: str = Field(default="0.0.0.0", alias="BZPEER_HOST")
    bzpeer_command: str = Field(default="/peer", alias="BZPEER_COMMAND")
    bzpeer_secret_key: str | None = Field(default=None, alias="BZPEER_SECRET_KEY")
    # A channel (C…) where claim reviews are posted instead of DMs to every admin; where the
    # bot cannot post there (another workspace, not invited), admins get DMs after all.
    bzpeer_review_channel: str | None = Field(default=None, alias="BZPEER_REVIEW_CHANNEL")
    # ORCID sign-in for Verification L3 (README: Verification L3). Needs the client id and secret
    # of an ORCID API client and BZPEER_PUBLIC_URL (the ORCID redirect URI is built from it).
    orcid_url: str = Field(default="https://orcid.org", alias="ORCID_URL")
    orcid_client_id: str | None = Field(default=None, alias="ORCID_CLIENT_ID")
    orcid_client_secret: str | None = Field(default=None, alias="ORCID_CLIENT_SECRET")
    bzpeer_public_url: str | None = Field(default=None, alias="BZPEER_PUBLIC_URL")
    # Per process (each gunicorn worker and each scheduler has its own pool); see README.
    database_pool_size: int = Field(default=16, ge=1, alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(default=8, ge=0, alias="DATABASE_MAX_OVERFLOW")
    # Threads per process that run listeners (and so ack()); they wait on OpenAlex and Slack,
    # so they outnumber the cores. Bolt's own default of 5 queues the sixth slow look-up.
    bzpeer_listener_threads: int = Field(default=32, ge=1, le=256, alias="BZPEER_LISTENER_THREADS")
    # OpenAlex look-ups and imports run on a pool of their own (per process): a slow OpenAlex
    # then holds up only other look-ups, and the API's rate limit is not hammered.
    bzpeer_lookup_threads: int = Field(default=4, ge=1, le=64, alias="BZPEER_LOOKUP_THREADS")
    # Members a digest delivery batch claims at the least as a wave nears its end (batches shrink
    # from 25 so that the schedulers run out of work together; 25 keeps them whole).
    bzpeer_digest_claim_floor: int = Field(default=1, ge=1, le=25, alias="BZPEER_DIGEST_CLAIM_FLOOR")
    # Seconds a stopping web process (SIGTERM) gives unfinished work before it tells whoever
    # waits to try again and exits.
    bzpeer_graceful_timeout: int = Field(default=30, ge=1, le=3600, alias="BZPEER_GRACEFUL_TIMEOUT")

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL; it must end with "/".
        return value if value.endswith("/") else value + "/"

    @field_validator("openalex_url", "orcid_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("bzpeer_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return value.strip().rstrip("/") or None if value else None

    @field_validator("bzpeer_command")
    @classmethod
    def _leading_slash(cls, value: str) -> str:
        value = value.strip()
        return value if value.startswith("/") else "/" + value

    @property
    def live_openalex_without_key(self) -> bool:
        """The live OpenAlex is used without OPENALEX_API_KEY (a stand-in or a mirror needs none)."""
        return self.openalex_url == DEFAULT_OPENALEX_URL and not self.openalex_api_key

    @property
    def orcid_state_secret(self) -> str | None:
        """What signs ORCID sign-in states: BZPEER_SECRET_KEY, else SLACK_SIGNING_SECRET."""
        return self.bzpeer_secret_key or self.slack_signing_secret

    @property
    def orcid_enabled(self) -> bool:
        """ORCID sign-in (the "Verify with ORCID" button and the /orcid/* routes) is on."""
        return bool(
            self.orcid_client_id
            and self.orcid_client_secret
            and self.bzpeer_public_url
            and self.orcid_state_secret
        )

    @property
    def has_slack_credentials(self) -> bool:
        """True when the bot can talk to a real (or fake) Slack workspace."""
        single = bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))
        oauth = bool(self.slack_client_id and self.slack_client_secret and self.slack_signing_secret)
        return single or oauth

    @property
    def oauth_enabled(self) -> bool:
        """Multi-workspace install: tokens come from the encrypted installation store."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_signing_secret)
