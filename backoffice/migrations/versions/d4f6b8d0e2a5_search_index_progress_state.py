"""Scale: indexed search, the kept progress state, indexes for caseloads and the journal

Revision ID: d4f6b8d0e2a5
Revises: c3e5a7b9d1f3
Create Date: 2026-11-28

- ``young_person.search_text`` (names, e-mail, phone digits, city; lower-case, no accents) and
  its index: an FTS5 trigram table kept by triggers on SQLite, a ``pg_trgm`` GIN index on
  PostgreSQL (the role running the migration must be allowed ``CREATE EXTENSION pg_trgm``, or a
  DBA creates it beforehand).
- ``young_person.stalling`` / ``last_interview_at``: the *sans progression* state, computed here
  for every young person and kept since by domain/interviews.py.
- ``(referent_id, status, site_id)``, ``(site_id, status)`` and ``(site_id, last_name,
  first_name)`` replace ``referent_id`` and
  ``site_id`` alone, ``(counsellor_id, status, starts_at)`` replaces the interview's
  ``counsellor_id``, a partial index covers the open actions; the journal's ``(entity, at)`` and
  ``(actor_id, at)`` replace ``entity`` and ``actor_id`` alone.

A later migration that rebuilds ``young_person`` on SQLite (batch "move and copy") drops the
triggers: it must create the index again (``search.index_ddl``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from backoffice.domain import search

revision = "d4f6b8d0e2a5"
down_revision = "c3e5a7b9d1f3"
branch_labels = None
depends_on = None

OPEN_ACTIONS_SQL = "status IN ('in_progress', 'planned', 'waiting')"
SOURCES = ("last_name", "first_name", "email", "phone", "city")


def upgrade():
    with op.batch_alter_table("young_person") as batch:
        batch.add_column(sa.Column("stalling", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("last_interview_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch.drop_index("ix_young_person_referent_id")
        batch.drop_index("ix_young_person_site_id")
        batch.create_index(
            "ix_young_person_referent_status", ["referent_id", "status", "site_id"]
        )
        batch.create_index("ix_young_person_site_status", ["site_id", "status"])
        batch.create_index("ix_young_person_site_name", ["site_id", "last_name", "first_name"])
    with op.batch_alter_table("interview") as batch:
        batch.drop_index("ix_interview_counsellor_id")
        batch.create_index(
            "ix_interview_counsellor_status", ["counsellor_id", "status", "starts_at"]
        )
    with op.batch_alter_table("action") as batch:
        batch.create_index(
            "ix_action_open_due",
            ["young_person_id", "due_date"],
            sqlite_where=sa.text(OPEN_ACTIONS_SQL),
            postgresql_where=sa.text(OPEN_ACTIONS_SQL),
        )
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_index("ix_audit_event_entity")
        batch.drop_index("ix_audit_event_actor_id")
        batch.create_index("ix_audit_event_entity_at", ["entity", "at"])
        batch.create_index("ix_audit_event_actor_at", ["actor_id", "at"])
    connection = op.get_bind()
    table = sa.table("young_person", sa.column("id"), sa.column("search_text"),
                     *(sa.column(name) for name in SOURCES))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, *(table.c[n] for n in SOURCES))
            .where(table.c.id > last).order_by(table.c.id).limit(5000)
        ).mappings().all()
        if not rows:
            break
        last = rows[-1]["id"]
        connection.execute(
            sa.update(table).where(table.c.id == sa.bindparam("_id"))
            .values(search_text=sa.bindparam("_text")),
            [{"_id": r["id"], "_text": search.text_for(r, SOURCES)} for r in rows],
        )
    for statement in search.index_ddl("young_person", connection.dialect.name):
        connection.exec_driver_sql(statement)
    from backoffice.domain.interviews import refresh_progress

    session = Session(bind=connection)
    refresh_progress(session, sa.select(sa.column("id")).select_from(sa.table("young_person")))
    session.flush()


def downgrade():
    connection = op.get_bind()
    for statement in search.drop_ddl("young_person", connection.dialect.name):
        connection.exec_driver_sql(statement)
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_index("ix_audit_event_actor_at")
        batch.drop_index("ix_audit_event_entity_at")
        batch.create_index("ix_audit_event_actor_id", ["actor_id"])
        batch.create_index("ix_audit_event_entity", ["entity"])
    with op.batch_alter_table("action") as batch:
        batch.drop_index("ix_action_open_due")
    with op.batch_alter_table("interview") as batch:
        batch.drop_index("ix_interview_counsellor_status")
        batch.create_index("ix_interview_counsellor_id", ["counsellor_id"])
    with op.batch_alter_table("young_person") as batch:
        batch.drop_index("ix_young_person_site_name")
        batch.drop_index("ix_young_person_site_status")
        batch.drop_index("ix_young_person_referent_status")
        batch.create_index("ix_young_person_site_id", ["site_id"])
        batch.create_index("ix_young_person_referent_id", ["referent_id"])
        batch.drop_column("search_text")
        batch.drop_column("last_interview_at")
        batch.drop_column("stalling")
