"""The interview's rules: the wizard's steps, what completes an interview, who is going in circles.

Plain Python over a SQLAlchemy session. The practice these rules come from: each interview is fed
by what happened since the last one; the diagnosis covers the whole situation; objectives are the
young person's own; each interview ends with something concrete and with work to do before the
next one; when nothing moves interview after interview, the counsellor is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Action, DiagnosisDomain, DiagnosisEntry, Interview, Objective, Proposal
from .vocabularies import N_

STEPS = (
    (1, "since", N_("Depuis la dernière fois")),
    (2, "diagnosis", N_("Diagnostic partagé")),
    (3, "objectives", N_("Objectifs")),
    (4, "outcome", N_("Réalisation concrète")),
    (5, "next", N_("D'ici la prochaine fois")),
    (6, "summary", N_("Récapitulatif")),
)
DONE_STATUSES = {"done"}
CLOSED_ACTION_STATUSES = {"done", "abandoned_youth", "cancelled_structure"}


@dataclass(frozen=True)
class StallingRule:
    """When to flag a young person *sans progression* (configurable per mission locale)."""

    interviews: int = 3  # the last N completed interviews…
    days_without_interview: int = 45  # …or no interview for this long


def previous_interview(session: Session, interview: Interview) -> Interview | None:
    """The young person's last completed interview before this one."""
    return session.scalar(
        sa.select(Interview)
        .where(
            Interview.young_person_id == interview.young_person_id,
            Interview.status == "completed",
            Interview.id != interview.id,
            Interview.starts_at <= interview.starts_at,
        )
        .order_by(Interview.starts_at.desc(), Interview.id.desc())
        .limit(1)
    )


def first_step(session: Session, interview: Interview) -> int:
    """Step 1 (since last time) is skipped for a first interview."""
    return 1 if previous_interview(session, interview) is not None else 2


def actions_to_review(session: Session, interview: Interview) -> list[Action]:
    """The actions still open, or set at the previous interview: reviewed at this one."""
    return session.scalars(
        sa.select(Action)
        .where(
            Action.young_person_id == interview.young_person_id,
            Action.set_at_id != interview.id,
            sa.or_(
                Action.status.not_in(CLOSED_ACTION_STATUSES), Action.reviewed_at_id == interview.id
            ),
        )
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()


def open_objectives(session: Session, young_person_id: int) -> list[Objective]:
    return session.scalars(
        sa.select(Objective)
        .where(Objective.young_person_id == young_person_id, Objective.status == "open")
        .order_by(Objective.id)
    ).all()


def latest_diagnosis(session: Session, young_person_id: int, before: Interview) -> dict:
    """Domain id -> the latest entry of a completed interview (to pre-fill the diagnosis)."""
    rows = session.execute(
        sa.select(DiagnosisEntry)
        .join(Interview, DiagnosisEntry.interview_id == Interview.id)
        .where(
            DiagnosisEntry.young_person_id == young_person_id,
            Interview.status == "completed",
            Interview.id != before.id,
        )
        .order_by(Interview.starts_at, Interview.id)
    ).scalars()
    latest: dict[int, DiagnosisEntry] = {}
    for entry in rows:
        latest[entry.domain_id] = entry
    return latest


def domains(session: Session) -> list[DiagnosisDomain]:
    return session.scalars(sa.select(DiagnosisDomain).order_by(DiagnosisDomain.position)).all()


def completion_problems(session: Session, interview: Interview) -> list[str]:
    """Why the interview cannot be validated yet (empty when it can)."""
    problems = []
    if interview.attendance == "present":
        if not interview.proposals and not (interview.no_outcome_reason or "").strip():
            problems.append(
                N_(
                    "Aucune réalisation concrète : ajoutez une proposition, ou "
                    "indiquez pourquoi il n'y en a pas."
                )
            )
        set_here = session.scalar(
            sa.select(sa.func.count(Action.id)).where(Action.set_at_id == interview.id)
        )
        if not set_here:
            problems.append(
                N_("Aucune action d'ici la prochaine fois : qui fait quoi, pour quand ?")
            )
        if not interview.autonomy_level:
            problems.append(N_("Situez l'autonomie du jeune sur l'échelle."))
        unreviewed = [
            a for a in actions_to_review(session, interview) if a.reviewed_at_id != interview.id
        ]
        if unreviewed:
            problems.append(N_("Des actions de l'entretien précédent n'ont pas été revues."))
    return problems


def complete(session: Session, interview: Interview, now: dt.datetime) -> list[str]:
    """Validate the interview if nothing is missing; return the problems otherwise."""
    problems = completion_problems(session, interview)
    if not problems:
        interview.status = "completed"
        interview.completed_at = now
        interview.step = len(STEPS)
    return problems


@dataclass
class StallingVerdict:
    flagged: bool
    reasons: list[str]
    suggest_psychologist: bool


def stalling(
    session: Session, young_person_id: int, today: dt.date, rule: StallingRule = StallingRule()
) -> StallingVerdict:
    """*Sans progression*: the last N completed interviews produced no proposal, or the actions
    set at them were all not done; or no interview for more than ``days_without_interview``."""
    interviews = session.scalars(
        sa.select(Interview)
        .where(Interview.young_person_id == young_person_id, Interview.status == "completed")
        .order_by(Interview.starts_at.desc(), Interview.id.desc())
        .limit(rule.interviews)
    ).all()
    reasons: list[str] = []
    suggest = False
    if len(interviews) == rule.interviews:
        ids = [i.id for i in interviews]
        proposals = session.scalar(
            sa.select(sa.func.count(Proposal.id)).where(Proposal.interview_id.in_(ids))
        )
        if proposals == 0:
            reasons.append(N_("Aucune réalisation concrète lors des %(n)d derniers entretiens."))
            suggest = True
        statuses = session.scalars(
            sa.select(Action.status).where(
                Action.set_at_id.in_(ids[1:]),
                Action.status.in_(CLOSED_ACTION_STATUSES | {"planned", "in_progress", "waiting"}),
            )
        ).all()
        reviewed = [s for s in statuses if s in CLOSED_ACTION_STATUSES]
        if reviewed and not any(s in DONE_STATUSES for s in reviewed):
            reasons.append(
                N_(
                    "Aucune des actions prévues lors des %(n)d derniers entretiens "
                    "n'a été réalisée."
                )
            )
            suggest = True
    last = session.scalar(
        sa.select(sa.func.max(Interview.starts_at)).where(
            Interview.young_person_id == young_person_id, Interview.status == "completed"
        )
    )
    if last is not None and (today - last.date()).days > rule.days_without_interview:
        reasons.append(N_("Aucun entretien depuis plus de %(days)d jours."))
    return StallingVerdict(bool(reasons), reasons, suggest)


def stalled_young_people(
    session: Session,
    young_person_ids: list[int],
    today: dt.date,
    rule: StallingRule = StallingRule(),
) -> dict[int, StallingVerdict]:
    """The flagged ones among ``young_person_ids`` (for a counsellor's list and home page)."""
    verdicts = {}
    for young_person_id in young_person_ids:
        verdict = stalling(session, young_person_id, today, rule)
        if verdict.flagged:
            verdicts[young_person_id] = verdict
    return verdicts


def autonomy_series(session: Session, young_person_id: int) -> list[tuple[dt.date, int]]:
    """(date, level 1-4) of each completed interview that rated autonomy, oldest first."""
    return [
        (starts_at.date(), int(level))
        for starts_at, level in session.execute(
            sa.select(Interview.starts_at, Interview.autonomy_level)
            .where(
                Interview.young_person_id == young_person_id,
                Interview.status == "completed",
                Interview.autonomy_level.is_not(None),
            )
            .order_by(Interview.starts_at)
        )
    ]


def copies_suggestion(statement: str, suggestion: str | None) -> bool:
    """The young person's words cannot be a copy of the counsellor's suggestion."""

    def norm(text):
        return " ".join((text or "").casefold().split()).strip(" .!")

    return bool(suggestion) and norm(statement) == norm(suggestion)
