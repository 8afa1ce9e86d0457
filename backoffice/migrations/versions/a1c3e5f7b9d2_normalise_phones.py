"""Phones in their one normal form (06 12 34 56 78; +44 … abroad), as every door now stores them

Revision ID: a1c3e5f7b9d2
Revises: f859098f1404
Create Date: 2026-11-27

Before this revision a phone was stored as typed ("0612345678", "+33 6 12 34 56 78"…); the
parser of ``domain/values.py`` now stores one form, so the same number exported and re-imported
is unchanged. Numbers the parser refuses (never allocated) are left as they are: nothing is
invented; the next edit of the record asks for a valid one.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1c3e5f7b9d2"
down_revision = "f859098f1404"
branch_labels = None
depends_on = None

TABLES = ("young_person", "user_account", "partner")


def upgrade():
    from backoffice.domain.values import InvalidValue, parse_phone

    connection = op.get_bind()
    for table in TABLES:
        rows = connection.execute(
            sa.text(f"SELECT id, phone FROM {table} WHERE phone IS NOT NULL")
        ).all()
        changes = []
        for record_id, phone in rows:
            try:
                normal = parse_phone(phone)
            except InvalidValue:
                continue
            if normal != phone:
                changes.append({"id": record_id, "phone": normal})
        if changes:
            connection.execute(
                sa.text(f"UPDATE {table} SET phone = :phone WHERE id = :id"), changes
            )


def downgrade():
    pass  # the normal form is a valid input form: nothing to undo
