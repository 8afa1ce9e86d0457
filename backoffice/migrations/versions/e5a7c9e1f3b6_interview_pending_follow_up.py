"""The interview loop: a draft's follow-up waits for validation

Revision ID: e5a7c9e1f3b6
Revises: d4f6b8d0e2a5
Create Date: 2026-11-28

``interview.pending`` holds what a draft decided about earlier work (each action reviewed, each
open proposal's outcome, the objectives' progress); ``domain.interviews.complete`` applies it to
the file when the interview is validated. ``referral.consent_method`` says how the young person
gave their consent (recorded on the referral's page, before sending); ``proposal.amount``
how much of an aid was proposed, in the aid's unit. A plain ``ADD COLUMN`` on both engines: no table
rebuild, so ``young_person``'s search triggers are untouched. The stalling state is computed
again for the young people with cancelled or postponed interviews, which the rule no longer
counts.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "e5a7c9e1f3b6"
down_revision = "d4f6b8d0e2a5"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "interview", sa.Column("pending", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column("referral", sa.Column("consent_method", sa.String(length=10), nullable=True))
    op.add_column("proposal", sa.Column("amount", sa.Numeric(10, 2), nullable=True))
    # The stalling rule now counts only interviews held or missed (not cancelled or postponed):
    # the kept state of the young people who have such interviews is computed again.
    from backoffice.domain.interviews import refresh_progress

    connection = op.get_bind()
    session = Session(bind=connection)
    refresh_progress(
        session,
        sa.select(sa.column("young_person_id"))
        .select_from(sa.table("interview", sa.column("attendance")))
        .where(sa.column("attendance").not_in(("present", "absent")))
        .distinct(),
    )
    session.flush()


def downgrade():
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("amount")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("consent_method")
    with op.batch_alter_table("interview") as batch:
        batch.drop_column("pending")
