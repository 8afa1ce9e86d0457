"""The chain of each young person's held interviews, for the activity report

Revision ID: f2b4d6e8a0c1
Revises: e8c0a2b4d6f8
Create Date: 2026-11-28

``interview.previous_held_at``: on a held interview (validated, young person present), the
time of the young person's previous held interview; ``previous_assessed_at`` and
``next_assessed_at``: on a held interview that rated autonomy, the time of the previous and of
the next one that did too (NULL elsewhere). The app keeps them on every flush
(``domain/interviews.py``). The activity report then counts the young people accompanied in a
period and their autonomy progress from one index range, without grouping a year's interviews
per young person. ``interview.has_proposal``: the interview made a proposal at least (the
report's concrete outcome, read in the same range). Filled here, then ``ix_interview_held`` is
rebuilt to cover them.

``ix_young_person_exit``: the exits of a period, by reason and site, without reading the whole
``young_person`` table for each period; ``ix_young_person_site_id``: a site's young people, which
the report of one site checks each row against, from the index alone. ``ix_action_done_due`` (partial: the done actions) takes
the place of ``ix_action_due_status`` for the CEJ's weekly hours: a period's done actions are a
range of it, not a range of every action filtered.
"""

import sqlalchemy as sa
from alembic import op

revision = "f2b4d6e8a0c1"
down_revision = "e8c0a2b4d6f8"
branch_labels = None
depends_on = None

HELD = "{t}.status = 'completed' AND {t}.attendance = 'present'"
ASSESSED = HELD + " AND {t}.autonomy_level IS NOT NULL"


def neighbour(function: str, compare: str, condition: str) -> str:
    return (
        f"(SELECT {function}(other.starts_at) FROM interview AS other "
        "WHERE other.young_person_id = interview.young_person_id "
        f"AND {condition.format(t='other')} "
        f"AND (other.starts_at, other.id) {compare} (interview.starts_at, interview.id))"
    )


#: (Also run by tests/test_reporting.py against the chain the app keeps.)
BACKFILL = (
    "UPDATE interview SET "
    f"previous_held_at = {neighbour('max', '<', HELD)}, "
    "previous_assessed_at = CASE WHEN interview.autonomy_level IS NOT NULL THEN "
    f"{neighbour('max', '<', ASSESSED)} END, "
    "next_assessed_at = CASE WHEN interview.autonomy_level IS NOT NULL THEN "
    f"{neighbour('min', '>', ASSESSED)} END "
    f"WHERE {HELD.format(t='interview')}"
)
DONE = "status = 'done'"
COLUMNS = ["previous_held_at", "previous_assessed_at", "next_assessed_at"]
OLD_INDEX = ["status", "attendance", "starts_at", "channel", "kind", "young_person_id",
             "autonomy_level"]  # fmt: skip


def upgrade():
    for name in COLUMNS:
        op.add_column("interview", sa.Column(name, sa.DateTime(), nullable=True))
    op.add_column(
        "interview",
        sa.Column("has_proposal", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(BACKFILL)
    op.execute(
        "UPDATE interview SET has_proposal = EXISTS "
        "(SELECT 1 FROM proposal WHERE proposal.interview_id = interview.id)"
    )
    op.drop_index("ix_interview_held", table_name="interview")
    op.create_index("ix_interview_held", "interview", [*OLD_INDEX, *COLUMNS, "has_proposal"])
    op.create_index(
        "ix_young_person_exit", "young_person", ["exit_date", "exit_reason", "site_id"]
    )
    op.create_index("ix_young_person_site_id", "young_person", ["site_id", "id"])
    op.drop_index("ix_action_due_status", table_name="action")
    op.create_index(
        "ix_action_done_due",
        "action",
        ["due_date", "young_person_id", "theme_id", "hours", "status"],
        sqlite_where=sa.text(DONE),
        postgresql_where=sa.text(DONE),
    )


def downgrade():
    op.drop_index("ix_action_done_due", table_name="action")
    op.create_index(
        "ix_action_due_status", "action", ["due_date", "status", "young_person_id", "theme_id", "hours"]
    )
    op.drop_index("ix_young_person_site_id", table_name="young_person")
    op.drop_index("ix_young_person_exit", table_name="young_person")
    op.drop_index("ix_interview_held", table_name="interview")
    op.create_index("ix_interview_held", "interview", OLD_INDEX)
    for name in ["has_proposal", *reversed(COLUMNS)]:
        op.drop_column("interview", name)
