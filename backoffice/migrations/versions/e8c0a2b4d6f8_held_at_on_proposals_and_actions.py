"""The time of the held interview on its proposals and actions, for the activity report

Revision ID: e8c0a2b4d6f8
Revises: c5653ec4482e
Create Date: 2026-11-28

``proposal.held_at`` and ``action.held_at`` hold the time of the interview that made them when
that interview is held (validated, the young person present), else NULL; the app keeps them on
every flush (``domain/interviews.py``). The activity report then reads a period's proposals and
actions as one range of an index, rather than joining a year's interviews with every proposal
and action (PostgreSQL hashed the whole tables for each period). Filled here from the
interviews, then indexed.
"""
import sqlalchemy as sa
from alembic import op

revision = "e8c0a2b4d6f8"
down_revision = "c5653ec4482e"
branch_labels = None
depends_on = None

HELD = (
    "(SELECT interview.starts_at FROM interview WHERE interview.id = {table}.{key} "
    "AND interview.status = 'completed' AND interview.attendance = 'present')"
)


def upgrade():
    op.add_column("proposal", sa.Column("held_at", sa.DateTime(), nullable=True))
    op.add_column("action", sa.Column("held_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE proposal SET held_at = " + HELD.format(table="proposal", key="interview_id")
    )
    op.execute(
        "UPDATE action SET held_at = " + HELD.format(table="action", key="set_at_id")
        + " WHERE set_at_id IS NOT NULL"
    )
    op.create_index(
        "ix_proposal_held",
        "proposal",
        ["held_at", "kind", "outcome", "interview_id", "young_person_id"],
    )
    op.create_index("ix_action_held", "action", ["held_at", "created_by", "young_person_id"])


def downgrade():
    op.drop_index("ix_action_held", table_name="action")
    op.drop_index("ix_proposal_held", table_name="proposal")
    op.drop_column("action", "held_at")
    op.drop_column("proposal", "held_at")
