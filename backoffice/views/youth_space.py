"""The young person's own space, ``/mon-espace/<token>`` (no account: the signed link is the
key), and each counsellor's private calendar feed, ``/agenda/<token>.ics``. HTTP only: the
rules are in ``domain/youth_space.py`` and ``domain/calendar.py``."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from ..domain import audit, calendar, notices
from ..domain import vocabularies as vocab
from ..domain import youth_space as space
from ..domain.interviews import appointments
from ..domain.values import local_now
from ..extensions import db, limiter
from ..models import User, utcnow

bp = Blueprint("youth_space", __name__, url_prefix="/mon-espace")
feed_bp = Blueprint("calendar_feed", __name__, url_prefix="/agenda")


def _token_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "space-token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _person(token: str):
    """The young person the link opens; 404 for a link that is not ours, 410 when gone."""
    try:
        person = space.person_for(db.session, current_app.config["SECRET_KEY"], token, utcnow())
    except LookupError:
        abort(404)
    except space.SpaceGone:
        abort(Response(render_template("youth_space/gone.html"), status=410))
    audit.set_actor(db.session, None, f"le jeune (son espace) n°{person.id}")
    return person


def _page(person, token: str, problem: str | None = None, typed: dict | None = None, status=200):
    context = space.view(db.session, person, local_now())
    return (
        render_template(
            "youth_space/index.html",
            token=token,
            problem=problem,
            typed=typed or {},
            parties=vocab.PARTIES,
            today=dt.date.today(),
            **context,
        ),
        status,
    )


@bp.route("/<token>", methods=["GET"])
@limiter.limit("120 per hour", key_func=_token_key, scope="youth-space")
def index(token):
    person = _person(token)
    space.opened(db.session, person, utcnow())
    db.session.commit()
    return _page(person, token)


@bp.route("/<token>/actions/<int:action_id>", methods=["POST"])
@limiter.limit("120 per hour", key_func=_token_key, scope="youth-space")
def tick(token, action_id):
    person = _person(token)
    try:
        space.tick(db.session, person, action_id, request.form.get("done") == "1", utcnow())
    except space.SpaceRefused as refusal:
        db.session.rollback()
        return _page(person, token, str(refusal), status=400)
    db.session.commit()
    return redirect(url_for(".index", token=token, _anchor=f"action-{action_id}"), 303)


@bp.route("/<token>/actions", methods=["POST"])
@limiter.limit("120 per hour", key_func=_token_key, scope="youth-space")
def add(token):
    person = _person(token)
    try:
        action = space.add(
            db.session, person, request.form.get("what"), request.form.get("due"), dt.date.today()
        )
    except space.SpaceRefused as refusal:
        db.session.rollback()
        return _page(person, token, str(refusal), typed=request.form, status=400)
    db.session.commit()
    return redirect(url_for(".index", token=token, _anchor=f"action-{action.id}"), 303)


@bp.route("/<token>/rendez-vous.ics")
@limiter.limit("120 per hour", key_func=_token_key, scope="youth-space")
def appointment_ics(token):
    person = _person(token)
    appointment = space.view(db.session, person, local_now())["appointment"]
    if appointment is None:
        abort(404)
    body = calendar.ics(
        [notices.appointment_event(person, appointment.next_appointment, appointment.id)]
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="rendez-vous.ics"'},
    )


# --- the counsellor's calendar feed ------------------------------------------------------------

#: How far back and ahead the feed reaches (a full caseload's next appointments fit in it:
#: 2,000 events, about a second of work for a calendar that asks once an hour).
FEED_PAST = dt.timedelta(days=14)
FEED_AHEAD = dt.timedelta(days=90)


@feed_bp.route("/<token>.ics")
@limiter.limit("120 per hour", key_func=_token_key, scope="calendar-feed")
def feed(token):
    """The counsellor's appointments: the first name and initial only (the event sits in a
    third-party calendar), and the link to the file (which asks to sign in)."""
    if not token or len(token) > 64:
        abort(404)
    user = db.session.scalar(
        sa.select(User).where(User.calendar_token == token, User.active.is_(True))
    )
    if user is None:
        abort(404)
    now = local_now()
    rows = db.session.execute(appointments(user.id, now - FEED_PAST, now + FEED_AHEAD)).all()
    events = [
        calendar.Event(
            uid=f"rdv-{person.id}-{when:%Y%m%d%H%M}@{request.host.split(':')[0]}",
            start=when,
            summary=f"Entretien — {person.first_name} {person.last_name[:1]}.",
            url=url_for("interviews.file", young_person_id=person.id, _external=True),
        )
        for when, person in rows
    ]
    body = calendar.ics(events, name=f"Rendez-vous — {user.full_name}")
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})
