"""The back-office home page: what matters today, counted within what the user may see."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import interviews as interview_rules
from ..domain import notices, scope, values
from ..domain import vocabularies as vocab
from ..extensions import db
from ..models import (
    OPEN_ACTIONS_SQL,
    Action,
    AidType,
    Interview,
    Partner,
    User,
    YoungPerson,
    utcnow,
)


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
        notes, unread = notices.unread(db.session, current_user.id)
        return self.render(
            "admin/home/index.html",
            figures=figures,
            views=views,
            agenda=agenda,
            vocab=vocab,
            notes=notes,
            unread=unread,
            note_url=_note_url,
        )

    @expose("/notifications/lues", methods=["POST"])
    def notifications_read(self):
        """Mark one notification (``id``) or all of them as read."""
        wanted = request.form.get("id")
        ids = None
        if wanted is not None:
            number = values.parse_id(wanted)
            if number is None:
                flash(_("Notification introuvable."), "error")
                return redirect(url_for(".index"))
            ids = [number]
        notices.mark_read(db.session, current_user.id, ids, utcnow())
        db.session.commit()
        return redirect(url_for(".index", _anchor="notifications"))


def _note_url(note) -> str | None:
    """Where a notification leads: the referral, the aid request or the young person's file."""
    if note.entity == "referral":
        return url_for("referral.workflow_view", id=note.entity_id)
    if note.entity == "aid_request":
        return url_for("aidrequest.workflow_view", id=note.entity_id)
    if note.entity == "young_person":
        return url_for("interviews.file", young_person_id=note.entity_id)
    return None


#: Each list of the home page shows this many lines at most, and says how many there are.
SHOWN = 50


def _capped(stmt, scalars: bool = False) -> tuple[list, bool]:
    """The first ``SHOWN`` rows of ``stmt``, and whether there are more: a caseload of 5,000
    has hundreds of appointments in a week, and counting them costs more than the page."""
    result = db.session.execute(stmt.limit(SHOWN + 1))
    rows = (result.scalars() if scalars else result).all()
    return rows[:SHOWN], len(rows) > SHOWN


def _counsellor_agenda() -> dict:
    """The counsellor's day: appointments, drafts to finish, overdue actions, who is stalling.
    A fixed number of queries whatever the caseload (the progress state is kept on the young
    person, see domain/interviews.py)."""
    today = dt.date.today()
    now = values.local_now()
    week_end = today + dt.timedelta(days=7 - today.weekday())
    # Appointments to come this week; those past (today's included) wait to be recorded. The
    # caseload is read once for both lists, then the young people shown are loaded.
    rows = db.session.execute(
        interview_rules.appointment_times(
            current_user.id,
            now - dt.timedelta(days=interview_rules.TO_RECORD_DAYS),
            dt.datetime.combine(week_end, dt.time()),
        )
    ).all()
    past = [row for row in rows if row.when < now]
    coming = [row for row in rows if row.when >= now]
    shown = past[:SHOWN] + coming[:SHOWN]
    people = {
        y.id: y
        for y in db.session.scalars(
            sa.select(YoungPerson).where(YoungPerson.id.in_({row.id for row in shown}))
        )
    }
    to_record = [(row.when, people[row.id]) for row in past[:SHOWN]]
    to_record_more = len(past) > SHOWN
    appointments = [(row.when, people[row.id]) for row in coming[:SHOWN]]
    appointments_more = len(coming) > SHOWN
    mine_drafts = (Interview.counsellor_id == current_user.id, Interview.status == "draft")
    drafts, drafts_more = _capped(
        sa.select(Interview)
        .options(sa.orm.joinedload(Interview.young_person))
        .where(*mine_drafts)
        .order_by(Interview.starts_at, Interview.id),
        scalars=True,
    )
    overdue, overdue_more = _capped(
        sa.select(Action, YoungPerson)
        .join(YoungPerson, Action.young_person_id == YoungPerson.id)
        .where(
            YoungPerson.referent_id == current_user.id,
            Action.due_date < today,
            # Spelled as the partial index's condition, constants included, so that SQLite
            # (which cannot match bound parameters to it) answers from that index.
            sa.text(OPEN_ACTIONS_SQL.replace("status", "action.status", 1)),
        )
        .order_by(Action.due_date, Action.id)
    )
    stalled = (
        YoungPerson.referent_id == current_user.id,
        YoungPerson.status != "exited",
        interview_rules.stalled_clause(today),
    )
    flagged, flagged_more = _capped(
        sa.select(YoungPerson)
        .where(*stalled)
        .order_by(YoungPerson.last_name, YoungPerson.first_name, YoungPerson.id),
        scalars=True,
    )
    return {
        "today": [(when, y) for when, y in appointments if when.date() == today],
        "week": [(when, y) for when, y in appointments if when.date() != today],
        "appointments_more": appointments_more,
        "to_record": to_record,
        "to_record_more": to_record_more,
        "missed_choices": [(code, vocab.ATTENDANCE.label(code)) for code in interview_rules.MISSED],
        "drafts": drafts,
        "drafts_more": drafts_more,
        "overdue": overdue,
        "overdue_more": overdue_more,
        "flagged": [
            (y, interview_rules.verdict_of(y.stalling, y.last_interview_at, today, status=y.status))
            for y in flagged
        ],
        "flagged_more": flagged_more,
    }
