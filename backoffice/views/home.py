"""The back-office home page: what matters today, counted within what the user may see."""

from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from ..domain import scope
from ..extensions import db
from ..models import AidType, Partner, User, YoungPerson


def _count(model, *where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model).where(*where)
    clause = scope.clause_for(model, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    return db.session.scalar(stmt)


class HomeView(AdminIndexView):
    """Admin index, behind the login like every other admin page."""

    def is_accessible(self):
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        figures = {
            "active": _count(YoungPerson, YoungPerson.status == "active"),
            "on_hold": _count(YoungPerson, YoungPerson.status == "on_hold"),
            "exited": _count(YoungPerson, YoungPerson.status == "exited"),
            "mine": _count(
                YoungPerson,
                YoungPerson.referent_id == current_user.id,
                YoungPerson.status != "exited",
            ),
            "counsellors": _count(User, User.role == "counsellor", User.active),
            "partners": _count(Partner, Partner.active),
            "aids": _count(AidType, AidType.active),
        }
        views = {view.endpoint: view for view in self.admin._views}
        return self.render("admin/home/index.html", figures=figures, views=views)
