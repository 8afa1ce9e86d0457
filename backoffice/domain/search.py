"""Indexed search: one normalised text per record, and the index each engine keeps on it.

A searchable table declares a ``search_text`` column with ``info={"search_of": (...)}``: the
columns it is made of. Every write path fills it with :func:`text_for` — the ORM (forms,
wizard, workflows) through a mapper event, the bulk writers (CSV import, demo seed) through
:func:`fill_rows` and :func:`refresh` — and the index follows in the database:

- SQLite: an FTS5 table with the *trigram* tokenizer over ``search_text`` (external content,
  kept in step by triggers), queried with ``LIKE '%term%'``, which FTS5 answers from the index
  when the term has three characters or more;
- PostgreSQL: a ``pg_trgm`` GIN index on ``search_text``, which answers the same ``LIKE``.

The text is lower-case and without accents, so "Émilie" finds "emilie" and "EMILIE"; a phone is
kept as digits only, so "06 30 13" and "063013" both find 06 30 13 45 67.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import sqlalchemy as sa

#: A search made of digits and phone punctuation only is one phone number (digits compared).
_PHONE_LIKE = re.compile(r"^[\d\s.\-+()/]+$")
_NOT_KEPT = re.compile(r"[^0-9a-z@.\-]+")
#: Terms shorter than this cannot use a trigram index (they still work, by a scan).
TRIGRAM = 3


def normalise(text: str | None) -> str:
    """Lower-case, accents and ligatures removed, anything but letters, digits, ``@ . -``
    turned into single spaces ("Lætitia D'ARC-Émond" -> "laetitia d arc-emond")."""
    if not text:
        return ""
    text = text.replace("æ", "ae").replace("Æ", "ae").replace("œ", "oe").replace("Œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NOT_KEPT.sub(" ", stripped).split())


def digits(text: str | None) -> str:
    """The digits of a phone number, a French +33 prefix written as the leading 0."""
    if not text:
        return ""
    compact = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    elif compact.startswith("0033"):
        compact = "0" + compact[4:]
    return compact.replace("+", "")


def text_for(values: Mapping, sources: Iterable[str]) -> str | None:
    """The ``search_text`` of a record from its source values (a ``phone`` as digits)."""
    parts = []
    for name in sources:
        value = values.get(name)
        if not value:
            continue
        parts.append(digits(value) if name == "phone" else normalise(str(value)))
    return " ".join(p for p in parts if p) or None


def terms(search: str) -> list[str]:
    """What a typed search looks for: every word, normalised, must be found; a phone-like search
    (digits, spaces, dots, dashes, +33) is one run of digits."""
    search = (search or "").strip()
    if _PHONE_LIKE.match(search) and sum(ch.isdigit() for ch in search) >= 2:
        return [digits(search)]
    return [t for t in normalise(search).split(" ") if t]


def sources_of(table) -> tuple[str, ...] | None:
    """The columns ``table``'s search text is made of, or None when it has none."""
    column = table.c.get("search_text")
    return None if column is None else tuple(column.info.get("search_of", ()))


def fill_rows(table, rows: list[dict]) -> None:
    """Set ``search_text`` in rows about to be inserted in bulk (no-op for other tables)."""
    sources = sources_of(table)
    if not sources:
        return
    for row in rows:
        row["search_text"] = text_for(row, sources)


def refresh(connection, table, ids: list[int]) -> None:
    """Recompute ``search_text`` of the records ``ids`` from what the database holds (after a
    bulk UPDATE that may have changed a source column)."""
    sources = sources_of(table)
    if not sources or not ids:
        return
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = connection.execute(
            sa.select(table.c.id, *(table.c[name] for name in sources)).where(table.c.id.in_(chunk))
        ).mappings()
        updates = [{"_id": row["id"], "_text": text_for(row, sources)} for row in rows]
        if updates:
            connection.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("_id"))
                .values(search_text=sa.bindparam("_text")),
                updates,
            )


# --- the index, per engine --------------------------------------------------------------------

FTS_SUFFIX = "_search"


def index_ddl(table: str, dialect: str) -> list[str]:
    """Statements creating the search index of ``table`` (its ``search_text`` column)."""
    if dialect == "sqlite":
        fts = table + FTS_SUFFIX
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
            f"content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); END",
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) "
            f"VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        ]
    if dialect == "postgresql":
        return [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX ix_{table}_search ON {table} USING gin (search_text gin_trgm_ops)",
        ]
    return []


def drop_ddl(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        fts = table + FTS_SUFFIX
        return [
            f"DROP TRIGGER IF EXISTS {fts}_insert",
            f"DROP TRIGGER IF EXISTS {fts}_delete",
            f"DROP TRIGGER IF EXISTS {fts}_update",
            f"DROP TABLE IF EXISTS {fts}",
        ]
    if dialect == "postgresql":
        return [f"DROP INDEX IF EXISTS ix_{table}_search"]
    return []


def is_index_object(name: str | None) -> bool:
    """Whether a schema object belongs to a search index (not in the models' metadata: the
    migrations' comparison leaves it alone)."""
    return bool(name) and (
        (FTS_SUFFIX + "_") in name or name.endswith(FTS_SUFFIX) or name.endswith("_search")
    )


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: the search indexes (FTS5 tables, trigram index) live outside the models'
    metadata — made by their migration and by the table's DDL events — and are never dropped by
    an autogenerated migration nor reported as differences."""
    return not (reflected and compare_to is None and is_index_object(name))


def matching(model, search: str, dialect: str):
    """The WHERE clause of a search on ``model`` (None when the search has no term)."""
    words = terms(search)
    if not words:
        return None
    patterns = [f"%{word}%" for word in words]  # no % or _ in a term (see normalise)
    if dialect == "sqlite":
        # Only terms of three characters or more go to the FTS table: the trigram index cannot
        # answer a shorter one, and SQLite 3.40's FTS5 crashes (SIGSEGV) on a LIKE shorter than
        # a trigram followed by a longer one. The short ones filter the rows found (or scan).
        long = [f"%{w}%" for w in words if len(w) >= TRIGRAM]
        short = [model.search_text.like(f"%{w}%") for w in words if len(w) < TRIGRAM]
        if not long:
            return sa.and_(*short)
        fts = sa.table(
            model.__table__.name + FTS_SUFFIX, sa.column("rowid"), sa.column("search_text")
        )
        found = sa.select(fts.c.rowid).where(*(fts.c.search_text.like(p) for p in long))
        return sa.and_(model.id.in_(found), *short)
    # PostgreSQL: the matching ids are collected through the trigram index first (an InitPlan
    # array), so that the planner never walks the name index filtering every row instead.
    found = sa.select(model.id).where(*(model.search_text.like(p) for p in patterns))
    return model.id == sa.any_(sa.func.array(found.scalar_subquery()))
