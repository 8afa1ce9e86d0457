"""What a user may see: one query filter per model, used by every screen, export and look-up.

Plain Python over SQLAlchemy: it takes the user's role and site and returns a WHERE clause (or None
for "everything"). Records attached to a young person inherit the young person's scope.
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from ..models import User, YoungPerson


class Viewer(Protocol):
    role: str
    site_id: int | None


def young_person_clause(viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """Counsellors see their own site; managers their site, or all sites when they have none."""
    if viewer.role == "admin":
        return None
    if viewer.role == "manager" and viewer.site_id is None:
        return None
    if viewer.site_id is None:  # a counsellor without a site sees nobody rather than everybody
        return sa.false()
    return YoungPerson.site_id == viewer.site_id


def clause_for(model: type, viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """The scope of ``model`` for ``viewer``; None means no restriction."""
    if model is YoungPerson:
        return young_person_clause(viewer)
    if model is User:
        # Colleagues of the same site; admins and site-less managers see every account.
        if viewer.role == "admin" or viewer.site_id is None:
            return None if viewer.role != "counsellor" else User.id == getattr(viewer, "id", None)
        return User.site_id == viewer.site_id
    young_person_id = getattr(model, "young_person_id", None)
    if young_person_id is not None:
        clause = young_person_clause(viewer)
        if clause is None:
            return None
        return young_person_id.in_(sa.select(YoungPerson.id).where(clause))
    return None
