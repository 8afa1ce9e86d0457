"""The young person's own space (``/mon-espace/<token>``): their objectives in their words, their
actions — which they may tick done or add to —, their next appointment and their counsellor's
contact. Nothing else (no diagnosis, no notes).

The link is the key: a signed token naming the young person and the current secret of their
link (``space_nonce``), valid until ``space_expires_at``. A new link, or the counsellor's
revocation, ends the previous one. What the young person does is theirs: an action they tick
keeps their word (``youth_done_at``) for the counsellor to review at the next interview; an
action they add is recorded as proposed by the young person.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from ..models import Action, Consultation, Interview, YoungPerson
from . import notices
from .interviews import open_objectives
from .values import InvalidValue, parse_date

#: How long a link stays valid (``YOUTH_SPACE_DAYS``).
VALID_DAYS = 60
OPEN = ("planned", "in_progress", "waiting")
WHAT_MAX = 300


class SpaceGone(Exception):
    """The link was revoked, replaced or has expired (HTTP 410)."""


class SpaceRefused(Exception):
    """A French message about what the young person typed."""


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="youth-space")


def issue(person: YoungPerson, now: dt.datetime, days: int = VALID_DAYS) -> None:
    """A new link, valid ``days``; the previous one stops working."""
    person.space_nonce = secrets.token_urlsafe(24)
    person.space_expires_at = now + dt.timedelta(days=days)


def revoke(person: YoungPerson) -> None:
    person.space_nonce = None
    person.space_expires_at = None


def token(secret_key: str, person: YoungPerson) -> str | None:
    """The token of the young person's current link (None: no link)."""
    if not person.space_nonce:
        return None
    return _serializer(secret_key).dumps({"y": person.id, "n": person.space_nonce})


def active(person: YoungPerson, now: dt.datetime) -> bool:
    return (
        bool(person.space_nonce)
        and person.space_expires_at is not None
        and (now <= person.space_expires_at)
    )


def person_for(session: Session, secret_key: str, value: str, now: dt.datetime) -> YoungPerson:
    """The young person a token opens. ``LookupError``: not a link of ours (404);
    :class:`SpaceGone`: revoked, replaced or expired (410)."""
    try:
        payload = _serializer(secret_key).loads(value)
    except BadSignature as error:
        raise LookupError from error
    if not isinstance(payload, dict) or not isinstance(payload.get("y"), int):
        raise LookupError
    person = session.get(YoungPerson, payload["y"]) if 0 < payload["y"] < 2**31 else None
    if person is None or person.anonymised_at is not None:
        raise SpaceGone
    if not person.space_nonce or person.space_nonce != payload.get("n"):
        raise SpaceGone
    if person.space_expires_at is None or now > person.space_expires_at:
        raise SpaceGone
    return person


def opened(session: Session, person: YoungPerson, now: dt.datetime) -> None:
    """Every access is in the consultation log (kind ``space``, no staff account)."""
    session.add(Consultation(young_person_id=person.id, user_id=None, at=now, kind="space"))


def view(session: Session, person: YoungPerson, now: dt.datetime) -> dict:
    """What the space shows: open objectives, open actions (and the ones done recently), the
    next appointment, the counsellor."""
    objectives = open_objectives(session, person.id)
    actions = session.scalars(
        sa.select(Action)
        .where(Action.young_person_id == person.id, Action.status.in_(OPEN))
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()
    latest = session.scalar(
        sa.select(Interview)
        .where(Interview.young_person_id == person.id, Interview.status == "completed")
        .order_by(Interview.starts_at.desc(), Interview.id.desc())
        .limit(1)
    )
    appointment = None
    if latest is not None and latest.next_appointment and latest.next_appointment >= now:
        appointment = latest
    return {
        "person": person,
        "objectives": objectives,
        "actions": actions,
        "appointment": appointment,
        "counsellor": person.referent,
        "place": notices.site_place(person),
    }


def _own_open_action(session: Session, person: YoungPerson, action_id) -> Action:
    try:
        action_id = int(action_id)
    except (TypeError, ValueError):
        raise SpaceRefused("Cette action n'existe pas.") from None
    action = session.get(Action, action_id) if 0 < action_id < 2**31 else None
    if action is None or action.young_person_id != person.id:
        raise SpaceRefused("Cette action n'existe pas.")
    if action.status not in OPEN:
        raise SpaceRefused("Cette action est déjà revue avec votre conseiller.")
    return action


def tick(session: Session, person: YoungPerson, action_id, done: bool, now: dt.datetime) -> Action:
    """The young person says an action is done (or not after all)."""
    action = _own_open_action(session, person, action_id)
    if done and action.youth_done_at is None:
        action.youth_done_at = now
        notices.youth_action(session, person, action, added=False)
    elif not done:
        action.youth_done_at = None
    session.flush()
    return action


def add(
    session: Session, person: YoungPerson, what: str | None, due: str | None, today: dt.date
) -> Action:
    """An action the young person sets themself: theirs to do, proposed by them."""
    what = (what or "").strip()
    if not what:
        raise SpaceRefused("Écrivez ce que vous allez faire.")
    if len(what) > WHAT_MAX:
        raise SpaceRefused(f"Faites plus court : {WHAT_MAX} caractères au plus.")
    due_date = None
    if due and due.strip():
        try:
            due_date = parse_date(due)
        except InvalidValue as error:
            raise SpaceRefused(str(error)) from error
        if due_date < today:
            raise SpaceRefused("La date prévue ne peut pas être déjà passée.")
    action = Action(
        young_person_id=person.id,
        what=what,
        who="young_person",
        created_by="young_person",
        due_date=due_date,
        status="planned",
    )
    session.add(action)
    session.flush()
    notices.youth_action(session, person, action, added=True)
    return action
