"""Situations (what the young person is doing, dated) and the aids' delegation threshold

Revision ID: f6b8d0e2a4c7
Revises: e5a7c9e1f3b6
Create Date: 2026-11-28

``situation`` records a job, a work-study contract, a training, an immersion… with its dates,
organisation and hours: the outcome the activity report counts, recorded from the file, from a
realised proposal in the wizard, or imported. ``aid_type.delegation_threshold`` is the amount up
to which a counsellor grants an aid directly. Three indexes let the activity report read the
interviews of a period, their proposals and their actions from the index alone (the proposal's
and the action's single-column index on the interview becomes the first column of the new one).
``action.theme_id`` and ``action.hours``: what an action counts towards the CEJ's weekly hours.
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
    # The activity report reads interviews, proposals and actions from indexes alone.
    op.create_index(
        "ix_interview_held",
        "interview",
        ["status", "attendance", "starts_at", "channel", "kind", "young_person_id", "autonomy_level"],
    )
    op.drop_index("ix_proposal_interview_id", table_name="proposal")
    op.create_index("ix_proposal_interview_kind", "proposal", ["interview_id", "kind", "outcome"])
    op.drop_index("ix_action_set_at_id", table_name="action")
    op.create_index("ix_action_set_at_created", "action", ["set_at_id", "created_by"])
    # Added columns only, no table rebuild: the partial indexes and the search triggers stay.
    _add_checked_column(
        "aid_type",
        "delegation_threshold",
        sa.Numeric(10, 2),
        "delegation_positive",
        "delegation_threshold IS NULL OR delegation_threshold >= 0",
    )
    # An action's theme and hours: the CEJ's weekly hours of activity.
    if op.get_bind().dialect.name == "sqlite":  # a reference added inline, as the CHECKs
        op.execute(
            "ALTER TABLE action ADD COLUMN theme_id INTEGER CONSTRAINT fk_action_theme_id_theme "
            "REFERENCES theme (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("action", sa.Column("theme_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_action_theme_id_theme"),
            "action",
            "theme",
            ["theme_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _add_checked_column(
        "action",
        "hours",
        sa.Numeric(4, 1),
        "hours_range",
        "hours IS NULL OR hours BETWEEN 0 AND 60",
    )
    # Data protection: the anonymisation's date, and what each line of the consultation log
    # records (opening the file, exporting its data, anonymising it).
    op.add_column("young_person", sa.Column("anonymised_at", sa.DateTime(), nullable=True))
    op.add_column("young_person", sa.Column("retention_until", sa.Date(), nullable=True))
    op.add_column("young_person", sa.Column("retention_note", sa.Text(), nullable=True))
    kinds = vocab.CONSULTATION_KINDS
    if op.get_bind().dialect.name == "sqlite":
        op.add_column(
            "consultation",
            sa.Column(
                "kind",
                sa.String(length=10),
                sa.CheckConstraint(kinds.sql_check("kind"), name=op.f("ck_consultation_kind_in_list")),
                nullable=False,
                server_default="view",
            ),
        )
    else:
        op.add_column(
            "consultation",
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="view"),
        )
        op.create_check_constraint(
            op.f("ck_consultation_kind_in_list"), "consultation", kinds.sql_check("kind")
        )
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("young_person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            vocab.CONSENT_PURPOSES.sql_check("purpose"), name=op.f("ck_consent_purpose_in_list")
        ),
        sa.CheckConstraint(
            vocab.CONSENT_METHODS.sql_check("method"), name=op.f("ck_consent_method_in_list")
        ),
        sa.CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= given_on",
            name=op.f("ck_consent_withdrawn_after_given"),
        ),
        sa.ForeignKeyConstraint(
            ["young_person_id"],
            ["young_person.id"],
            name=op.f("fk_consent_young_person_id_young_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_consent_partner_id_partner"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_consent_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_youth_purpose", "consent", ["young_person_id", "purpose"])
    op.drop_index("ix_action_due_date", table_name="action")
    op.create_index(
        "ix_action_due_status",
        "action",
        ["due_date", "status", "young_person_id", "theme_id", "hours"],
    )


def _add_checked_column(table: str, column: str, type_, check: str, condition: str) -> None:
    """A nullable ADD COLUMN with its CHECK: inline on SQLite (which cannot add a constraint
    later without rebuilding the table), a separate constraint elsewhere."""
    name = op.f(f"ck_{table}_{check}")
    if op.get_bind().dialect.name == "sqlite":
        op.add_column(
            table, sa.Column(column, type_, sa.CheckConstraint(condition, name=name), nullable=True)
        )
    else:
        op.add_column(table, sa.Column(column, type_, nullable=True))
        op.create_check_constraint(name, table, condition)

def downgrade():
    op.drop_table("consent")
    with op.batch_alter_table("consultation") as batch:
        batch.drop_constraint(op.f("ck_consultation_kind_in_list"), type_="check")
        batch.drop_column("kind")
    for column in ("retention_note", "retention_until", "anonymised_at"):
        op.drop_column("young_person", column)  # no rebuild: the search triggers stay
    op.drop_index("ix_action_due_status", table_name="action")
    op.create_index("ix_action_due_date", "action", ["due_date"])
    with op.batch_alter_table("action") as batch:
        batch.drop_constraint(op.f("ck_action_hours_range"), type_="check")
        batch.drop_column("hours")
        batch.drop_column("theme_id")
    with op.batch_alter_table("aid_type") as batch:
        batch.drop_constraint(op.f("ck_aid_type_delegation_positive"), type_="check")
        batch.drop_column("delegation_threshold")
    op.drop_table("situation")
    op.drop_index("ix_action_set_at_created", table_name="action")
    op.create_index("ix_action_set_at_id", "action", ["set_at_id"])
    op.drop_index("ix_proposal_interview_kind", table_name="proposal")
    op.create_index("ix_proposal_interview_id", "proposal", ["interview_id"])
    op.drop_index("ix_interview_held", table_name="interview")
