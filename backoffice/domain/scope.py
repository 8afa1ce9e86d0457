"""What a user may see: one query filter per model, used by every screen, export and look-up.

The scope is declared on the model (``__scope__ = "site_id"`` on young people and accounts;
records with a ``young_person_id`` inherit their young person's), and read here: plain Python
over SQLAlchemy that takes the user's role and site and returns a WHERE clause (or None for
"everything").
"""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa

from ..models import YoungPerson


class Viewer(Protocol):
    role: str
    site_id: int | None


def _by_site(model: type, viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """Counsellors see their own site; managers their site, or all sites when they have none."""
    if viewer.role == "admin":
        return None
    if viewer.role == "manager" and viewer.site_id is None:
        return None
    if viewer.site_id is None:  # a counsellor without a site sees nobody rather than everybody
        if getattr(model, "__scope_self__", False):
            return model.id == getattr(viewer, "id", None)  # ... but their own account
        return sa.false()
    return model.site_id == viewer.site_id


def young_person_clause(viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """The scope of young people, which every record attached to one inherits."""
    return _by_site(YoungPerson, viewer)


def declared_scope(model: type) -> str | None:
    """What a model declares (``__scope__``): ``"site_id"`` (scoped by its site) or
    ``"young_person_id"`` (inherits its young person's scope, the default of any model that
    has that column); None: visible to every role that may open its screen."""
    declared = getattr(model, "__scope__", None)
    if declared is None and hasattr(model, "young_person_id"):
        return "young_person_id"
    return declared


def clause_for(model: type, viewer: Viewer) -> sa.ColumnElement[bool] | None:
    """The scope of ``model`` for ``viewer``, read from the model's declaration; None means no
    restriction."""
    declared = declared_scope(model)
    if declared == "site_id":
        return _by_site(model, viewer)
    if declared == "young_person_id":
        clause = young_person_clause(viewer)
        if clause is None:
            return None
        return model.young_person_id.in_(sa.select(YoungPerson.id).where(clause))
    if declared is not None:
        raise ValueError(f"{model.__name__}.__scope__ = {declared!r}: site_id or young_person_id")
    return None
