"""name_words: the distinct words of researcher names, a symmetric-delete index over them, and an
exact-word index over researcher_name, for typo search without a fuzzy scan of every name

name_word holds each distinct word of researcher_name.name_norm; name_word_variant maps the
first 10 letters of each word, and every string one or two deletions away from them, to the
word. Names are looked up by exact words: a GIN index over string_to_array(name_norm, ' ') on
PostgreSQL, an FTS5 unicode61 table over researcher_name on SQLite.

Triggers keep all of it in step, so every writer of researcher_name is covered (ORM, bulk
inserts, COPY, renames, cascaded deletes). A new word is inserted when a name brings it, and
deleted when the last name holding it goes (checked through the exact-word index). There is
no count per word on purpose: concurrent imports would lock the rows of common words ("wang")
in different orders and deadlock; inserting an existing word does nothing and locks nothing.
PostgreSQL uses statement-level triggers over transition tables (one set-based statement per
bulk insert or COPY); SQLite row triggers split name_norm with json_each (a trigger may not
use a CTE).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = 10  # letters of a word that get delete variants (services/research/name_words.py)

_PG_FUNCTIONS = """
CREATE FUNCTION name_word_add(norms text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO name_word (word)
    SELECT DISTINCT w.word FROM unnest(norms) AS n(norm), unnest(string_to_array(n.norm, ' ')) AS w(word)
    WHERE w.word <> ''
    ORDER BY w.word
    ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION name_word_remove(norms text[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM name_word
    WHERE word IN (SELECT unnest(string_to_array(n.norm, ' ')) FROM unnest(norms) AS n(norm))
    AND NOT EXISTS (
        SELECT 1 FROM researcher_name
        WHERE string_to_array(name_norm, ' ') @> ARRAY[name_word.word::text]
    );
$$;

CREATE FUNCTION name_word_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Only renamed rows move words (set_names also updates name and is_primary in place).
        PERFORM name_word_remove(ARRAY(
            SELECT o.name_norm::text FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.name_norm IS DISTINCT FROM n.name_norm));
        PERFORM name_word_add(ARRAY(
            SELECT n.name_norm::text FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.name_norm IS DISTINCT FROM n.name_norm));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM name_word_remove(ARRAY(SELECT name_norm::text FROM old_rows));
    ELSE
        PERFORM name_word_add(ARRAY(SELECT name_norm::text FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION name_word_variants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM name_word_variant v USING old_words o WHERE v.word = o.word;
        RETURN NULL;
    END IF;
    INSERT INTO name_word_variant (variant, word)
    SELECT DISTINCT variant, word FROM (
        SELECT left(word, {prefix}) AS variant, word FROM new_words
        UNION ALL
        SELECT overlay(left(word, {prefix}) PLACING '' FROM i FOR 1), word
        FROM new_words, generate_series(1, length(left(word, {prefix}))) AS i
        UNION ALL
        SELECT overlay(overlay(left(word, {prefix}) PLACING '' FROM j FOR 1) PLACING '' FROM i FOR 1), word
        FROM new_words, generate_series(1, length(left(word, {prefix}))) AS i,
            generate_series(i + 1, length(left(word, {prefix}))) AS j
    ) AS variants
    WHERE length(variant) >= 2
    ORDER BY variant, word
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
""".replace("{prefix}", str(PREFIX))

_PG_TRIGGERS = (
    "CREATE TRIGGER name_word_ai AFTER INSERT ON researcher_name REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION name_word_names()",
    "CREATE TRIGGER name_word_ad AFTER DELETE ON researcher_name REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION name_word_names()",
    "CREATE TRIGGER name_word_au AFTER UPDATE ON researcher_name "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION name_word_names()",
    "CREATE TRIGGER name_word_variant_ai AFTER INSERT ON name_word REFERENCING NEW TABLE AS new_words "
    "FOR EACH STATEMENT EXECUTE FUNCTION name_word_variants()",
    "CREATE TRIGGER name_word_variant_ad AFTER DELETE ON name_word REFERENCING OLD TABLE AS old_words "
    "FOR EACH STATEMENT EXECUTE FUNCTION name_word_variants()",
)


def _words(norm: str) -> str:
    """SQLite: the words of a name_norm expression as a json_each table (name_norm is
    normalize_name output: word characters and single spaces; quotes are escaped anyway)."""
    escaped = f"replace(replace({norm}, '\\', '\\\\'), '\"', '\\\"')"
    return f"json_each('[\"' || replace({escaped}, ' ', '\",\"') || '\"]')"


_POSITIONS = "json_each('[" + ",".join(str(i) for i in range(1, PREFIX + 1)) + "]')"
_LIMIT = f"min(length(new.word), {PREFIX})"


def _sqlite_add() -> str:
    return (
        "INSERT INTO researcher_name_words(rowid, name_norm) VALUES (new.id, new.name_norm); "
        f"INSERT OR IGNORE INTO name_word (word) SELECT value FROM {_words('new.name_norm')} "
        "WHERE value <> '';"
    )


def _sqlite_remove() -> str:
    # The exact-word index first, so the check below no longer sees the old name.
    return (
        "INSERT INTO researcher_name_words(researcher_name_words, rowid, name_norm) "
        "VALUES ('delete', old.id, old.name_norm); "
        f"DELETE FROM name_word WHERE word IN (SELECT value FROM {_words('old.name_norm')}) AND NOT EXISTS ("
        "SELECT 1 FROM researcher_name_words "
        "WHERE researcher_name_words MATCH '\"' || replace(name_word.word, '\"', '\"\"') || '\"');"
    )


_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER name_word_ai AFTER INSERT ON researcher_name BEGIN {_sqlite_add()} END",
    f"CREATE TRIGGER name_word_ad AFTER DELETE ON researcher_name BEGIN {_sqlite_remove()} END",
    "CREATE TRIGGER name_word_au AFTER UPDATE OF name_norm ON researcher_name "
    f"WHEN old.name_norm IS NOT new.name_norm BEGIN {_sqlite_remove()} "
    f"{_sqlite_add()} END",
    "CREATE TRIGGER name_word_variant_ai AFTER INSERT ON name_word BEGIN "
    "INSERT OR IGNORE INTO name_word_variant (variant, word) SELECT variant, new.word FROM ("
    f"SELECT substr(new.word, 1, {PREFIX}) AS variant "
    "UNION SELECT substr(new.word, 1, i.value - 1) || "
    f"substr(new.word, i.value + 1, {PREFIX} - i.value) FROM {_POSITIONS} AS i "
    f"WHERE i.value <= {_LIMIT} "
    "UNION SELECT substr(new.word, 1, i.value - 1) || substr(new.word, i.value + 1, j.value - i.value - 1) "
    f"|| substr(new.word, j.value + 1, {PREFIX} - j.value) FROM {_POSITIONS} AS i, {_POSITIONS} AS j "
    f"WHERE i.value < j.value AND j.value <= {_LIMIT}"
    ") WHERE length(variant) >= 2; END",
    "CREATE TRIGGER name_word_variant_ad AFTER DELETE ON name_word BEGIN "
    "DELETE FROM name_word_variant WHERE word = old.word; END",
)
_SQLITE_TRIGGER_NAMES = ("name_word_ai", "name_word_ad", "name_word_au")


def upgrade() -> None:
    op.create_table(
        "name_word",
        sa.Column("word", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("word"),
    )
    op.create_table(
        "name_word_variant",
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("word", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("variant", "word"),
    )
    op.create_index("ix_name_word_variant_word", "name_word_variant", ["word"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_researcher_name_words ON researcher_name "
            "USING gin (string_to_array(name_norm, ' '))"
        )
        # Prefix look-ups ("phil" → "phillip") need an index that LIKE can use in any collation.
        op.execute("CREATE INDEX ix_name_word_prefix ON name_word (word varchar_pattern_ops)")
        op.execute(_PG_FUNCTIONS)
        for trigger in _PG_TRIGGERS:
            op.execute(trigger)
        # Names already in the store (the variant trigger fills name_word_variant).
        op.execute("SELECT name_word_add(ARRAY(SELECT name_norm::text FROM researcher_name))")
        return
    op.execute(
        "CREATE VIRTUAL TABLE researcher_name_words USING fts5("
        "name_norm, content='researcher_name', content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
    )
    for trigger in _SQLITE_TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO researcher_name_words(researcher_name_words) VALUES ('rebuild')")
    op.execute(
        "INSERT INTO name_word (word) SELECT DISTINCT words.value "
        f"FROM researcher_name AS rn, {_words('rn.name_norm')} AS words WHERE words.value <> ''"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("name_word_ai", "name_word_ad", "name_word_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON researcher_name")
        op.execute("DROP INDEX IF EXISTS ix_researcher_name_words")
        op.drop_table("name_word_variant")
        op.drop_table("name_word")
        for function in (
            "name_word_names()",
            "name_word_add(text[])",
            "name_word_remove(text[])",
            "name_word_variants()",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        return
    for trigger in _SQLITE_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS researcher_name_words")
    op.drop_index("ix_name_word_variant_word", table_name="name_word_variant")
    op.drop_table("name_word_variant")
    op.drop_table("name_word")
