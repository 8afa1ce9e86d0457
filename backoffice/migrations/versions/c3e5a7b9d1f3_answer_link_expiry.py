"""The partner's answer link: its expiry stored when it is issued

Revision ID: c3e5a7b9d1f3
Revises: b2d4f6a8c0e1
Create Date: 2026-11-28

The link used to be signed again each time the follow-up page was shown, so its 8 days started
over at every view. It is now issued once when the referral is sent (or re-sent, which revokes
the previous one) and its expiry is stored. Links of referrals already sent keep 8 days from
their sending.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "c3e5a7b9d1f3"
down_revision = "b2d4f6a8c0e1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("answer_expires_at", sa.DateTime(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, sent_at FROM referral WHERE answer_nonce IS NOT NULL")
    ).all()
    updates = []
    for referral_id, sent_at in rows:
        if isinstance(sent_at, str):
            sent_at = dt.datetime.fromisoformat(sent_at)
        if sent_at is not None:
            updates.append({"id": referral_id, "at": sent_at + dt.timedelta(days=8)})
    if updates:
        connection.execute(
            sa.text("UPDATE referral SET answer_expires_at = :at WHERE id = :id"), updates
        )


def downgrade():
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("answer_expires_at")
