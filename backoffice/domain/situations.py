"""Situations: what the young person is doing, dated — the outcome a mission locale reports.

One rule for every door: the file's form, the wizard (a realised proposal that led to a job, a
training or a work-study contract), the CSV import and the admin screen all check a situation
with :func:`problems` (the admin form through ``views.validators``). Plain Python, no Flask.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Proposal, Situation
from . import values
from . import vocabularies as vocab
from .vocabularies import N_

MAX_HOURS = Decimal(60)


class SituationRefused(ValueError):
    """A situation that cannot be recorded as given; ``field`` names the culprit (``kind``,
    ``start``, ``end``, ``hours``); the message is French, for the screen."""

    def __init__(self, message: str, field: str = "kind"):
        super().__init__(message)
        self.field = field


def problems(
    kind: str | None,
    start: dt.date | None,
    end: dt.date | None = None,
    hours: Decimal | None = None,
) -> list[tuple[str, str]]:
    """(field, French message) for each rule the values break; empty when they are fine."""
    found = []
    if kind not in vocab.SITUATION_KINDS:
        found.append(("kind", N_("Quelle situation ? Choisissez-la dans la liste.")))
    if start is None:
        found.append(("start", N_("Depuis quand ? La date de début est obligatoire.")))
    if start is not None and end is not None and end < start:
        found.append(("end", N_("La fin précède le début.")))
    if hours is not None and not 0 <= hours <= MAX_HOURS:
        found.append(("hours", N_("Un nombre d'heures par semaine de 0 à 60.")))
    return found


def read(
    kind: str | None,
    start: str | None,
    end: str | None = None,
    organisation: str | None = None,
    hours: str | None = None,
) -> dict:
    """A situation typed in a screen, parsed like every other door (``values``): the values to
    record, or :class:`SituationRefused` on the first problem."""
    try:
        start_date = values.parse_date(start) if (start or "").strip() else None
    except values.InvalidValue as error:
        raise SituationRefused(str(error), "start") from error
    try:
        end_date = values.parse_date(end) if (end or "").strip() else None
    except values.InvalidValue as error:
        raise SituationRefused(str(error), "end") from error
    try:
        amount = (
            values.parse_decimal(hours, places=1, unit="h", max_digits=4)
            if (hours or "").strip()
            else None
        )
    except values.InvalidValue as error:
        raise SituationRefused(str(error), "hours") from error
    found = problems(kind, start_date, end_date, amount)
    if found:
        field, message = found[0]
        raise SituationRefused(message, field)
    organisation = (organisation or "").strip()[:200] or None
    return {
        "kind": kind,
        "start_date": start_date,
        "end_date": end_date,
        "organisation": organisation,
        "hours_per_week": amount,
    }


def record(
    session: Session,
    young_person_id: int,
    situation: dict,
    proposal_id: int | None = None,
) -> Situation:
    """Add a situation read by :func:`read` (the caller commits)."""
    found = problems(
        situation["kind"],
        situation["start_date"],
        situation.get("end_date"),
        situation.get("hours_per_week"),
    )
    if found:
        field, message = found[0]
        raise SituationRefused(message, field)
    row = Situation(young_person_id=young_person_id, proposal_id=proposal_id, **situation)
    session.add(row)
    return row


def of(session: Session, young_person_id: int) -> list[Situation]:
    """A young person's situations, the latest first."""
    return session.scalars(
        sa.select(Situation)
        .where(Situation.young_person_id == young_person_id)
        .order_by(Situation.start_date.desc(), Situation.id.desc())
    ).all()


def current(situations: list[Situation], today: dt.date) -> list[Situation]:
    """The situations running on ``today`` (started, not ended)."""
    return [
        s
        for s in situations
        if s.start_date <= today and (s.end_date is None or s.end_date >= today)
    ]


def offered_for(proposal: Proposal) -> tuple[str, ...]:
    """The situations a realised proposal of this kind may have led to (empty: none offered)."""
    return vocab.SITUATIONS_FROM_PROPOSAL.get(proposal.kind, ())


def to_json(situation: dict) -> dict:
    """A situation kept on a draft (``Interview.pending``) until the interview is validated."""
    return {
        "kind": situation["kind"],
        "start_date": situation["start_date"].isoformat(),
        "end_date": situation["end_date"].isoformat() if situation.get("end_date") else None,
        "organisation": situation.get("organisation"),
        "hours_per_week": (
            str(situation["hours_per_week"])
            if situation.get("hours_per_week") is not None
            else None
        ),
    }


def from_json(kept: dict) -> dict:
    return {
        "kind": kept["kind"],
        "start_date": dt.date.fromisoformat(kept["start_date"]),
        "end_date": dt.date.fromisoformat(kept["end_date"]) if kept.get("end_date") else None,
        "organisation": kept.get("organisation"),
        "hours_per_week": (
            Decimal(kept["hours_per_week"]) if kept.get("hours_per_week") is not None else None
        ),
    }
