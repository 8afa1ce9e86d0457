"""The interview's rules: the wizard's steps, what completes an interview, who is going in circles.

Plain Python over a SQLAlchemy session. The practice these rules come from: each interview is fed
by what happened since the last one; the diagnosis covers the whole situation; objectives are the
young person's own; each interview ends with something concrete and with work to do before the
next one; when nothing moves interview after interview, the counsellor is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Action,
    AidRequest,
    AidType,
    DiagnosisDomain,
    DiagnosisEntry,
    Interview,
    Objective,
    Partner,
    Proposal,
    Referral,
    Theme,
    YoungPerson,
)
from . import situations
from . import vocabularies as vocab
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
#: The others, in the order of ``models.OPEN_ACTIONS_SQL`` (its partial index answers them).
OPEN_ACTION_STATUSES = ("in_progress", "planned", "waiting")


@dataclass(frozen=True)
class StallingRule:
    """When to flag a young person *sans progression* (configurable per mission locale:
    ``STALLING_INTERVIEWS``, ``STALLING_DAYS_WITHOUT_INTERVIEW``; then ``flask
    progress-refresh``)."""

    interviews: int = 3  # the last N completed interviews…
    days_without_interview: int = 45  # …or no interview for this long
    #: Not flagged: a young person *en veille* has paused the accompaniment, one who left it
    #: is no longer followed (flagging them was most of the alerts, and alert fatigue).
    ignored_statuses: tuple[str, ...] = ("on_hold", "exited")


_RULE = [StallingRule()]


def configure(rule: StallingRule) -> None:
    """Set the mission locale's rule (``create_app`` does, from the configuration)."""
    _RULE[0] = rule


def current_rule() -> StallingRule:
    return _RULE[0]


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
            # Not set at this interview (an action the young person added from their space
            # was set at none).
            sa.or_(Action.set_at_id.is_(None), Action.set_at_id != interview.id),
            sa.or_(
                Action.status.not_in(CLOSED_ACTION_STATUSES), Action.reviewed_at_id == interview.id
            ),
        )
        .order_by(Action.due_date.is_(None), Action.due_date, Action.id)
    ).all()


# --- the follow-up of earlier work, kept on the draft until validation -----------------------

#: How an action set earlier is reviewed (step 1), and what each choice does to it.
ACTION_REVIEWS = (
    ("done", N_("Fait")),
    ("postponed", N_("Pas fait — reporté")),
    ("abandoned", N_("Pas fait — abandonné")),
    ("ongoing", N_("Toujours en cours")),
)
#: Who gave an action up, and the status it takes.
ABANDONED_BY = (
    ("young_person", N_("Le jeune"), "abandoned_youth"),
    ("structure", N_("La mission locale ou un partenaire"), "cancelled_structure"),
)
#: What became of an open proposal; "ongoing" leaves it open, to be asked again next time.
PROPOSAL_REVIEWS = (
    ("done", N_("Réalisé")),
    ("refused_youth", N_("Refus du jeune")),
    ("refused_third", N_("Refus du tiers")),
    ("ongoing", N_("Toujours en cours")),
)


class ReviewRefused(ValueError):
    """A review that cannot be recorded as given; the message is French, for the screen, and
    ``field`` names what is missing or wrong (``choice``, ``due``, ``by``, ``note``)."""

    def __init__(self, message: str, field: str = "choice"):
        super().__init__(message)
        self.field = field


def pending(interview: Interview, kind: str) -> dict:
    """What this draft decided so far about earlier ``actions``, ``proposals`` or
    ``objectives``: {str(id): decision}."""
    return dict((interview.pending or {}).get(kind, {}))


def _keep(interview: Interview, kind: str, key: int, decision) -> None:
    everything = dict(interview.pending or {})
    chosen = dict(everything.get(kind, {}))
    if decision is None:
        chosen.pop(str(key), None)
    else:
        chosen[str(key)] = decision
    everything[kind] = chosen
    interview.pending = everything  # a new dict: the JSON column sees the change


def review_action(
    interview: Interview,
    action: Action,
    choice: str | None,
    note: str = "",
    due: dt.date | None = None,
    by: str | None = None,
) -> None:
    """Record how ``action`` went, for this interview; applied at validation. Raises
    :class:`ReviewRefused` when the review is incomplete (a postponed action needs its new
    date, an abandoned one who gave it up and why)."""
    if not choice:
        _keep(interview, "actions", action.id, None)
        return
    if choice not in dict(ACTION_REVIEWS):
        raise ReviewRefused(N_("Choix invalide."))
    note = (note or "").strip()
    decision = {"choice": choice, "note": note}
    if choice == "postponed":
        if due is None:
            raise ReviewRefused(N_("Reporté à quand ? Indiquez la nouvelle échéance."), "due")
        if due < interview.starts_at.date():
            raise ReviewRefused(N_("La nouvelle échéance ne peut pas être déjà passée."), "due")
        decision["due"] = due.isoformat()
    elif choice == "abandoned":
        if by not in {code for code, _label, _status in ABANDONED_BY}:
            raise ReviewRefused(N_("Qui a abandonné l'action : le jeune, ou la structure ?"), "by")
        if not note:
            raise ReviewRefused(N_("Dites pourquoi l'action est abandonnée."), "note")
        decision["by"] = by
    _keep(interview, "actions", action.id, decision)


def review_proposal(
    interview: Interview,
    proposal: Proposal,
    outcome: str | None,
    situation: dict | None = None,
) -> None:
    """Record what became of an open proposal and, when it was realised and led to a job, a
    training or a work-study contract, the young person's new situation (read by
    ``situations.read``); both are applied at validation."""
    if outcome and outcome not in dict(PROPOSAL_REVIEWS):
        raise ReviewRefused(N_("Choix invalide."))
    if situation is not None and outcome != "done":
        raise ReviewRefused(
            N_("Une situation s'enregistre pour une proposition réalisée."), "situation"
        )
    _keep(interview, "proposals", proposal.id, outcome or None)
    _keep(
        interview,
        "situations",
        proposal.id,
        situations.to_json(situation) if situation is not None else None,
    )


def mark_objective(interview: Interview, objective: Objective, status: str) -> None:
    """Record an objective's progress as said in this interview; applied at validation."""
    _keep(interview, "objectives", objective.id, None if status == objective.status else status)


def open_proposals(session: Session, interview: Interview) -> list[Proposal]:
    """The proposals of earlier, validated interviews still without an outcome: each interview
    asks what became of them."""
    return session.scalars(
        sa.select(Proposal)
        .join(Interview, Proposal.interview_id == Interview.id)
        .options(sa.orm.contains_eager(Proposal.interview), sa.orm.joinedload(Proposal.partner))
        .where(
            Proposal.young_person_id == interview.young_person_id,
            Proposal.outcome == "prescribed",
            Interview.status == "completed",
            Interview.id != interview.id,
        )
        .order_by(Interview.starts_at, Proposal.id)
    ).all()


def apply_pending(session: Session, interview: Interview) -> None:
    """Write the draft's follow-up to the file (at validation)."""
    statuses = {code: status for code, _label, status in ABANDONED_BY}
    for key, decision in pending(interview, "actions").items():
        action = session.get(Action, int(key))
        if action is None:
            continue
        choice = decision["choice"]
        if choice == "done":
            action.status = "done"
        elif choice == "abandoned":
            action.status = statuses[decision["by"]]
        elif choice == "postponed":
            action.due_date = dt.date.fromisoformat(decision["due"])
            if action.status == "planned":
                action.status = "in_progress"
        else:
            action.status = "in_progress"
        if choice != "done":
            # Reviewed as not done: the young person's tick in their space is answered.
            action.youth_done_at = None
        action.outcome_note = decision.get("note") or action.outcome_note
        action.reviewed_at_id = interview.id
    for key, outcome in pending(interview, "proposals").items():
        proposal = session.get(Proposal, int(key))
        if proposal is not None and outcome != "ongoing":
            proposal.outcome = outcome
    kept_situations = pending(interview, "situations")
    for key, kept in kept_situations.items():
        if pending(interview, "proposals").get(key) == "done":
            situations.record(
                session, interview.young_person_id, situations.from_json(kept), int(key)
            )
    for key, status in pending(interview, "objectives").items():
        objective = session.get(Objective, int(key))
        if objective is not None:
            objective.status = status


#: What can be recorded for an appointment that did not become an interview (present is the
#: interview itself, through the wizard).
MISSED = ("absent", "cancelled_youth", "cancelled_structure", "postponed")
#: The attendances that count in the stalling rule: an interview held, or one the young person
#: did not come to; a cancellation or a postponement counts for nothing.
COUNTED_ATTENDANCES = ("present", "absent")


def record_missed(
    session: Session,
    young_person_id: int,
    counsellor_id: int | None,
    attendance: str,
    appointment: dt.datetime,
    new_appointment: dt.datetime | None,
    now: dt.datetime,
) -> Interview:
    """An appointment the young person missed, or that was cancelled or postponed: recorded as
    an interview of that attendance at the appointment's time (so the file's history says it,
    and an absence counts in the stalling rule), with the new appointment if one was set
    (required when postponed). Raises :class:`ReviewRefused`."""
    if attendance not in MISSED:
        raise ReviewRefused(N_("Choix invalide."))
    if attendance == "postponed" and new_appointment is None:
        raise ReviewRefused(N_("Reporté à quand ? Indiquez le nouveau rendez-vous."))
    if new_appointment is not None and new_appointment <= now:
        raise ReviewRefused(N_("Le nouveau rendez-vous doit être à venir."))
    record = Interview(
        young_person_id=young_person_id,
        counsellor_id=counsellor_id,
        starts_at=appointment,
        kind="follow_up",
        attendance=attendance,
        status="completed",
        step=len(STEPS),
        completed_at=now,
        next_appointment=new_appointment,
    )
    session.add(record)
    session.flush()
    from . import notices

    notices.appointment_set(session, record, now.date())
    return record


def appointment_of_young_person():
    """SQL, correlated to ``YoungPerson``: the young person's appointment — the
    ``next_appointment`` of their latest validated interview (a held, missed or postponed
    appointment is recorded as a later interview, which sets the next one)."""
    latest = sa.orm.aliased(Interview)
    return (
        sa.select(latest.next_appointment)
        .where(latest.young_person_id == YoungPerson.id, latest.status == "completed")
        .order_by(latest.starts_at.desc(), latest.id.desc())
        .limit(1)
        .correlate(YoungPerson)
        .scalar_subquery()
    )


def appointments(referent_id: int, start: dt.datetime, end: dt.datetime):
    """The appointments of a counsellor's young people between ``start`` and ``end`` (local
    time), in order: a SELECT of (when, young person) rows for the caller to page or cap. It
    reads each young person's latest interview from the caseload (one index probe each: 30 ms
    for 5,655 young people on either engine), whatever the number of appointments of the whole
    structure in that week."""
    caseload = (
        sa.select(YoungPerson, appointment_of_young_person().label("when"))
        .where(YoungPerson.referent_id == referent_id)
        .cte("caseload")
        .prefix_with("MATERIALIZED")  # the appointment read once per young person, not thrice
    )
    youth = sa.orm.aliased(YoungPerson, caseload)
    return (
        sa.select(caseload.c.when, youth)
        .where(caseload.c.when >= start, caseload.c.when < end)
        .order_by(caseload.c.when, caseload.c.id)
    )


def appointment_times(referent_id: int, start: dt.datetime, end: dt.datetime):
    """The (when, young person id) rows of :func:`appointments`, in order: the caseload read
    once with its ids only, for a caller that splits one range in several lists (the home
    page) and loads the few young people it shows."""
    caseload = (
        sa.select(YoungPerson.id, appointment_of_young_person().label("when"))
        .where(YoungPerson.referent_id == referent_id)
        .cte("caseload")
        .prefix_with("MATERIALIZED")
    )
    return (
        sa.select(caseload.c.when, caseload.c.id)
        .where(caseload.c.when >= start, caseload.c.when < end)
        .order_by(caseload.c.when, caseload.c.id)
    )


#: How far back an appointment nobody recorded is still shown "to record".
TO_RECORD_DAYS = 30


def discard(session: Session, interview: Interview) -> None:
    """Delete a draft and what it created: its diagnosis, proposals and actions (cascades), the
    objectives agreed in it, and the referrals and aid requests its proposals opened as drafts.
    Its follow-up of earlier work was never applied (``pending``)."""
    proposal_ids = [p.id for p in interview.proposals]
    created = [
        *session.scalars(
            sa.select(Referral).where(
                Referral.proposal_id.in_(proposal_ids), Referral.status == "draft"
            )
        ),
        *session.scalars(
            sa.select(AidRequest).where(
                AidRequest.interview_id == interview.id, AidRequest.status == "draft"
            )
        ),
        *session.scalars(sa.select(Objective).where(Objective.agreed_at_id == interview.id)),
    ]
    for record in created:  # one by one through the ORM: each deletion is in the journal
        session.delete(record)
    session.delete(interview)


def open_objectives(session: Session, young_person_id: int) -> list[Objective]:
    return session.scalars(
        sa.select(Objective)
        .where(Objective.young_person_id == young_person_id, Objective.status == "open")
        .order_by(Objective.id)
    ).all()


def latest_diagnosis(session: Session, young_person_id: int, before: Interview) -> dict:
    """Domain id -> the latest entry of a completed interview (shown beside today's)."""
    rows = session.execute(
        sa.select(DiagnosisEntry)
        .join(Interview, DiagnosisEntry.interview_id == Interview.id)
        .options(sa.orm.contains_eager(DiagnosisEntry.interview))
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


def needs_noted(session: Session, interview: Interview) -> set[str]:
    """The codes of the domains where this interview noted a need (identified or being
    worked on): step 4 offers the partners of those themes first. One query."""
    return set(
        session.scalars(
            sa.select(DiagnosisDomain.code)
            .join(DiagnosisEntry, DiagnosisEntry.domain_id == DiagnosisDomain.id)
            .where(
                DiagnosisEntry.interview_id == interview.id,
                DiagnosisEntry.assessment.in_(("identified", "in_progress")),
            )
        )
    )


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the 31st falls back to the month's end)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))


def domain_reviews(session: Session, young_person_id: int) -> dict[int, dt.date]:
    """Domain id -> the day it was last discussed, in a validated interview."""
    return {
        domain_id: last.date() if isinstance(last, dt.datetime) else last
        for domain_id, last in session.execute(
            sa.select(DiagnosisEntry.domain_id, sa.func.max(Interview.starts_at))
            .join(Interview, DiagnosisEntry.interview_id == Interview.id)
            .where(
                DiagnosisEntry.young_person_id == young_person_id,
                Interview.status == "completed",
            )
            .group_by(DiagnosisEntry.domain_id)
        )
    }


def stale_domains(
    session: Session, young_person_id: int, today: dt.date, months: int
) -> dict[int, dt.date | None]:
    """The domains not discussed for ``months`` months (or never: None), with the last day they
    were: the whole situation is covered over time, and the screens say where it is not."""
    since = months_before(today, months)
    reviews = domain_reviews(session, young_person_id)
    return {
        domain.id: reviews.get(domain.id)
        for domain in session.scalars(sa.select(DiagnosisDomain).order_by(DiagnosisDomain.position))
        if reviews.get(domain.id) is None or reviews[domain.id] < since
    }


def domains(session: Session) -> list[DiagnosisDomain]:
    """The diagnosis domains in order, with their checklist situations (one query for all)."""
    return session.scalars(
        sa.select(DiagnosisDomain)
        .options(sa.orm.selectinload(DiagnosisDomain.situations))
        .order_by(DiagnosisDomain.position)
    ).all()


# --- what each step records: the rules the wizard's steps apply ----------------------------

#: The most hours a week a proposal (or a situation) may take.
MAX_HOURS_PER_WEEK = 60
#: The kinds of proposal that open a draft referral when a partner is named.
REFERRAL_PROPOSALS = ("referral", "training", "immersion", "workshop")
#: The kinds of proposal that open a draft aid request when an aid of the catalogue is named.
AID_PROPOSALS = ("financial_aid", "material_aid")


def record_domain(
    session: Session,
    interview: Interview,
    domain: DiagnosisDomain,
    assessment: str | None,
    ticked: list[str],
    words: str | None,
) -> None:
    """Step 2: what was said today about one domain. A domain not discussed (no assessment)
    records nothing — and loses what an earlier save of this draft recorded; situations or
    words without an assessment are refused (``assessment``)."""
    allowed = {situation.label for situation in domain.situations}
    ticked = [label for label in ticked if label in allowed]
    words = (words or "").strip() or None
    entry = next((e for e in interview.diagnosis if e.domain_id == domain.id), None)
    if not assessment:
        if ticked or words:
            raise ReviewRefused(
                N_(
                    "%(field)s : où en est ce domaine ? Vous avez noté une situation ou ses "
                    "mots, mais pas l'évaluation."
                ),
                "assessment",
            )
        if entry is not None:
            interview.diagnosis.remove(entry)
        return
    if assessment not in vocab.ASSESSMENTS:
        raise ReviewRefused(N_("%(field)s : choix invalide."), "assessment")
    if entry is None:
        entry = DiagnosisEntry(domain_id=domain.id, young_person_id=interview.young_person_id)
        interview.diagnosis.append(entry)
    entry.assessment, entry.situations, entry.young_person_words = assessment, ticked, words


def agree_objective(
    session: Session,
    interview: Interview,
    statement: str,
    suggestion: str | None,
    target: dt.date | None,
    domain_id: int | None,
) -> Objective | None:
    """Step 3: an objective defined with the young person, in their words (``statement``);
    the counsellor's own idea goes in ``suggestion`` and may not stand in for them. None when
    the row is empty."""
    statement, suggestion = (statement or "").strip(), (suggestion or "").strip()
    if not statement and not suggestion:
        return None
    if not statement:
        raise ReviewRefused(
            N_("L'objectif s'écrit avec les mots du jeune : sa formulation est obligatoire."),
            "statement",
        )
    if copies_suggestion(statement, suggestion):
        raise ReviewRefused(
            N_("Ce sont les mots du conseiller : notez l'objectif tel que le jeune le dit."),
            "statement",
        )
    if domain_id is not None and session.get(DiagnosisDomain, domain_id) is None:
        domain_id = None
    objective = Objective(
        young_person_id=interview.young_person_id,
        domain_id=domain_id,
        statement=statement,
        counsellor_suggestion=suggestion or None,
        agreed_at_id=interview.id,
        target_date=target,
        status="open",
    )
    session.add(objective)
    return objective


def propose(
    session: Session,
    interview: Interview,
    kind: str | None,
    description: str,
    outcome: str | None = "prescribed",
    hours: Decimal | None = None,
    amount: Decimal | None = None,
    aid_type_id: int | None = None,
    partner_id: int | None = None,
) -> Proposal | None:
    """Step 4: something concrete the interview produced. A partner on a referral, a training,
    an immersion or a workshop opens a draft referral; an aid of the catalogue a draft aid
    request (for the proposal's amount, else the aid's default). None when the row is empty;
    :class:`ReviewRefused` names the field at fault."""
    description = (description or "").strip()
    if not kind and not description:
        return None
    if kind not in vocab.PROPOSAL_KINDS:
        raise ReviewRefused(N_("Choisissez le type de proposition."), "kind")
    if not description:
        raise ReviewRefused(N_("Décrivez la proposition."), "description")
    if hours is not None and not 0 <= hours <= MAX_HOURS_PER_WEEK:
        raise ReviewRefused(N_("Un nombre d'heures de 0 à 60."), "hours")
    aid = session.get(AidType, aid_type_id) if aid_type_id is not None else None
    partner = session.get(Partner, partner_id) if partner_id is not None else None
    if amount is not None:
        if aid is None:
            raise ReviewRefused(
                N_("Un montant va avec une aide du catalogue : choisissez-la."), "amount"
            )
        if amount <= 0:
            raise ReviewRefused(N_("Un montant plus grand que zéro."), "amount")
    proposal = Proposal(
        young_person_id=interview.young_person_id,
        kind=kind,
        outcome=outcome if outcome in vocab.PROPOSAL_OUTCOMES else "prescribed",
        description=description,
        hours_per_week=hours,
        amount=amount,
        aid_type_id=aid.id if aid is not None else None,
        partner_id=partner.id if partner is not None else None,
    )
    interview.proposals.append(proposal)
    if partner is not None and kind in REFERRAL_PROPOSALS:
        session.add(
            Referral(
                young_person_id=interview.young_person_id,
                partner_id=partner.id,
                counsellor_id=interview.counsellor_id,
                aid_type_id=proposal.aid_type_id,
                reason=description,
                status="draft",
                proposal=proposal,
            )
        )
    elif aid is not None and kind in AID_PROPOSALS and (amount or aid.default_amount):
        session.add(
            AidRequest(
                young_person_id=interview.young_person_id,
                aid_type_id=aid.id,
                interview=interview,
                counsellor_id=interview.counsellor_id,
                amount_asked=amount or aid.default_amount,
                budget_year=interview.starts_at.year,
                status="draft",
            )
        )
    return proposal


def outcome_problem(interview: Interview) -> str | None:
    """Every interview held ends with something concrete, or says why not."""
    if (
        interview.attendance == "present"
        and not interview.proposals
        and not (interview.no_outcome_reason or "").strip()
    ):
        return N_(
            "Chaque entretien se termine par quelque chose de concret : ajoutez une "
            "proposition, ou dites pourquoi il n'y en a pas aujourd'hui."
        )
    return None


def plan_action(
    session: Session,
    interview: Interview,
    what: str,
    who: str | None,
    created_by: str | None,
    due: dt.date | None,
    objective_id: int | None = None,
    theme_id: int | None = None,
    hours: Decimal | None = None,
) -> Action | None:
    """Step 5: work to do before the next interview — who does what, for when (a due date is
    required: it keeps the accompaniment from going in circles), and optionally its activity
    theme and hours (what it counts towards the CEJ's weekly hours; empty: the theme's
    default). None when the row is empty."""
    what = (what or "").strip()
    if not what:
        return None
    if who not in vocab.PARTIES or created_by not in vocab.CREATORS:
        raise ReviewRefused(N_("Dites qui fait l'action et qui l'a proposée."), "what")
    if due is None:
        raise ReviewRefused(N_("Pour quand ? Une échéance évite de tourner en rond."), "due")
    if hours is not None and not 0 <= hours <= MAX_HOURS_PER_WEEK:
        raise ReviewRefused(N_("Un nombre d'heures de 0 à 60."), "hours")
    if theme_id is not None and session.get(Theme, theme_id) is None:
        theme_id = None
    open_ids = {o.id for o in open_objectives(session, interview.young_person_id)}
    action = Action(
        young_person_id=interview.young_person_id,
        set_at_id=interview.id,
        what=what,
        who=who,
        created_by=created_by,
        due_date=due,
        objective_id=objective_id if objective_id in open_ids else None,
        theme_id=theme_id,
        hours=hours,
    )
    session.add(action)
    return action


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
        reviewed = pending(interview, "actions")
        unreviewed = [
            a
            for a in actions_to_review(session, interview)
            if a.reviewed_at_id != interview.id and str(a.id) not in reviewed
        ]
        if unreviewed:
            problems.append(N_("Des actions de l'entretien précédent n'ont pas été revues."))
        followed = pending(interview, "proposals")
        if any(str(p.id) not in followed for p in open_proposals(session, interview)):
            problems.append(N_("Des propositions précédentes attendent leur suite (étape 1)."))
    return problems


def complete(session: Session, interview: Interview, now: dt.datetime) -> list[str]:
    """Validate the interview if nothing is missing; return the problems otherwise."""
    problems = completion_problems(session, interview)
    if not problems:
        apply_pending(session, interview)
        interview.status = "completed"
        interview.completed_at = now
        interview.step = len(STEPS)
        from . import notices

        notices.interview_validated(session, interview, now.date())
    return problems


@dataclass
class StallingVerdict:
    flagged: bool
    reasons: list[str]  #: messages to translate with ``params``
    suggest_psychologist: bool
    rule: StallingRule = StallingRule()

    @property
    def params(self) -> dict:
        """The thresholds the reasons quote: the rule in force, not figures in a template."""
        return {"n": self.rule.interviews, "days": self.rule.days_without_interview}


#: What the interviews themselves say (kept on the young person, see ``refresh_progress``)…
NO_OUTCOME = "no_outcome"
NOTHING_DONE = "nothing_done"
#: …and what the calendar says (read at display time from ``last_interview_at``).
NO_INTERVIEW = "no_interview"
REASONS = {
    NO_OUTCOME: N_("Aucune réalisation concrète lors des %(n)d derniers entretiens."),
    NOTHING_DONE: N_(
        "Aucune des actions prévues lors des %(n)d derniers entretiens n'a été réalisée."
    ),
    NO_INTERVIEW: N_("Aucun entretien depuis plus de %(days)d jours."),
}
#: The reasons that call for suggesting the psychologist.
SUGGEST_PSYCHOLOGIST = {NO_OUTCOME, NOTHING_DONE}


def progress_of(
    session: Session, young_people, rule: StallingRule | None = None
) -> dict[int, tuple[str | None, dt.datetime | None]]:
    """For each young person of ``young_people`` (ids, or a SELECT of ids) that has completed
    interviews: (the interview-based reasons as comma-separated codes or None, the date of the
    last completed interview). Three queries whatever the number of young people or interviews.

    *Sans progression*: the last N completed interviews produced no proposal, or the actions set
    at them and since reviewed were all not done."""
    rule = rule or current_rule()
    if isinstance(young_people, list | tuple | set):
        young_people = list(young_people)
    ranked = (
        sa.select(
            Interview.id,
            Interview.young_person_id,
            Interview.starts_at,
            sa.func.row_number()
            .over(
                partition_by=Interview.young_person_id,
                order_by=(Interview.starts_at.desc(), Interview.id.desc()),
            )
            .label("rank"),
        )
        .where(
            Interview.status == "completed",
            Interview.attendance.in_(COUNTED_ATTENDANCES),
            Interview.young_person_id.in_(young_people),
        )
        .subquery()
    )
    recent = sa.select(ranked).where(ranked.c.rank <= rule.interviews).subquery()
    interviews: dict[int, dict] = {}
    for interview_id, young_person_id, starts_at, rank in session.execute(sa.select(recent)):
        person = interviews.setdefault(young_person_id, {"ids": {}, "last": None})
        person["ids"][interview_id] = rank
        if rank == 1:
            person["last"] = starts_at
    with_proposals = set(
        session.scalars(
            sa.select(Proposal.interview_id)
            .where(Proposal.interview_id.in_(sa.select(recent.c.id)))
            .distinct()
        )
    )
    # Actions set at the older ones of the last N (those of the latest are not reviewed yet).
    statuses: dict[int, set[str]] = {}
    for set_at_id, status in session.execute(
        sa.select(Action.set_at_id, Action.status)
        .where(
            Action.set_at_id.in_(sa.select(recent.c.id).where(recent.c.rank > 1)),
            Action.status.in_(CLOSED_ACTION_STATUSES),
        )
        .distinct()
    ):
        statuses.setdefault(set_at_id, set()).add(status)
    progress = {}
    for young_person_id, person in interviews.items():
        codes = []
        ids = person["ids"]
        if len(ids) == rule.interviews:
            if not any(i in with_proposals for i in ids):
                codes.append(NO_OUTCOME)
            reviewed = set().union(*(statuses.get(i, set()) for i in ids))
            if reviewed and not (reviewed & DONE_STATUSES):
                codes.append(NOTHING_DONE)
        progress[young_person_id] = (",".join(codes) or None, person["last"])
    return progress


def refresh_progress(
    session: Session, young_people, rule: StallingRule | None = None, chunk: int = 5000
) -> int:
    """Write ``progress_of`` on the young people (``young_person.stalling`` and
    ``last_interview_at``), ``chunk`` at a time; returns how many were written. Run after every
    flush that touched an interview, a proposal or an action (``install``), after bulk loads,
    and by ``flask progress-refresh`` (after a change of rule)."""
    rule = rule or current_rule()
    from ..models import YoungPerson

    if not isinstance(young_people, list | tuple | set):
        young_people = session.scalars(young_people).all()
    ids = sorted(set(young_people))
    table = YoungPerson.__table__
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"))
        .values(stalling=sa.bindparam("_stalling"), last_interview_at=sa.bindparam("_last"))
    )
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        progress = progress_of(session, part, rule)
        session.connection().execute(
            statement,
            [
                {
                    "_id": i,
                    "_stalling": progress.get(i, (None, None))[0],
                    "_last": progress.get(i, (None, None))[1],
                }
                for i in part
            ],
        )
    return len(ids)


def verdict_of(
    stalling_codes: str | None,
    last_interview_at: dt.datetime | None,
    today: dt.date,
    rule: StallingRule | None = None,
    status: str | None = None,
) -> StallingVerdict:
    """The verdict shown to the counsellor, from what is kept on the young person."""
    rule = rule or current_rule()
    if status in rule.ignored_statuses:
        return StallingVerdict(False, [], False, rule)
    codes = [c for c in (stalling_codes or "").split(",") if c]
    if (
        last_interview_at is not None
        and (today - last_interview_at.date()).days > rule.days_without_interview
    ):
        codes.append(NO_INTERVIEW)
    return StallingVerdict(
        bool(codes), [REASONS[c] for c in codes], bool(SUGGEST_PSYCHOLOGIST & set(codes)), rule
    )


def stalling(
    session: Session, young_person_id: int, today: dt.date, rule: StallingRule | None = None
) -> StallingVerdict:
    """One young person's verdict, computed from the interviews (what the kept state must say)."""
    rule = rule or current_rule()
    codes, last = progress_of(session, [young_person_id], rule).get(young_person_id, (None, None))
    return verdict_of(codes, last, today, rule)


def stalled_clause(today: dt.date, rule: StallingRule | None = None):
    """SQL: the young people flagged *sans progression* today (from the kept state)."""
    rule = rule or current_rule()
    from ..models import YoungPerson

    cutoff = dt.datetime.combine(today - dt.timedelta(days=rule.days_without_interview), dt.time())
    return sa.and_(
        YoungPerson.status.not_in(rule.ignored_statuses),
        sa.or_(YoungPerson.stalling.is_not(None), YoungPerson.last_interview_at < cutoff),
    )


_HELD = "held_interviews"
_TOUCHED = "progress_touched"
_CHAINED = "chain_touched"


def _collect(session: Session, flush_context) -> None:
    touched = session.info.setdefault(_TOUCHED, set())
    held = session.info.setdefault(_HELD, set())
    chained = session.info.setdefault(_CHAINED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Interview | Proposal | Action) and obj.young_person_id is not None:
            people = {obj.young_person_id}
            history = sa.inspect(obj).attrs.young_person_id.history
            people.update(i for i in history.deleted or () if i is not None)
            touched.update(people)
            if isinstance(obj, Interview) and (
                obj in session.new or obj in session.deleted or _moves_the_chain(obj)
            ):
                chained.update(people)
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Interview) and obj.id is not None:
            held.add(obj.id)
        elif isinstance(obj, Proposal) and obj.interview_id is not None:
            held.add(obj.interview_id)
        elif isinstance(obj, Action) and obj.set_at_id is not None:
            held.add(obj.set_at_id)
    for obj in (*session.dirty, *session.deleted):  # an interview left without a proposal
        if isinstance(obj, Proposal):
            history = sa.inspect(obj).attrs.interview_id.history
            held.update(i for i in (*(history.deleted or ()), obj.interview_id) if i is not None)


#: What places an interview in its young person's chain of held interviews.
_CHAIN_FIELDS = ("young_person_id", "starts_at", "status", "attendance", "autonomy_level")


def _moves_the_chain(interview: Interview) -> bool:
    """An interview changed (neither added nor removed) moves its chain by these fields."""
    state = sa.inspect(interview)
    return any(state.attrs[name].history.has_changes() for name in _CHAIN_FIELDS)


def _refresh_touched(session: Session, flush_context) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        refresh_progress(session, touched)
    held = session.info.pop(_HELD, None)
    if held:
        sync_held(session, held)
    chained = session.info.pop(_CHAINED, None)
    if chained:
        sync_chain(session, chained)


def _forget(session: Session, *args) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_HELD, None)
    session.info.pop(_CHAINED, None)


def _is_held(interview):
    """SQL: the interview (the model or an alias) is held: validated, the young person present."""
    return sa.and_(interview.status == "completed", interview.attendance == "present")


def sync_held(session: Session, interview_ids) -> None:
    """Copy onto the proposals and actions of these interviews the time of their interview
    when it is held (validated, young person present), else None: the activity report then
    reads a period's proposals and actions as one index range (``held_at``). And mark each
    interview that made a proposal (``Interview.has_proposal``). Called on every flush that
    touches an interview, a proposal or an action; the bulk loaders fill them themselves. Three
    UPDATEs per 500 interviews."""
    ids = sorted(interview_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(
            sa.update(Interview)
            .where(Interview.id.in_(chunk))
            .values(
                has_proposal=sa.select(Proposal.id)
                .where(Proposal.interview_id == Interview.id)
                .exists(),
                updated_at=Interview.updated_at,  # derived: no "modified"
            )
            .execution_options(synchronize_session=False)
        )
        for model, key in ((Proposal, Proposal.interview_id), (Action, Action.set_at_id)):
            held = (
                sa.select(Interview.starts_at)
                .where(Interview.id == key, _is_held(Interview))
                .scalar_subquery()
            )
            session.execute(
                sa.update(model)
                .where(key.in_(chunk))
                .values(held_at=held, updated_at=model.updated_at)  # derived: no "modified"
                .execution_options(synchronize_session=False)
            )


def _neighbour(interview, later: bool, assessed: bool):
    """SQL: the time of the young person's held interview (rating autonomy, if ``assessed``)
    just before ``interview`` (just after, if ``later``), in (time, id) order."""
    other = sa.orm.aliased(Interview)
    here, there = (
        sa.tuple_(interview.starts_at, interview.id),
        sa.tuple_(other.starts_at, other.id),
    )
    return (
        sa.select((sa.func.min if later else sa.func.max)(other.starts_at))
        .where(
            other.young_person_id == interview.young_person_id,
            _is_held(other),
            there > here if later else there < here,
            *((other.autonomy_level.is_not(None),) if assessed else ()),
        )
        .scalar_subquery()
    )


def sync_chain(session: Session, young_person_ids) -> None:
    """Keep the chain of these young people's held interviews (``Interview.previous_held_at``,
    ``previous_assessed_at``, ``next_assessed_at``): NULL on an interview that is not held.
    Called on every flush that touches an interview, and by ``flask progress-refresh``; the
    bulk loaders fill it themselves. One UPDATE per 500 young people."""
    ids = sorted(young_person_ids)
    held = _is_held(Interview)
    assessed = sa.and_(held, Interview.autonomy_level.is_not(None))
    for start in range(0, len(ids), 500):
        session.execute(
            sa.update(Interview)
            .where(Interview.young_person_id.in_(ids[start : start + 500]))
            .values(
                previous_held_at=sa.case((held, _neighbour(Interview, False, False))),
                previous_assessed_at=sa.case((assessed, _neighbour(Interview, False, True))),
                next_assessed_at=sa.case((assessed, _neighbour(Interview, True, True))),
                updated_at=Interview.updated_at,  # derived: no "modified"
            )
            .execution_options(synchronize_session=False)
        )


def install() -> None:
    """Keep every young person's progress state in step with each flush of the ORM (the wizard,
    the workflows, the admin screens): one rule for every door but the bulk loaders, which call
    ``refresh_progress`` themselves."""
    from sqlalchemy import event

    for name, listener in (
        ("after_flush", _collect),
        ("after_flush_postexec", _refresh_touched),
        ("after_soft_rollback", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


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
