"""Situations (what the young person is doing, dated) and the aids' delegation threshold

Revision ID: f6b8d0e2a4c7
Revises: e5a7c9e1f3b6
Create Date: 2026-11-28

``situation`` records a job, a work-study contract, a training, an immersion… with its dates,
organisation and hours: the outcome the activity report counts, recorded from the file, from a
realised proposal in the wizard, or imported. ``aid_type.delegation_threshold`` is the amount up
to which a counsellor grants an aid directly. Both are additions: no table is rebuilt.
"""

import sqlalchemy as sa
from alembic import op

from backoffice.domain import vocabularies as vocab

revision = "f6b8d0e2a4c7"
down_revision = "e5a7c9e1f3b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "situation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("young_person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(4, 1), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(vocab.SITUATION_KINDS.sql_check("kind"), name=op.f("ck_situation_kind_in_list")),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_situation_ended_after_start")
        ),
        sa.CheckConstraint(
            "hours_per_week IS NULL OR hours_per_week BETWEEN 0 AND 60",
            name=op.f("ck_situation_hours_range"),
        ),
        sa.ForeignKeyConstraint(
            ["young_person_id"],
            ["young_person.id"],
            name=op.f("fk_situation_young_person_id_young_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_situation_proposal_id_proposal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_situation")),
    )
    op.create_index("ix_situation_youth_start", "situation", ["young_person_id", "start_date"])
    op.create_index("ix_situation_start_kind", "situation", ["start_date", "kind"])
    op.create_index(op.f("ix_situation_proposal_id"), "situation", ["proposal_id"])
    op.add_column("aid_type", sa.Column("delegation_threshold", sa.Numeric(10, 2), nullable=True))
    with op.batch_alter_table("aid_type") as batch:
        batch.create_check_constraint(
            op.f("ck_aid_type_delegation_positive"), "delegation_threshold IS NULL OR delegation_threshold >= 0"
        )


def downgrade():
    with op.batch_alter_table("aid_type") as batch:
        batch.drop_constraint(op.f("ck_aid_type_delegation_positive"), type_="check")
        batch.drop_column("delegation_threshold")
    op.drop_table("situation")
