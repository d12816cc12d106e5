import pytest

from handlers.parsing import parse_slash_text


@pytest.mark.parametrize(
    ("text", "kind", "query"),
    [
        ("Samyadeep Basu", "profile", "Samyadeep Basu"),
        ("  Samyadeep   Basu ", "profile", "Samyadeep Basu"),
        ("profile Samyadeep Basu", "profile", "Samyadeep Basu"),
        ("PROFILE basu", "profile", "basu"),
        ("profile", "empty", ""),
        ("help", "help", ""),
        ("", "empty", ""),
        ("<!here>", "markup", "<!here>"),
        ("<#C123|general>", "markup", "<#C123|general>"),
        ("https://openalex.org/A5023888391", "profile", "https://openalex.org/A5023888391"),
    ],
)
def test_grammar(text: str, kind: str, query: str) -> None:
    parsed = parse_slash_text(text)
    assert (parsed.kind, parsed.query) == (kind, query)


def test_long_text_is_refused_with_its_length() -> None:
    parsed = parse_slash_text("a" * 5000)
    assert (parsed.kind, parsed.length) == ("too_long", 5000)


def test_a_surname_close_to_a_subcommand_is_still_a_name_with_a_hint() -> None:
    parsed = parse_slash_text("Helm Smith")
    assert parsed.kind == "profile" and parsed.query == "Helm Smith"
    assert parsed.suggestion == "help Smith"
    assert parse_slash_text("profil Basu").suggestion == "profile Basu"
    assert parse_slash_text("Samyadeep Basu").suggestion is None
