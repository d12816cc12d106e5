"""One warning at start when the live OpenAlex is used without OPENALEX_API_KEY: a log line, on
stderr at the command line; none with a key, or against another OpenAlex (a mirror, a stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.test_cli import _env, bzpeer

WARNING = "OPENALEX_API_KEY is not set"


@pytest.mark.parametrize(
    ("url", "key", "warned"),
    [
        (None, None, True),
        ("https://api.openalex.org/", None, True),
        (None, "a-key", False),
        ("http://127.0.0.1:9/", None, False),
    ],
)
def test_only_the_live_openalex_without_a_key_is_flagged(
    url: str | None, key: str | None, warned: bool
) -> None:
    values = {k: v for k, v in (("OPENALEX_URL", url), ("OPENALEX_API_KEY", key)) if v is not None}
    assert Settings(**values).live_openalex_without_key is warned


@pytest.mark.slow
def test_the_cli_warns_once_on_stderr_and_not_with_a_key(database_url: str, tmp_path: Path) -> None:
    keyless = bzpeer("shell", "-c", "/peer help", env=_env(database_url), cwd=tmp_path)
    assert keyless.returncode == 0, keyless.stderr
    assert keyless.stderr.count(WARNING) == 1 and "https://api.openalex.org" in keyless.stderr
    assert WARNING not in keyless.stdout

    keyed = bzpeer("shell", "-c", "/peer help", env=_env(database_url, OPENALEX_API_KEY="k"), cwd=tmp_path)
    assert keyed.returncode == 0 and WARNING not in keyed.stderr
    # Commands that never ask OpenAlex say nothing about it.
    assert WARNING not in bzpeer("claims", "list", env=_env(database_url), cwd=tmp_path).stderr
