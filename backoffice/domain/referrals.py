"""The referral (*orientation*) and aid-request workflows, declared on ``workflow.py``.

Referral (DORA's model): brouillon → envoyée → acceptée | refusée | expirée | annulée; acceptée →
entrée → réalisée | abandon du jeune | interrompue par le partenaire. Sending needs the young
person's consent; a refusal needs a reason (and a message for *autre*). Without answer a
referral is *à relancer* after 10 days and expires after 30.

Aid request: brouillon → en attente de justificatifs → en cours d'instruction → accordée |
refusée | ajournée | classée sans suite; accordée → payée. A grant above the aid type's ceiling
per young person per year, or beyond what remains of its yearly envelope, is refused with the
figures; an admin may override with a written justification, which stays in the event log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from ..models import AidRequest, AidType, Referral, utcnow
from . import vocabularies as vocab
from .values import (
    InvalidValue,
    format_decimal,
    format_quantity,
    parse_datetime,
    parse_decimal,
)
from .workflow import Actor, Transition, TransitionRefused, Workflow, fire

REMIND_AFTER_DAYS = 10
EXPIRE_AFTER_DAYS = 30
LINK_VALID_DAYS = 8
STAFF = frozenset({"admin", "counsellor"})
ANSWERERS = frozenset({"admin", "counsellor", "partner"})
DECIDERS = frozenset({"admin", "manager"})
SYSTEM = Actor(None, "system", "système")


# --- referral ----------------------------------------------------------------------------------


def _can_send(session, referral, values, actor):
    if referral.consent_at is None:
        return (
            "Le consentement du jeune au partage de ses données doit être recueilli avant l'envoi."
        )
    return None


def record_consent(
    referral: Referral, method: str, day: dt.date | None, shared: list[str], today: dt.date
) -> None:
    """The young person's consent to this referral: how, when, and what may be shared with the
    partner. Only before sending (what was sent was sent). Raises :class:`TransitionRefused`."""
    if referral.status != "draft":
        raise TransitionRefused("Le consentement se recueille avant l'envoi.")
    if method not in vocab.CONSENT_METHODS:
        raise TransitionRefused("Comment le jeune a-t-il donné son accord ? Choisissez.")
    if day is None:
        raise TransitionRefused("À quelle date le jeune a-t-il donné son accord ?")
    if day > today:
        raise TransitionRefused("L'accord ne peut pas être daté de demain.")
    referral.consent_at = dt.datetime.combine(day, dt.time())
    referral.consent_method = method
    referral.shared_fields = [code for code in shared if code in vocab.SHAREABLE]


def _on_send(session, referral, values, actor):
    referral.sent_at = utcnow()
    issue_answer_link(referral, referral.sent_at)


def issue_answer_link(referral: Referral, now: dt.datetime) -> None:
    """A new answer link for the partner, valid ``LINK_VALID_DAYS`` from now: the previous one,
    if any, stops working (its nonce is gone)."""
    referral.answer_nonce = secrets.token_urlsafe(24)
    referral.answer_expires_at = now + dt.timedelta(days=LINK_VALID_DAYS)


def _on_resend(session, referral, values, actor):
    issue_answer_link(referral, utcnow())


def _parse_datetime(value):
    """A date and time typed in a workflow form (``values.parse_datetime``, like every door)."""
    if isinstance(value, dt.datetime) or value is None:
        return value
    try:
        return parse_datetime(value)
    except InvalidValue as error:
        raise TransitionRefused(str(error)) from error


def _on_accept(session, referral, values, actor):
    referral.appointment_at = _parse_datetime(values.get("appointment_at"))
    referral.answered_at = utcnow()
    referral.answer_nonce = None


def _check_refusal(session, referral, values, actor):
    reason = values.get("refusal_reason")
    if reason not in vocab.REFUSAL_REASONS:
        return "Choisissez un motif de refus dans la liste."
    if reason == "other" and not values.get("comment"):
        return "Pour le motif « Autre », un message est obligatoire."
    return None


def _on_refuse(session, referral, values, actor):
    referral.refusal_reason = values["refusal_reason"]
    referral.refusal_message = values.get("comment")
    referral.answered_at = utcnow()
    referral.answer_nonce = None


def _on_close(session, referral, values, actor):
    referral.outcome_note = values.get("comment") or referral.outcome_note
    referral.answer_nonce = None


REFERRAL = Workflow(
    name="referral",
    entity="referral",
    states=dict(vocab.REFERRAL_STATES.pairs),
    transitions=[
        Transition(
            "send",
            "Envoyer au partenaire",
            ("draft",),
            "sent",
            STAFF,
            guard=_can_send,
            apply=_on_send,
        ),
        Transition(
            "resend",
            "Renvoyer un nouveau lien au partenaire",
            ("sent",),
            "sent",
            STAFF,
            fields=(("comment", "Pourquoi (lien perdu, partenaire relancé…)", False),),
            apply=_on_resend,
        ),
        Transition(
            "cancel",
            "Annuler",
            ("draft", "sent"),
            "cancelled",
            STAFF,
            fields=(("comment", "Pourquoi", True),),
            apply=_on_close,
        ),
        Transition(
            "accept",
            "Accepter",
            ("sent",),
            "accepted",
            ANSWERERS,
            fields=(("appointment_at", "Date du rendez-vous", True), ("comment", "Message", False)),
            apply=_on_accept,
        ),
        Transition(
            "refuse",
            "Refuser",
            ("sent",),
            "refused",
            ANSWERERS,
            fields=(("refusal_reason", "Motif", True), ("comment", "Message", False)),
            guard=_check_refusal,
            apply=_on_refuse,
        ),
        Transition(
            "expire",
            "Expirer (sans réponse)",
            ("sent",),
            "expired",
            frozenset({"system"}),
            apply=_on_close,
        ),
        Transition("enter", "Entrée du jeune", ("accepted",), "entered", ANSWERERS),
        Transition(
            "complete",
            "Réalisée",
            ("entered",),
            "completed",
            ANSWERERS,
            fields=(("comment", "Résultat", False),),
            apply=_on_close,
        ),
        Transition(
            "drop_out",
            "Abandon du jeune",
            ("entered", "accepted"),
            "dropped_out",
            ANSWERERS,
            fields=(("comment", "Pourquoi", False),),
            apply=_on_close,
        ),
        Transition(
            "interrupt",
            "Interrompue par le partenaire",
            ("entered",),
            "interrupted",
            ANSWERERS,
            fields=(("comment", "Pourquoi", True),),
            apply=_on_close,
        ),
    ],
)


def needs_reminder(referral: Referral, today: dt.date) -> bool:
    """Sent, unanswered for more than 10 days: *à relancer*."""
    return (
        referral.status == "sent"
        and referral.sent_at is not None
        and (today - referral.sent_at.date()).days > REMIND_AFTER_DAYS
    )


def expire_overdue(session: Session, today: dt.date) -> int:
    """Expire referrals sent more than 30 days ago without answer (idempotent). Flushes: the
    caller (the CLI's daily run) commits."""
    limit = dt.datetime.combine(today - dt.timedelta(days=EXPIRE_AFTER_DAYS), dt.time())
    overdue = session.scalars(
        sa.select(Referral).where(Referral.status == "sent", Referral.sent_at < limit)
    ).all()
    for referral in overdue:
        fire(
            session,
            REFERRAL,
            referral,
            "expire",
            SYSTEM,
            {"comment": f"Sans réponse après {EXPIRE_AFTER_DAYS} jours."},
        )
    session.flush()
    return len(overdue)


def is_overdue(referral: Referral, today: dt.date) -> bool:
    """Sent, unanswered for 30 days: the next daily run expires it."""
    return (
        referral.status == "sent"
        and referral.sent_at is not None
        and referral.sent_at.date() <= today - dt.timedelta(days=EXPIRE_AFTER_DAYS)
    )


def partner_stats(session: Session) -> list[dict]:
    """Per partner: referrals sent, answered, acceptance rate, average answer delay (days)."""
    rows = session.execute(
        sa.select(
            Referral.partner_id, Referral.status, Referral.sent_at, Referral.answered_at
        ).where(Referral.sent_at.is_not(None))
    ).all()
    stats: dict[int, dict] = {}
    for partner_id, status, sent_at, answered_at in rows:
        item = stats.setdefault(
            partner_id,
            {"partner_id": partner_id, "sent": 0, "accepted": 0, "answered": 0, "delays": []},
        )
        item["sent"] += 1
        if answered_at is not None:
            item["answered"] += 1
            item["delays"].append((answered_at - sent_at).total_seconds() / 86400)
        if status in ("accepted", "entered", "completed", "dropped_out", "interrupted"):
            item["accepted"] += 1
    for item in stats.values():
        item["acceptance_rate"] = item["accepted"] / item["answered"] if item["answered"] else None
        item["answer_delay"] = sum(item["delays"]) / len(item["delays"]) if item["delays"] else None
    return sorted(stats.values(), key=lambda i: -i["sent"])


# --- the partner's answer link ------------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="referral-answer")


def answer_token(secret_key: str, referral: Referral) -> str:
    """The signed token of the partner's link: this referral, this sending. The same link each
    time the page shows it; its expiry is the one stored when it was issued."""
    return _serializer(secret_key).dumps({"r": referral.id, "n": referral.answer_nonce})


def referral_for_token(
    session: Session, secret_key: str, token: str, now: dt.datetime | None = None
) -> Referral:
    """The referral a valid, unused, unexpired token answers; ``TransitionRefused`` otherwise."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature as error:
        raise TransitionRefused("Ce lien n'est pas valide.") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        raise TransitionRefused("Ce lien n'est pas valide.")
    referral = session.get(Referral, payload["r"]) if 0 < payload["r"] < 2**31 else None
    if referral is None:
        raise TransitionRefused("Ce lien n'est pas valide.")
    if referral.answer_nonce is None or referral.answer_nonce != payload.get("n"):
        raise TransitionRefused(
            "Ce lien a déjà servi, ou un lien plus récent l'a remplacé : contactez le conseiller."
        )
    expires = referral.answer_expires_at
    if expires is None or (now or utcnow()) > expires:
        raise TransitionRefused(
            f"Ce lien a expiré (valable {LINK_VALID_DAYS} jours) : contactez le conseiller."
        )
    return referral


# --- aid requests -------------------------------------------------------------------------------


#: The largest amount a grant may carry (the column is Numeric(10, 2)).
AMOUNT_DIGITS = 10


def _amount(value) -> Decimal:
    """A granted amount: French number, two decimals at most, strictly positive, bounded."""
    if isinstance(value, Decimal):
        text = format_decimal(value)
    else:
        text = str(value or "").strip()
    if not text:
        raise TransitionRefused("Indiquez le montant.")
    try:
        amount = parse_decimal(text, places=2, max_digits=AMOUNT_DIGITS)
    except InvalidValue as error:
        raise TransitionRefused(str(error)) from error
    if amount <= 0:
        raise TransitionRefused("Le montant accordé doit être supérieur à 0 €.")
    return amount


def lock_budget(session: Session, aid_type_id: int) -> None:
    """Serialise the grants on one aid type until the transaction ends, on both engines.

    Reading the amounts already granted and then writing a grant is a race: two requests
    each read the sum before either writes, and both pass. A write on the aid's row takes
    the lock first — the row's lock on PostgreSQL, the database's write lock on SQLite
    (whose reads take no lock: "SQLite serialises writers" did not serialise the reads) — so
    the second request waits, then reads the sum with the first grant in it. The write
    changes nothing (``id = id``), and bypasses the ORM, so it leaves no audit row."""
    session.execute(
        sa.update(AidType)
        .where(AidType.id == aid_type_id)
        .values(id=AidType.id, updated_at=AidType.updated_at)
        .execution_options(synchronize_session=False)
    )


def budget_of(session: Session, aid_type_id: int, year: int) -> dict:
    """Envelope, granted, paid and remaining for one aid type and year."""
    return budgets_of(session, [aid_type_id], year).get(aid_type_id) or _budget(None, 0, 0)


def budgets_of(session: Session, aid_type_ids: list[int], year: int) -> dict[int, dict]:
    """``budget_of`` for several aid types in two queries (the catalogue's page)."""
    if not aid_type_ids:
        return {}
    envelopes = dict(
        session.execute(
            sa.select(AidType.id, AidType.yearly_budget).where(AidType.id.in_(aid_type_ids))
        ).all()
    )
    sums = {
        aid_id: (granted, paid)
        for aid_id, granted, paid in session.execute(
            sa.select(
                AidRequest.aid_type_id,
                sa.func.coalesce(sa.func.sum(AidRequest.amount_granted), 0),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case((AidRequest.status == "paid", AidRequest.amount_granted), else_=0)
                    ),
                    0,
                ),
            )
            .where(
                AidRequest.aid_type_id.in_(aid_type_ids),
                AidRequest.budget_year == year,
                AidRequest.status.in_(("granted", "paid")),
            )
            .group_by(AidRequest.aid_type_id)
        )
    }
    return {
        aid_id: _budget(envelope, *sums.get(aid_id, (0, 0)))
        for aid_id, envelope in envelopes.items()
    }


def _budget(envelope, granted, paid) -> dict:
    granted, paid = Decimal(granted or 0), Decimal(paid or 0)
    return {
        "envelope": envelope,
        "granted": granted,
        "paid": paid,
        "remaining": None if envelope is None else envelope - granted,
    }


def granted_to(
    session: Session, young_person_id: int, year: int, exclude: int | None = None
) -> dict[int, Decimal]:
    """Aid type id -> what this young person was granted (or paid) this budget year: the
    consumption that the ceiling per young person is checked against, and that the wizard and
    the aid page show."""
    return {
        aid_type_id: Decimal(total)
        for aid_type_id, total in session.execute(
            sa.select(AidRequest.aid_type_id, sa.func.sum(AidRequest.amount_granted))
            .where(
                AidRequest.young_person_id == young_person_id,
                AidRequest.budget_year == year,
                AidRequest.status.in_(("granted", "paid")),
                AidRequest.id != (exclude or 0),
            )
            .group_by(AidRequest.aid_type_id)
        )
    }


def _check_grant(session, request: AidRequest, values, actor):
    amount = _amount(values.get("amount_granted"))
    values["amount_granted"] = amount
    lock_budget(session, request.aid_type_id)
    aid = session.scalar(
        sa.select(AidType).where(AidType.id == request.aid_type_id).with_for_update()
    )
    problems = []
    unit = aid.unit
    if aid.ceiling_per_youth is not None:
        already = granted_to(
            session, request.young_person_id, request.budget_year, exclude=request.id
        ).get(aid.id, Decimal(0))
        if already + amount > aid.ceiling_per_youth:
            problems.append(
                f"plafond par jeune et par an {format_quantity(aid.ceiling_per_youth, unit)} : "
                f"déjà accordé {format_quantity(already, unit)}, demandé "
                f"{format_quantity(amount, unit)}"
            )
    if aid.yearly_budget is not None:
        budget = budget_of(session, aid.id, request.budget_year)
        if amount > budget["remaining"]:
            problems.append(
                f"enveloppe {request.budget_year} de {format_quantity(aid.yearly_budget, unit)} : "
                f"reste {format_quantity(budget['remaining'], unit)}, demandé "
                f"{format_quantity(amount, unit)}"
            )
    if not problems:
        return None
    if actor.role == "admin" and values.get("override"):
        values["comment"] = (
            "Dépassement autorisé (" + " ; ".join(problems) + ") : " + values["override"]
        )
        return None
    return "Accord impossible : " + " ; ".join(problems) + "."


def _check_direct_grant(session, request: AidRequest, values, actor):
    """A counsellor grants directly up to the aid's delegation threshold (one step, logged);
    above it, or for an aid without one, the request goes through the instruction path. The
    ceiling and the envelope are checked as for any grant, without the admin's override."""
    amount = _amount(values.get("amount_granted"))
    aid = session.get(AidType, request.aid_type_id)
    if aid.delegation_threshold is None:
        return (
            "Cette aide n'a pas de seuil de délégation : demandez les justificatifs, "
            "la décision revient à la direction."
        )
    if amount > aid.delegation_threshold:
        return (
            f"Au-delà de {format_quantity(aid.delegation_threshold, aid.unit)}, l'accord "
            "revient à la direction : demandez les justificatifs pour l'instruire."
        )
    values.pop("override", None)
    return _check_grant(session, request, values, actor)


def _on_grant(session, request, values, actor):
    request.amount_granted = values["amount_granted"]
    request.decision_date = dt.date.today()


def _on_refuse_aid(session, request, values, actor):
    request.refusal_reason = values.get("comment")
    request.decision_date = dt.date.today()


def _check_payment(session, request, values, actor):
    if values.get("payment_method") not in vocab.PAYMENT_METHODS:
        return "Choisissez le mode de paiement."
    return None


def _on_pay(session, request, values, actor):
    request.payment_method = values["payment_method"]
    date = values.get("payment_date")
    request.payment_date = _parse_datetime(date).date() if date else dt.date.today()


AID_REQUEST = Workflow(
    name="aid_request",
    entity="aid_request",
    states=dict(vocab.AID_REQUEST_STATES.pairs),
    transitions=[
        Transition("submit", "Demander les justificatifs", ("draft",), "awaiting_documents", STAFF),
        Transition(
            "grant_direct",
            "Accorder directement (délégation)",
            ("draft",),
            "granted",
            STAFF,
            fields=(("amount_granted", "Montant accordé", True),),
            guard=_check_direct_grant,
            apply=_on_grant,
            offered=lambda request: request.aid_type.delegation_threshold is not None,
        ),
        Transition(
            "review",
            "Justificatifs reçus : instruire",
            ("awaiting_documents",),
            "under_review",
            STAFF | DECIDERS,
        ),
        Transition(
            "grant",
            "Accorder",
            ("under_review",),
            "granted",
            DECIDERS,
            fields=(
                ("amount_granted", "Montant accordé", True),
                ("override", "Justification d'un dépassement (admin)", False),
            ),
            guard=_check_grant,
            apply=_on_grant,
        ),
        Transition(
            "refuse",
            "Refuser",
            ("under_review",),
            "refused",
            DECIDERS,
            fields=(("comment", "Motif du refus", True),),
            apply=_on_refuse_aid,
        ),
        Transition(
            "postpone",
            "Ajourner",
            ("under_review",),
            "postponed",
            DECIDERS,
            fields=(("comment", "Pourquoi", True),),
        ),
        Transition(
            "resume", "Reprendre l'instruction", ("postponed",), "under_review", STAFF | DECIDERS
        ),
        Transition(
            "close",
            "Classer sans suite",
            ("draft", "awaiting_documents", "under_review", "postponed"),
            "closed",
            STAFF | DECIDERS,
            fields=(("comment", "Pourquoi", True),),
        ),
        Transition(
            "pay",
            "Payer",
            ("granted",),
            "paid",
            DECIDERS,
            fields=(
                ("payment_method", "Mode de paiement", True),
                ("payment_date", "Date de paiement", False),
            ),
            guard=_check_payment,
            apply=_on_pay,
        ),
    ],
)

WORKFLOWS = {"referral": REFERRAL, "aid_request": AID_REQUEST}
