"""The back-office home page: what matters today, counted within what the user may see."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from ..domain import interviews as interview_rules
from ..domain import scope
from ..domain import vocabularies as vocab
from ..extensions import db
from ..models import Action, AidType, Interview, Partner, User, YoungPerson


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
        agenda = _counsellor_agenda() if current_user.role == "counsellor" else None
        return self.render(
            "admin/home/index.html", figures=figures, views=views, agenda=agenda, vocab=vocab
        )


#: The home page lists this many young people *sans progression* (the rest: *Mes jeunes*).
FLAGGED_SHOWN = 50


def _counsellor_agenda() -> dict:
    """The counsellor's day: appointments, drafts to finish, overdue actions, who is stalling.
    A fixed number of queries whatever the caseload (the progress state is kept on the young
    person, see domain/interviews.py)."""
    today = dt.date.today()
    week_end = today + dt.timedelta(days=7 - today.weekday())
    appointments = db.session.execute(
        sa.select(Interview.next_appointment, YoungPerson)
        .join(YoungPerson, Interview.young_person_id == YoungPerson.id)
        .where(
            YoungPerson.referent_id == current_user.id,
            Interview.next_appointment >= dt.datetime.combine(today, dt.time()),
            Interview.next_appointment < dt.datetime.combine(week_end, dt.time()),
        )
        .order_by(Interview.next_appointment)
    ).all()
    drafts = db.session.scalars(
        sa.select(Interview)
        .options(sa.orm.joinedload(Interview.young_person))
        .where(Interview.counsellor_id == current_user.id, Interview.status == "draft")
        .order_by(Interview.starts_at)
    ).all()
    overdue = db.session.execute(
        sa.select(Action, YoungPerson)
        .join(YoungPerson, Action.young_person_id == YoungPerson.id)
        .where(
            YoungPerson.referent_id == current_user.id,
            Action.due_date < today,
            Action.status.not_in(interview_rules.CLOSED_ACTION_STATUSES),
        )
        .order_by(Action.due_date)
        .limit(50)
    ).all()
    stalled = (
        YoungPerson.referent_id == current_user.id,
        YoungPerson.status != "exited",
        interview_rules.stalled_clause(today),
    )
    flagged = db.session.scalars(
        sa.select(YoungPerson)
        .where(*stalled)
        .order_by(YoungPerson.last_name, YoungPerson.first_name, YoungPerson.id)
        .limit(FLAGGED_SHOWN)
    ).all()
    flagged_total = (
        len(flagged)
        if len(flagged) < FLAGGED_SHOWN
        else db.session.scalar(sa.select(sa.func.count()).select_from(YoungPerson).where(*stalled))
    )
    return {
        "today": [(when, y) for when, y in appointments if when.date() == today],
        "week": [(when, y) for when, y in appointments if when.date() != today],
        "drafts": drafts,
        "overdue": overdue,
        "flagged": [
            (y, interview_rules.verdict_of(y.stalling, y.last_interview_at, today)) for y in flagged
        ],
        "flagged_total": flagged_total,
    }
