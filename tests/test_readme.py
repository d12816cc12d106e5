"""The README's reference tables say what the code does: every bot scope the manifest asks for,
every setting the bot reads, every shell command."""

from __future__ import annotations

from pathlib import Path

from bot.local.shell import HELP
from bot.local.workspace import shell_commands
from bot.manifest import BOT_SCOPES
from bot.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _table_after(heading: str) -> str:
    """The first Markdown table after `heading` (its rows, up to the first line that is not one)."""
    rest = README.split(heading, 1)[1]
    lines = rest[rest.index("\n|") + 1 :].splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append(line)
    return "\n".join(rows)


def test_every_bot_scope_is_explained() -> None:
    table = _table_after("The bot scopes the manifest asks for")
    for scope in BOT_SCOPES:
        assert f"`{scope}`" in table, scope


def test_every_setting_is_in_the_configuration_table() -> None:
    table = _table_after("## Configuration")
    for field in Settings.model_fields.values():
        assert f"`{field.alias}`" in table, field.alias


def test_every_shell_command_is_in_the_shell_table() -> None:
    table = _table_after("| in the shell | does |")
    builtin = [word for line in HELP.splitlines() if (word := line.strip().split(" ")[0]).startswith(":")]
    assert {":in", ":channel", ":dms", ":as"} <= set(builtin)
    extra = [f":{name}" for name in shell_commands(services=None)]  # type: ignore[arg-type]
    for command in (*builtin, *extra):
        assert f"`{command}" in table, command
