"""Schema migrations: does `flask db upgrade` build exactly the schema the models describe?"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from backoffice import MIGRATIONS
from backoffice.domain.search import include_object
from backoffice.extensions import db


def _differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_object": include_object,
            },
        )
        return _same_unnamed_references(compare_metadata(context, db.metadata))


def _signature(fk) -> tuple:
    return (
        fk.parent.name,
        tuple(c.name for c in fk.columns),
        fk.referred_table.name,
        tuple(e.column.name for e in fk.elements),
    )


def _same_unnamed_references(differences: list) -> list:
    """SQLite keeps no name for a reference added by ADD COLUMN (the only way to add one
    without rebuilding the table): such a reference, unnamed in the database and named in the
    models, with the same columns and target, is the same reference."""
    removed = {
        _signature(d[1]): d for d in differences if d[0] == "remove_fk" and d[1].name is None
    }
    added = {_signature(d[1]): d for d in differences if d[0] == "add_fk"}
    same = removed.keys() & added.keys()
    return [
        d for d in differences if not (d[0] in ("remove_fk", "add_fk") and _signature(d[1]) in same)
    ]


def test_upgrade_builds_the_models_schema(bare_app):
    upgrade(directory=MIGRATIONS)
    assert _differences() == []


def test_downgrade_to_base_then_upgrade_again(bare_app):
    upgrade(directory=MIGRATIONS)
    downgrade(directory=MIGRATIONS, revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(directory=MIGRATIONS)
    assert _differences() == []


def test_upgraded_schema_enforces_the_constraints(bare_app):
    upgrade(directory=MIGRATIONS)
    with db.engine.connect() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO site (name, created_at, updated_at, version) "
                "VALUES ('A', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )
        try:
            connection.execute(
                sa.text(
                    "INSERT INTO partner (name, kind, active, created_at, updated_at, version) "
                    "VALUES ('P', 'not-a-kind', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                )
            )
        except sa.exc.IntegrityError:
            connection.rollback()
        else:  # pragma: no cover - the assertion message says what went wrong
            raise AssertionError("the CHECK constraint on partner.kind is missing")


def _codes_in(sqltext: str) -> set[str]:
    """The quoted codes of a CHECK ... IN (...) as the database reports it (PostgreSQL rewrites
    it as ``= ANY (ARRAY['a'::character varying, ...])``)."""
    import re

    return {code.replace("''", "'") for code in re.findall(r"'((?:[^']|'')*)'", sqltext)}


def test_every_vocabulary_check_in_the_upgraded_database_matches_the_code(bare_app):
    """A vocabulary change is invisible to Alembic's autogenerate: without its migration,
    production refuses the new code on insert. This compares every CHECK of an upgraded
    database with the vocabularies, so such a change fails CI."""
    from backoffice.models import vocabularies_of

    upgrade(directory=MIGRATIONS)
    inspector = sa.inspect(db.engine)
    mismatches = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        table = model.__table__
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for column, vocabulary in vocabularies_of(model).items():
            name = db.metadata.naming_convention["ck"] % {
                "table_name": table.name,
                "constraint_name": f"{column}_in_list",
            }
            found = checks.get(name)
            if found is None:
                mismatches.append(f"{table.name}.{column}: no CHECK {name} in the database")
            elif _codes_in(found) != set(vocabulary.codes):
                mismatches.append(
                    f"{table.name}.{column}: database {_codes_in(found)} "
                    f"!= vocabulary {set(vocabulary.codes)} (a migration is missing)"
                )
    assert mismatches == []
