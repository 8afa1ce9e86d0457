"""A session token per account: sessions that really end

Revision ID: b2d4f6a8c0e1
Revises: a1c3e5f7b9d2
Create Date: 2026-11-28

Every session cookie carries the account's token (Flask-Login's alternative id); changing it
at sign-out, password change, deactivation or an admin's "déconnecter partout" ends them all.
Existing accounts get a random token each (their users sign in again once).
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a8c0e1"
down_revision = "a1c3e5f7b9d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM user_account")).scalars().all()
    if ids:
        connection.execute(
            sa.text("UPDATE user_account SET session_token = :token WHERE id = :id"),
            [{"id": i, "token": secrets.token_urlsafe(32)} for i in ids],
        )
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_token")
