"""Who is told what, and how: one declaration for every door (a screen, the partner's link,
the CLI, the demo).

- The **partner**, when a referral is sent or re-sent: the fiche de liaison (what the young
  person agreed to share) and the answer link, by e-mail.
- The **counsellor** (the referral's or the request's counsellor, else the referent): when a
  partner answers, when a referral is to chase (10 days) or expires, when an aid request is
  decided — a notification on the home page and an e-mail. Not when they did it themselves.
- The **young person**, with an e-mail address and an e-mail consent in force: the confirmation
  of their next appointment and a reminder the day before (with an ``.ics``), the recap of the
  interview (never the private notes), and the link to their space.

Messages go to the outbox (``outbox.write``) in the caller's transaction. The workflows call
:func:`on_fired` after every transition (``workflow.LISTENERS``); the interview's validation
calls :func:`interview_validated`; ``flask tick`` calls :func:`chase_due` and
:func:`reminders_due`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Action,
    AidRequest,
    Consent,
    Interview,
    Notification,
    OutboxMessage,
    Referral,
    User,
    YoungPerson,
)
from . import calendar, outbox
from . import vocabularies as vocab
from .values import format_quantity
from .vocabularies import N_


@dataclass(frozen=True)
class Settings:
    """What the messages need from the configuration: the address the links start with, the
    key that signs them, the structure's name."""

    public_url: str = "http://127.0.0.1:5000"
    secret_key: str = "dev"
    app_name: str = "Mission locale"

    def link(self, path: str) -> str:
        return self.public_url.rstrip("/") + path


_provider: list = []


def configure(provider) -> None:
    """``provider()`` gives the :class:`Settings` in force (``create_app`` reads them from the
    current app's configuration, so that each app signs with its own key)."""
    _provider[:] = [provider]


def settings() -> Settings:
    if _provider:
        try:
            return _provider[0]()
        except RuntimeError:  # outside an application
            pass
    return Settings()


# --- the young person: may we write to them? ------------------------------------------------


def contactable(
    session: Session,
    person: YoungPerson,
    today: dt.date | None = None,
    consents: list[Consent] | None = None,
) -> bool:
    """An e-mail address, an e-mail consent given and not withdrawn, not anonymised.
    ``consents``: the young person's, when the caller has them already."""
    if not person.email or person.anonymised_at is not None:
        return False
    today = today or dt.date.today()
    if consents is None:
        consents = session.scalars(
            sa.select(Consent).where(
                Consent.young_person_id == person.id, Consent.purpose == "email"
            )
        ).all()
    return any(
        c.purpose == "email"
        and c.given_on <= today
        and (c.withdrawn_on is None or c.withdrawn_on > today)
        for c in consents
    )


def site_place(person: YoungPerson) -> str:
    site = person.site
    if site is None:
        return ""
    return ", ".join(p for p in (site.name, site.address, site.postcode, site.city) if p)


def appointment_event(person: YoungPerson, when: dt.datetime, interview_id: int) -> calendar.Event:
    """The young person's appointment as a calendar event (same UID in every message, so a
    reminder updates the confirmation's event rather than adding one)."""
    counsellor = person.referent
    return calendar.Event(
        uid=f"rdv-{interview_id}@{_host()}",
        start=when,
        summary=f"Rendez-vous à la {settings().app_name}",
        location=site_place(person),
        description=f"Avec {counsellor.full_name}" if counsellor else "",
    )


def _host() -> str:
    url = settings().public_url.split("://", 1)[-1]
    return url.split("/", 1)[0].split(":", 1)[0] or "mission-locale"


def _appointment_ics(person: YoungPerson, when: dt.datetime, interview_id: int) -> tuple[str, str]:
    return "rendez-vous.ics", calendar.ics([appointment_event(person, when, interview_id)])


def interview_validated(session: Session, interview: Interview, today: dt.date) -> None:
    """At validation: the recap to the young person and, when the next appointment is set and
    to come, its confirmation with the ``.ics``."""
    person = interview.young_person
    if not contactable(session, person, today):
        return
    from .interviews import open_objectives

    objectives = open_objectives(session, person.id)
    actions = session.scalars(
        sa.select(Action)
        .where(Action.set_at_id == interview.id)
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()
    common = {
        "person": person,
        "interview": interview,
        "counsellor": interview.counsellor or person.referent,
        "app_name": settings().app_name,
        "parties": vocab.PARTIES,
    }
    outbox.write(
        session,
        "recap",
        person.email,
        "recap",
        young_person_id=person.id,
        key=f"recap:{interview.id}",
        objectives=objectives,
        actions=actions,
        place=site_place(person),
        **common,
    )
    appointment_set(session, interview, today)


def appointment_set(session: Session, interview: Interview, today: dt.date) -> None:
    """The confirmation of the appointment an interview (held, missed or postponed) sets, with
    its ``.ics``, when it is to come and the young person may be written to."""
    person = interview.young_person
    when = interview.next_appointment
    if when is None or when.date() < today or not contactable(session, person, today):
        return
    outbox.write(
        session,
        "appointment",
        person.email,
        "appointment",
        young_person_id=person.id,
        key=f"appointment:{interview.id}",
        attachment=_appointment_ics(person, when, interview.id),
        person=person,
        interview=interview,
        counsellor=interview.counsellor or person.referent,
        app_name=settings().app_name,
        when=when,
        place=site_place(person),
        reminder=False,
    )


def _latest_completed():
    later = sa.orm.aliased(Interview)
    return ~(
        sa.select(later.id)
        .where(
            later.young_person_id == Interview.young_person_id,
            later.status == "completed",
            sa.or_(
                later.starts_at > Interview.starts_at,
                sa.and_(later.starts_at == Interview.starts_at, later.id > Interview.id),
            ),
        )
        .exists()
    )


def _may_be_written_to(today: dt.date):
    """SQL, on ``YoungPerson``: what :func:`contactable` says, for a whole list at once."""
    return sa.and_(
        YoungPerson.email.is_not(None),
        YoungPerson.anonymised_at.is_(None),
        sa.select(Consent.id)
        .where(
            Consent.young_person_id == YoungPerson.id,
            Consent.purpose == "email",
            Consent.given_on <= today,
            sa.or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > today),
        )
        .exists(),
    )


def reminders_due(session: Session, today: dt.date) -> int:
    """The reminder of tomorrow's appointments (the ones still standing: set by the young
    person's latest validated interview) to the young people who may be written to, once each.
    Returns how many were written. A fixed number of queries, plus one per reminder written."""
    start = dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
    rows = session.scalars(
        sa.select(Interview)
        .join(YoungPerson, YoungPerson.id == Interview.young_person_id)
        .options(
            sa.orm.contains_eager(Interview.young_person).options(
                sa.orm.joinedload(YoungPerson.site), sa.orm.joinedload(YoungPerson.referent)
            )
        )
        .where(
            Interview.status == "completed",
            Interview.next_appointment >= start,
            Interview.next_appointment < start + dt.timedelta(days=1),
            _latest_completed(),
            _may_be_written_to(today),
        )
        .order_by(Interview.next_appointment, Interview.id)
    ).all()
    done = set(
        session.scalars(
            sa.select(OutboxMessage.key).where(
                OutboxMessage.key.in_([f"reminder:{i.id}" for i in rows])
            )
        )
    )
    written = 0
    for interview in rows:
        key = f"reminder:{interview.id}"
        if key in done:
            continue
        person = interview.young_person
        outbox.write(
            session,
            "reminder",
            person.email,
            "appointment",
            young_person_id=person.id,
            key=key,
            attachment=_appointment_ics(person, interview.next_appointment, interview.id),
            person=person,
            interview=interview,
            counsellor=person.referent,
            app_name=settings().app_name,
            when=interview.next_appointment,
            place=site_place(person),
            reminder=True,
        )
        written += 1
    return written


def space_link(session: Session, person: YoungPerson, url: str) -> bool:
    """The link to their space, by e-mail; False when the young person may not be written to."""
    if not contactable(session, person):
        return False
    outbox.write(
        session,
        "space_link",
        person.email,
        "space_link",
        young_person_id=person.id,
        person=person,
        url=url,
        expires=person.space_expires_at,
        counsellor=person.referent,
        app_name=settings().app_name,
    )
    return True


# --- the counsellor -------------------------------------------------------------------------


def notify(
    session: Session,
    user: User | None,
    kind: str,
    text: str,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    young_person_id: int | None = None,
    key: str | None = None,
    mail: bool = True,
) -> Notification | None:
    """A notification on ``user``'s home page and, ``mail``, the same by e-mail. Written once
    per ``key``."""
    if user is None or not user.active:
        return None
    if key is not None and session.scalar(
        sa.select(Notification.id).where(Notification.key == key)
    ):
        return None
    notification = Notification(
        user_id=user.id,
        kind=kind,
        text=text[:300],
        entity=entity,
        entity_id=entity_id,
        young_person_id=young_person_id,
        key=key,
    )
    session.add(notification)
    if mail and user.email:
        path = {
            "referral": f"/admin/referral/workflow/?id={entity_id}",
            "aid_request": f"/admin/aidrequest/workflow/?id={entity_id}",
            "young_person": f"/admin/interviews/file/{entity_id}",
        }.get(entity or "", "/admin/")
        outbox.write(
            session,
            kind,
            user.email,
            "notification",
            user_id=user.id,
            young_person_id=young_person_id,
            key=f"mail:{key}" if key else None,
            user=user,
            text=text,
            url=settings().link(path),
            app_name=settings().app_name,
        )
    session.flush()
    return notification


def _counsellor_of(session: Session, record) -> User | None:
    user_id = record.counsellor_id or record.young_person.referent_id
    return session.get(User, user_id) if user_id else None


def _name(person: YoungPerson) -> str:
    return f"{person.first_name} {person.last_name}"


def fiche(referral: Referral) -> list[tuple[str, str]]:
    """The fiche de liaison as (label, value) lines: the young person's name, what they agreed
    to share, and the referral itself — the printable fiche, the partner's answer page and the
    partner's e-mail alike. The labels are French (marked for translation)."""
    person = referral.young_person
    shared = set(referral.shared_fields or [])
    lines = [(N_("Jeune"), _name(person))]
    if "birth_date" in shared:
        lines.append((N_("Date de naissance"), person.birth_date.strftime("%d/%m/%Y")))
    if "contact" in shared:
        lines.append((N_("Contact"), " ".join(p for p in (person.phone, person.email) if p)))
    if "address" in shared:
        place = " ".join(p for p in (person.address, person.postcode, person.city) if p)
        lines.append((N_("Adresse"), place))
    if "education_level" in shared:
        lines.append(
            (N_("Niveau de formation"), vocab.EDUCATION_LEVELS.label(person.education_level))
        )
    if "housing_situation" in shared:
        lines.append((N_("Logement"), vocab.HOUSING_SITUATIONS.label(person.housing_situation)))
    if "resources" in shared:
        lines.append((N_("Ressources"), vocab.RESOURCES.label(person.resources)))
    if "driving_licence" in shared:
        mobility = ("Permis B" if person.driving_licence else "Sans permis") + (
            ", véhiculé" if person.has_vehicle else ", sans véhicule"
        )
        lines.append((N_("Mobilité"), mobility))
    if "rqth" in shared:
        lines.append((N_("RQTH"), "oui" if person.rqth else "non"))
    lines.append((N_("Motif de l'orientation"), referral.reason))
    if referral.request:
        lines.append((N_("Ce qui est demandé"), referral.request))
    if referral.availability:
        lines.append((N_("Disponibilités"), referral.availability))
    contact = vocab.CONTACT_PREFERENCES.label(referral.contact_preference)
    if referral.counsellor:
        contact += f" — {referral.counsellor.full_name}"
        if referral.counsellor.phone:
            contact += f", {referral.counsellor.phone}"
    lines.append((N_("Prise de contact"), contact))
    return [(label, value) for label, value in lines if value]


def _referral_fired(session: Session, referral: Referral, name: str, actor, event_id) -> None:
    from . import referrals as flows

    person = referral.young_person
    if name in ("send", "resend"):
        partner = referral.partner
        if not partner.email:
            notify(
                session,
                _counsellor_of(session, referral),
                "referral_sent",
                f"{partner.name} n'a pas d'adresse e-mail : transmettez-lui vous-même le lien "
                f"de réponse de l'orientation de {_name(person)}.",
                entity="referral",
                entity_id=referral.id,
                young_person_id=person.id,
                mail=False,
            )
            return
        token = flows.answer_token(settings().secret_key, referral)
        outbox.write(
            session,
            "referral_sent",
            partner.email,
            "referral_sent",
            young_person_id=person.id,
            key=f"referral_sent:{referral.id}:{event_id}",
            referral=referral,
            partner=partner,
            lines=fiche(referral),
            url=settings().link(f"/partenaire/reponse/{token}"),
            expires=referral.answer_expires_at,
            resent=name == "resend",
            app_name=settings().app_name,
        )
        return
    counsellor = _counsellor_of(session, referral)
    if counsellor is not None and actor.user_id == counsellor.id:
        return  # they did it themselves
    if name == "accept":
        when = referral.appointment_at
        text = f"{referral.partner.name} accepte l'orientation de {_name(person)}" + (
            f" : rendez-vous le {when:%d/%m/%Y à %H:%M}." if when else "."
        )
    elif name == "refuse":
        reason = vocab.REFUSAL_REASONS.label(referral.refusal_reason)
        text = f"{referral.partner.name} refuse l'orientation de {_name(person)} ({reason})."
    elif name == "expire":
        text = (
            f"L'orientation de {_name(person)} vers {referral.partner.name} a expiré sans réponse."
        )
    else:
        return
    notify(
        session,
        counsellor,
        "referral_expired" if name == "expire" else "referral_answered",
        text,
        entity="referral",
        entity_id=referral.id,
        young_person_id=person.id,
    )


DECISIONS = {
    "grant": "accordée",
    "grant_direct": "accordée",
    "refuse": "refusée",
    "postpone": "ajournée",
    "close": "classée sans suite",
}


def _aid_fired(session: Session, request: AidRequest, name: str, actor) -> None:
    if name not in DECISIONS:
        return
    counsellor = _counsellor_of(session, request)
    if counsellor is None or actor.user_id == counsellor.id:
        return
    text = (
        f"La demande d'aide « {request.aid_type.name} » de {_name(request.young_person)} est "
        f"{DECISIONS[name]}"
    )
    if request.status == "granted" and request.amount_granted is not None:
        text += f" ({format_quantity(request.amount_granted, request.aid_type.unit)})"
    notify(
        session,
        counsellor,
        "aid_decided",
        text + ".",
        entity="aid_request",
        entity_id=request.id,
        young_person_id=request.young_person_id,
    )


def last_sent_to_partner(session: Session, referral_id: int):
    """The latest e-mail of the referral to its partner (None: none written)."""
    return session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.key.like(f"referral_sent:{referral_id}:%"))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def on_fired(session: Session, workflow, record, event, actor) -> None:
    """After each workflow transition (``workflow.LISTENERS``)."""
    if workflow.entity == "referral":
        _referral_fired(session, record, event.transition, actor, event.id)
    elif workflow.entity == "aid_request":
        _aid_fired(session, record, event.transition, actor)


def chase_due(session: Session, today: dt.date) -> int:
    """The referrals sent more than 10 days ago without answer: their counsellor is told once
    (per sending). Returns how many notifications were written."""
    from .referrals import REMIND_AFTER_DAYS

    limit = dt.datetime.combine(today - dt.timedelta(days=REMIND_AFTER_DAYS), dt.time())
    written = 0
    for referral in session.scalars(
        sa.select(Referral)
        .options(sa.orm.joinedload(Referral.young_person), sa.orm.joinedload(Referral.partner))
        .where(Referral.status == "sent", Referral.sent_at < limit)
        .order_by(Referral.id)
    ):
        notification = notify(
            session,
            _counsellor_of(session, referral),
            "referral_chase",
            f"{referral.partner.name} n'a pas répondu à l'orientation de "
            f"{_name(referral.young_person)}, envoyée le {referral.sent_at:%d/%m/%Y} : "
            "relancez-le.",
            entity="referral",
            entity_id=referral.id,
            young_person_id=referral.young_person_id,
            key=f"chase:{referral.id}:{referral.sent_at:%Y%m%d}",
        )
        written += notification is not None
    return written


def youth_action(session: Session, person: YoungPerson, action: Action, added: bool) -> None:
    """The young person ticked or added an action from their space: their referent sees it on
    the home page (no e-mail: it waits for the next interview)."""
    verb = "ajoute l'action" if added else "a fait"
    notify(
        session,
        person.referent,
        "youth_action",
        f"{_name(person)} {verb} « {action.what} » depuis son espace.",
        entity="young_person",
        entity_id=person.id,
        young_person_id=person.id,
        mail=False,
    )


def unread(session: Session, user_id: int, limit: int = 20) -> tuple[list[Notification], int]:
    """A counsellor's latest notifications (unread first) and the number unread."""
    rows = session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc())
        .limit(limit)
    ).all()
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return rows, count


def mark_read(session: Session, user_id: int, ids: list[int] | None, now: dt.datetime) -> int:
    """Mark the user's notifications ``ids`` (all, when None) as read."""
    where = [Notification.user_id == user_id, Notification.read_at.is_(None)]
    if ids is not None:
        where.append(Notification.id.in_(ids))
    result = session.execute(
        sa.update(Notification)
        .where(*where)
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def purge(session: Session, now: dt.datetime, keep_days: int) -> int:
    """Read notifications older than ``keep_days`` go; so do the outbox's sent messages."""
    before = now - dt.timedelta(days=keep_days)
    result = session.execute(
        sa.delete(Notification).where(
            Notification.read_at.is_not(None), Notification.created_at < before
        )
    )
    return (result.rowcount or 0) + outbox.purge_sent(session, before)
