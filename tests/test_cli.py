"""The command line as operators use it: real `python -m bot …` processes, no Slack, a local OpenAlex."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.fake_openalex import FakeOpenAlex, fixture

MEARMAN = "A5017898742"


def bzpeer(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "OPENALEX_"))}
    env.update(DATABASE_URL=database_url, **extra)
    return env


def test_manifest_db_upgrade_and_demo(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url)
    manifest = bzpeer("manifest", "--url", "https://bot.example.org", env=env, cwd=tmp_path)
    assert manifest.returncode == 0
    assert yaml.safe_load(manifest.stdout)["features"]["slash_commands"][0]["command"] == "/peer"
    assert bzpeer("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    first = bzpeer("demo", env=env, cwd=tmp_path)
    again = bzpeer("demo", env=env, cwd=tmp_path)
    assert first.returncode == again.returncode == 0
    assert "10 researchers, 4 works" in again.stdout


def test_shell_one_command_shows_the_seed_card(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url)
    bzpeer("demo", env=env, cwd=tmp_path)
    result = bzpeer("shell", "-c", "/peer Samyadeep Basu", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for fact in ("Trust 13 - Unverified", "Verification L1", "Unclaimed author", "3 close collaborators"):
        assert fact in result.stdout


def test_start_without_credentials_loads_the_demo_and_opens_the_shell(
    database_url: str, tmp_path: Path
) -> None:
    result = bzpeer("start", env=_env(database_url), cwd=tmp_path, stdin="/peer Samyadep Basu\n1\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "Trust 13 - Unverified" in result.stdout
    assert "Public record" in result.stdout  # button 1 pressed: "Why this score?"


def test_import_against_a_local_openalex_gives_the_right_counts(database_url: str, tmp_path: Path) -> None:
    openalex = FakeOpenAlex()
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
    with openalex.serve() as url:
        env = _env(database_url, OPENALEX_URL=url)
        result = bzpeer("import", f"https://openalex.org/{MEARMAN}", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"Imported Joseph Mearman ({MEARMAN}): 8 works, 17 co-authors." in result.stdout
        again = bzpeer("import", MEARMAN, env=env, cwd=tmp_path)
        assert "8 works, 17 co-authors" in again.stdout
        card = bzpeer("shell", "-c", "/peer Joseph Mearman", env=env, cwd=tmp_path)
    # The card names the four strongest co-authors, as BZPEER's pages do; all 17 are on the list.
    assert "8 works" in card.stdout and "4 close collaborators" in card.stdout


def test_import_failures_are_one_clear_line(database_url: str, tmp_path: Path) -> None:
    openalex = FakeOpenAlex()
    openalex.add("/authors/A5999999999", "<html>Not Found</html>", status=404)
    openalex.add(
        f"/authors/{MEARMAN}", {"error": "Rate limit exceeded"}, status=429, headers={"Retry-After": "60"}
    )
    with openalex.serve() as url:
        env = _env(database_url, OPENALEX_URL=url)
        unknown = bzpeer("import", "A5999999999", env=env, cwd=tmp_path)
        spent = bzpeer("import", MEARMAN, env=env, cwd=tmp_path)
        bad_orcid = bzpeer("import", "0000-0002-1298-3088", env=env, cwd=tmp_path)
    assert unknown.returncode == spent.returncode == bad_orcid.returncode == 1
    assert "error: A5999999999: OpenAlex has no author A5999999999." in unknown.stderr
    assert "budget is spent" in spent.stderr
    assert "check digit is wrong" in bad_orcid.stderr
    for result in (unknown, spent, bad_orcid):
        assert "Traceback" not in result.stderr
    card = bzpeer("shell", "-c", "/peer Mearman", env=_env(database_url), cwd=tmp_path)
    assert "No researcher matching" in card.stdout  # nothing half-written
