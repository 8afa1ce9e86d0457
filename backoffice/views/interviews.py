"""The interview wizard and the young person's file: HTTP in, ``domain.interviews`` rules, pages out.

Each step is saved as a draft in the database when the counsellor moves on (or back): closing the
browser loses nothing, and the interview resumes at the furthest step reached.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..domain import interviews as rules
from ..domain import referrals as referral_rules
from ..domain import scope, values
from ..domain import vocabularies as vocab
from ..extensions import db
from ..models import (
    Action,
    AidRequest,
    AidType,
    DiagnosisEntry,
    Interview,
    Objective,
    Partner,
    Proposal,
    Referral,
    YoungPerson,
    utcnow,
)

EDITORS = frozenset({"admin", "counsellor"})
READERS = frozenset({"admin", "counsellor", "manager"})
NEW_ROWS = 3
REVIEW_CHOICES = [
    ("done", "Fait"),
    ("not_done", "Pas fait"),
    ("ongoing", "Toujours en cours"),
]


def _young_person_or_404(young_person_id) -> YoungPerson:
    """A young person inside the user's scope; others answer as missing."""
    pk = values.parse_id(young_person_id)
    if pk is None:
        abort(404)
    stmt = sa.select(YoungPerson).where(YoungPerson.id == pk)
    clause = scope.clause_for(YoungPerson, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    youth = db.session.scalar(stmt)
    if youth is None:
        abort(404)
    return youth


def _interview_or_404(interview_id) -> Interview:
    pk = values.parse_id(interview_id)
    if pk is None:
        abort(404)
    interview = db.session.get(Interview, pk)
    if interview is None:
        abort(404)
    _young_person_or_404(interview.young_person_id)  # the young person's scope
    return interview


def _date(text: str | None) -> dt.date | None:
    """A date of the wizard, read like every other door (``values.parse_date``)."""
    if not text or not text.strip():
        return None
    return values.parse_date(text)


def _datetime(text: str | None) -> dt.datetime | None:
    """A date and time of the wizard (``values.parse_datetime``)."""
    if not text or not text.strip():
        return None
    return values.parse_datetime(text)


def _int_or_none(text):
    return values.parse_id(text)


class InterviewView(BaseView):
    """Entretiens: the six-step wizard, its printable summary, and the young person's file."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in READERS

    def is_visible(self):
        return False  # reached from a young person's file or list, not from the menu

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def _editor_only(self):
        if current_user.role not in EDITORS:
            abort(403)

    @expose("/")
    def index(self):
        """Interviews start from a young person: the home page lists drafts and appointments."""
        return redirect(url_for("admin.index"))

    # --- start / resume --------------------------------------------------------------------

    @expose("/new/<young_person_id>", methods=["POST"])
    def new(self, young_person_id):
        """Start an interview, or resume this counsellor's draft for this young person."""
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        draft = db.session.scalar(
            sa.select(Interview).where(
                Interview.young_person_id == youth.id,
                Interview.status == "draft",
                Interview.counsellor_id == current_user.id,
            )
        )
        if draft is None:
            has_previous = db.session.scalar(
                sa.select(sa.func.count(Interview.id)).where(
                    Interview.young_person_id == youth.id, Interview.status == "completed"
                )
            )
            draft = Interview(
                young_person_id=youth.id,
                counsellor_id=current_user.id,
                starts_at=utcnow().replace(second=0, microsecond=0) + _paris_offset(),
                kind="follow_up" if has_previous else "first",
            )
            db.session.add(draft)
            db.session.flush()
            draft.step = rules.first_step(db.session, draft)
            db.session.commit()
        return redirect(url_for(".step", interview_id=draft.id, number=draft.step))

    # --- steps -----------------------------------------------------------------------------

    @expose("/<interview_id>/step/<int:number>", methods=["GET", "POST"])
    def step(self, interview_id, number):
        interview = _interview_or_404(interview_id)
        if interview.status == "completed":
            return redirect(url_for(".summary", interview_id=interview.id))
        self._editor_only()
        first = rules.first_step(db.session, interview)
        if number < first or number > len(rules.STEPS):
            return redirect(url_for(".step", interview_id=interview.id, number=first))
        errors: dict[str, str] = {}
        if request.method == "POST":
            handler = getattr(self, f"_save_{rules.STEPS[number - 1][1]}")
            errors = handler(interview, request.form)
            going = request.form.get("go", "next")
            if not errors:
                target = {
                    "prev": max(first, number - 1),
                    "stay": number,
                    "next": min(number + 1, len(rules.STEPS)),
                }.get(going, number)
                interview.step = max(interview.step, target)
                db.session.commit()
                if going == "stay":
                    flash(_("Brouillon enregistré."), "success")
                return redirect(url_for(".step", interview_id=interview.id, number=target))
            db.session.rollback()
            flash(
                _("Corrigez les champs signalés : rien n'est perdu, votre saisie est ci-dessous."),
                "error",
            )
        return self.render(
            "admin/interviews/step.html",
            interview=interview,
            number=number,
            first=first,
            steps=rules.STEPS,
            errors=errors,
            form=request.form if errors else None,
            **self._context(interview, number),
        )

    def _context(self, interview: Interview, number: int) -> dict:
        key = rules.STEPS[number - 1][1]
        context = {"vocab": vocab, "youth": interview.young_person}
        if key in ("since", "objectives"):
            context["objectives"] = rules.open_objectives(db.session, interview.young_person_id)
            context["objective_status"] = rules.pending(interview, "objectives")
        if key == "since":
            context["actions"] = rules.actions_to_review(db.session, interview)
            context["reviews"] = rules.pending(interview, "actions")
            context["review_choices"] = rules.ACTION_REVIEWS
            context["abandoned_by"] = rules.ABANDONED_BY
            context["proposals"] = rules.open_proposals(db.session, interview)
            context["outcomes"] = rules.pending(interview, "proposals")
            context["outcome_choices"] = rules.PROPOSAL_REVIEWS
            context["previous"] = rules.previous_interview(db.session, interview)
        elif key == "diagnosis":
            context["domains"] = rules.domains(db.session)
            # What was said today only; the last word on each domain is shown beside it, never
            # copied into today's interview (nothing recorded that was not said).
            context["entries"] = {e.domain_id: e for e in interview.diagnosis}
            context["latest"] = rules.latest_diagnosis(
                db.session, interview.young_person_id, interview
            )
            context["stale"] = rules.stale_domains(
                db.session,
                interview.young_person_id,
                interview.starts_at.date(),
                current_app.config["DIAGNOSIS_REVIEW_MONTHS"],
            )
            context["review_months"] = current_app.config["DIAGNOSIS_REVIEW_MONTHS"]
        elif key == "objectives":
            context["domains"] = rules.domains(db.session)
        elif key == "outcome":
            context["aid_types"] = db.session.scalars(
                sa.select(AidType).where(AidType.active).order_by(AidType.name)
            ).all()
            partners = db.session.scalars(
                sa.select(Partner)
                .options(sa.orm.selectinload(Partner.themes))
                .where(Partner.active)
                .order_by(Partner.name)
            ).all()
            # The partners whose themes meet a need noted today come first (a theme and a
            # diagnosis domain share their code: "logement", "sante"…).
            needs = rules.needs_noted(db.session, interview)
            context["partners_for_needs"] = [
                p for p in partners if any(t.code in needs for t in p.themes)
            ]
            context["partners"] = [p for p in partners if p not in context["partners_for_needs"]]
            year = interview.starts_at.year
            # What this young person already received, and what is left of each envelope.
            context["granted"] = referral_rules.granted_to(
                db.session, interview.young_person_id, year
            )
            context["envelopes"] = referral_rules.budgets_of(
                db.session, [a.id for a in context["aid_types"]], year
            )
        elif key == "next":
            context["actions"] = db.session.scalars(
                sa.select(Action).where(Action.set_at_id == interview.id).order_by(Action.id)
            ).all()
            context["objectives"] = rules.open_objectives(db.session, interview.young_person_id)
        else:
            context.update(self._summary_context(interview))
        context["new_rows"] = range(NEW_ROWS)
        return context

    def _save_since(self, interview, form) -> dict:
        """Step 1: how each earlier action went and what became of each open proposal, kept on
        the draft (``rules.review_action``) and written to the file at validation."""
        errors = {}
        for action in rules.actions_to_review(db.session, interview):
            try:
                due = _date(form.get(f"due-{action.id}"))
            except values.InvalidValue as error:
                errors[f"due-{action.id}"] = str(error)
                continue
            try:
                rules.review_action(
                    interview,
                    action,
                    form.get(f"review-{action.id}"),
                    form.get(f"note-{action.id}") or "",
                    due,
                    form.get(f"by-{action.id}"),
                )
            except rules.ReviewRefused as refusal:
                field = "review" if refusal.field == "choice" else refusal.field
                errors[f"{field}-{action.id}"] = _(str(refusal))
        for proposal in rules.open_proposals(db.session, interview):
            try:
                rules.review_proposal(interview, proposal, form.get(f"outcome-{proposal.id}"))
            except rules.ReviewRefused as refusal:
                errors[f"outcome-{proposal.id}"] = _(str(refusal))
        _update_objectives(interview, form)
        return errors

    def _save_diagnosis(self, interview, form) -> dict:
        errors = self._save_header(interview, form)
        current = {e.domain_id: e for e in interview.diagnosis}
        for domain in rules.domains(db.session):
            assessment = form.get(f"assessment-{domain.id}") or ""
            allowed = {s.label for s in domain.situations}
            ticked = [label for label in form.getlist(f"situation-{domain.id}") if label in allowed]
            words = (form.get(f"words-{domain.id}") or "").strip() or None
            entry = current.get(domain.id)
            if not assessment:  # not discussed today: nothing recorded
                if ticked or words:
                    errors[f"assessment-{domain.id}"] = _(
                        "%(field)s : où en est ce domaine ? Vous avez noté une situation ou "
                        "ses mots, mais pas l'évaluation.",
                        field=domain.name,
                    )
                elif entry is not None:
                    db.session.delete(entry)
                continue
            if assessment not in vocab.ASSESSMENTS:
                errors[f"assessment-{domain.id}"] = _(
                    "%(field)s : choix invalide.", field=domain.name
                )
                continue
            if entry is None:
                entry = DiagnosisEntry(
                    interview=interview,
                    domain_id=domain.id,
                    young_person_id=interview.young_person_id,
                )
                db.session.add(entry)
            entry.assessment, entry.situations, entry.young_person_words = (
                assessment,
                ticked,
                words,
            )
        return errors

    def _save_header(self, interview, form) -> dict:
        errors = {}
        try:
            starts_at = _datetime(form.get("starts_at"))
            if starts_at is None:
                errors["starts_at"] = _("Date et heure obligatoires.")
            else:
                interview.starts_at = starts_at
        except values.InvalidValue as error:
            errors["starts_at"] = str(error)
        for field, vocabulary, label in (
            ("channel", vocab.INTERVIEW_CHANNELS, _l("Canal")),
            ("kind", vocab.INTERVIEW_KINDS, _l("Type")),
            ("attendance", vocab.ATTENDANCE, _l("Présence")),
        ):
            value = form.get(field)
            if value not in vocabulary:
                errors[field] = _("%(field)s : choix invalide.", field=label)
            else:
                setattr(interview, field, value)
        duration = _int_or_none(form.get("duration_minutes"))
        if form.get("duration_minutes") and (duration is None or not 1 <= duration <= 600):
            errors["duration_minutes"] = _("Une durée en minutes, de 1 à 600.")
        else:
            interview.duration_minutes = duration
        return errors

    def _save_objectives(self, interview, form) -> dict:
        errors = {}
        _update_objectives(interview, form)
        domain_ids = {d.id for d in rules.domains(db.session)}
        for row in range(NEW_ROWS):
            statement = (form.get(f"new-statement-{row}") or "").strip()
            suggestion = (form.get(f"new-suggestion-{row}") or "").strip()
            if not statement and not suggestion:
                continue
            if not statement:
                errors[f"new-statement-{row}"] = _(
                    "L'objectif s'écrit avec les mots du jeune : sa formulation est obligatoire."
                )
                continue
            if rules.copies_suggestion(statement, suggestion):
                errors[f"new-statement-{row}"] = _(
                    "Ce sont les mots du conseiller : notez l'objectif tel que le jeune le dit."
                )
                continue
            try:
                target = _date(form.get(f"new-target-{row}"))
            except values.InvalidValue as error:
                errors[f"new-target-{row}"] = str(error)
                continue
            domain_id = _int_or_none(form.get(f"new-domain-{row}"))
            db.session.add(
                Objective(
                    young_person_id=interview.young_person_id,
                    domain_id=domain_id if domain_id in domain_ids else None,
                    statement=statement,
                    counsellor_suggestion=suggestion or None,
                    agreed_at_id=interview.id,
                    target_date=target,
                    status="open",
                )
            )
        return errors

    def _save_outcome(self, interview, form) -> dict:
        errors = {}
        for proposal in list(interview.proposals):
            if form.get(f"delete-proposal-{proposal.id}"):
                interview.proposals.remove(proposal)
        aid_ids = set(db.session.scalars(sa.select(AidType.id)))
        partner_ids = set(db.session.scalars(sa.select(Partner.id)))
        for row in range(NEW_ROWS):
            kind = form.get(f"new-kind-{row}") or ""
            description = (form.get(f"new-description-{row}") or "").strip()
            if not kind and not description:
                continue
            if kind not in vocab.PROPOSAL_KINDS:
                errors[f"new-kind-{row}"] = _("Choisissez le type de proposition.")
                continue
            if not description:
                errors[f"new-description-{row}"] = _("Décrivez la proposition.")
                continue
            outcome = form.get(f"new-outcome-{row}", "prescribed")
            hours_text = (form.get(f"new-hours-{row}") or "").strip()
            try:
                hours = values.parse_decimal(hours_text, places=1, unit="h") if hours_text else None
                if hours is not None and hours > 60:
                    raise values.InvalidValue(_("Un nombre d'heures de 0 à 60."))
            except values.InvalidValue as error:
                errors[f"new-hours-{row}"] = str(error)
                continue
            aid_id = _int_or_none(form.get(f"new-aid-{row}"))
            partner_id = _int_or_none(form.get(f"new-partner-{row}"))
            amount_text = (form.get(f"new-amount-{row}") or "").strip()
            try:
                amount = (
                    values.parse_decimal(amount_text, places=2, max_digits=10)
                    if amount_text
                    else None
                )
                if amount is not None and aid_id not in aid_ids:
                    raise values.InvalidValue(
                        _("Un montant va avec une aide du catalogue : choisissez-la.")
                    )
                if amount is not None and amount <= 0:
                    raise values.InvalidValue(_("Un montant plus grand que zéro."))
            except values.InvalidValue as error:
                errors[f"new-amount-{row}"] = str(error)
                continue
            proposal = Proposal(
                young_person_id=interview.young_person_id,
                kind=kind,
                outcome=outcome if outcome in vocab.PROPOSAL_OUTCOMES else "prescribed",
                description=description,
                hours_per_week=hours,
                amount=amount,
                aid_type_id=aid_id if aid_id in aid_ids else None,
                partner_id=partner_id if partner_id in partner_ids else None,
            )
            interview.proposals.append(proposal)
            _start_follow_up(interview, proposal)
        reason = (form.get("no_outcome_reason") or "").strip()
        interview.no_outcome_reason = reason or None
        if (
            form.get("go") == "next"
            and not interview.proposals
            and not reason
            and interview.attendance == "present"
        ):
            errors["no_outcome_reason"] = _(
                "Chaque entretien se termine par quelque chose de concret : ajoutez une "
                "proposition, ou dites pourquoi il n'y en a pas aujourd'hui."
            )
        return errors

    def _save_next(self, interview, form) -> dict:
        errors = {}
        for action in db.session.scalars(sa.select(Action).where(Action.set_at_id == interview.id)):
            if form.get(f"delete-action-{action.id}"):
                db.session.delete(action)
        objective_ids = {o.id for o in rules.open_objectives(db.session, interview.young_person_id)}
        for row in range(NEW_ROWS):
            what = (form.get(f"new-what-{row}") or "").strip()
            if not what:
                continue
            who = form.get(f"new-who-{row}")
            created_by = form.get(f"new-created_by-{row}")
            if who not in vocab.PARTIES or created_by not in vocab.CREATORS:
                errors[f"new-what-{row}"] = _("Dites qui fait l'action et qui l'a proposée.")
                continue
            try:
                due = _date(form.get(f"new-due-{row}"))
            except values.InvalidValue as error:
                errors[f"new-due-{row}"] = str(error)
                continue
            if due is None:
                errors[f"new-due-{row}"] = _("Pour quand ? Une échéance évite de tourner en rond.")
                continue
            objective_id = _int_or_none(form.get(f"new-objective-{row}"))
            db.session.add(
                Action(
                    young_person_id=interview.young_person_id,
                    set_at_id=interview.id,
                    what=what,
                    who=who,
                    created_by=created_by,
                    due_date=due,
                    objective_id=objective_id if objective_id in objective_ids else None,
                )
            )
        try:
            interview.next_appointment = _datetime(form.get("next_appointment"))
        except values.InvalidValue as error:
            errors["next_appointment"] = str(error)
        level = form.get("autonomy_level")
        if level and level not in vocab.AUTONOMY_LEVELS:
            errors["autonomy_level"] = _("Autonomie : choix invalide.")
        else:
            interview.autonomy_level = level or None
        interview.public_summary = (form.get("public_summary") or "").strip() or None
        interview.private_notes = (form.get("private_notes") or "").strip() or None
        return errors

    def _save_summary(self, interview, form) -> dict:
        return {}

    # --- completion and summary ------------------------------------------------------------

    @expose("/<interview_id>/complete", methods=["POST"])
    def complete(self, interview_id):
        self._editor_only()
        interview = _interview_or_404(interview_id)
        if interview.status == "completed":
            return redirect(url_for(".summary", interview_id=interview.id))
        problems = rules.complete(db.session, interview, utcnow())
        if problems:
            for problem in problems:
                flash(_(problem), "error")
            return redirect(url_for(".step", interview_id=interview.id, number=len(rules.STEPS)))
        db.session.commit()
        flash(_("Entretien validé."), "success")
        return redirect(url_for(".file", young_person_id=interview.young_person_id))

    @expose("/file/<young_person_id>/attendance", methods=["POST"])
    def attendance(self, young_person_id):
        """What became of the next appointment when it was not an interview: absent, cancelled
        (by the young person or the structure), postponed (to a new date)."""
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        latest = db.session.scalar(
            sa.select(Interview)
            .where(Interview.young_person_id == youth.id, Interview.status == "completed")
            .order_by(Interview.starts_at.desc(), Interview.id.desc())
            .limit(1)
        )
        if latest is None or latest.next_appointment is None:
            flash(_("Aucun rendez-vous à pointer."), "error")
            return redirect(url_for(".file", young_person_id=youth.id))
        try:
            rules.record_missed(
                db.session,
                youth.id,
                current_user.id,
                request.form.get("attendance", ""),
                latest.next_appointment,
                _datetime(request.form.get("new_appointment")),
                utcnow() + _paris_offset(),
            )
            db.session.commit()
            flash(_("Rendez-vous pointé."), "success")
        except (rules.ReviewRefused, values.InvalidValue) as refusal:
            db.session.rollback()
            flash(_(str(refusal)), "error")
        return redirect(url_for(".file", young_person_id=youth.id))

    @expose("/<interview_id>/discard", methods=["POST"])
    def discard(self, interview_id):
        """Throw a draft away: what it added goes with it, and since its follow-up of earlier
        work waited for validation, the file is as it was before the interview."""
        self._editor_only()
        interview = _interview_or_404(interview_id)
        if interview.status != "draft":
            flash(_("Un entretien validé ne peut pas être abandonné."), "error")
            return redirect(url_for(".summary", interview_id=interview.id))
        young_person_id = interview.young_person_id
        rules.discard(db.session, interview)
        db.session.commit()
        flash(_("Brouillon abandonné : le dossier est tel qu'avant l'entretien."), "success")
        return redirect(url_for(".file", young_person_id=young_person_id))

    def _summary_context(self, interview: Interview) -> dict:
        return {
            "objectives": rules.open_objectives(db.session, interview.young_person_id),
            "agreed": db.session.scalars(
                sa.select(Objective).where(Objective.agreed_at_id == interview.id)
            ).all(),
            "actions": db.session.scalars(
                sa.select(Action).where(Action.set_at_id == interview.id).order_by(Action.due_date)
            ).all(),
            "problems": rules.completion_problems(db.session, interview),
            "youth": interview.young_person,
        }

    @expose("/<interview_id>/summary")
    def summary(self, interview_id):
        """The recap for the young person, in plain French, printable (no private notes)."""
        interview = _interview_or_404(interview_id)
        return self.render(
            "admin/interviews/summary.html",
            interview=interview,
            vocab=vocab,
            **self._summary_context(interview),
        )

    # --- the young person's file -----------------------------------------------------------

    @expose("/file/<young_person_id>")
    def file(self, young_person_id):
        youth = _young_person_or_404(young_person_id)
        today = dt.date.today()
        # Everything the page shows, loaded in a fixed number of queries whatever the history.
        interviews = db.session.scalars(
            sa.select(Interview)
            .options(
                sa.orm.selectinload(Interview.proposals).options(
                    sa.orm.joinedload(Proposal.aid_type), sa.orm.joinedload(Proposal.partner)
                ),
                sa.orm.joinedload(Interview.counsellor),
            )
            .where(Interview.young_person_id == youth.id)
            .order_by(Interview.starts_at.desc(), Interview.id.desc())
        ).all()
        actions = db.session.scalars(
            sa.select(Action)
            .where(Action.young_person_id == youth.id)
            .order_by(Action.due_date.desc().nulls_last(), Action.id.desc())
        ).all()
        objectives = db.session.scalars(
            sa.select(Objective)
            .where(Objective.young_person_id == youth.id)
            .order_by(Objective.status, Objective.id.desc())
        ).all()
        proposals = db.session.scalars(
            sa.select(Proposal)
            .options(
                sa.orm.joinedload(Proposal.aid_type),
                sa.orm.joinedload(Proposal.partner),
                sa.orm.joinedload(Proposal.interview),
            )
            .where(Proposal.young_person_id == youth.id)
            .order_by(Proposal.id.desc())
        ).all()
        entries = db.session.scalars(
            sa.select(DiagnosisEntry)
            .options(
                sa.orm.joinedload(DiagnosisEntry.domain),
                sa.orm.contains_eager(DiagnosisEntry.interview),
            )
            .join(Interview)
            .where(DiagnosisEntry.young_person_id == youth.id, Interview.status == "completed")
            .order_by(Interview.starts_at.desc())
        ).all()
        diagnosis: dict = {}
        for entry in entries:
            diagnosis.setdefault(entry.domain, []).append(entry)
        # A draft is not on the file until it is validated: what it added is left out.
        drafts = {i.id for i in interviews if i.status == "draft"}
        latest = next((i for i in interviews if i.status == "completed"), None)
        now = utcnow() + _paris_offset()
        # The appointment set by the latest validated interview: to come, or past with nothing
        # recorded since (then the counsellor says what became of it).
        appointment = latest.next_appointment if latest is not None else None
        return self.render(
            "admin/interviews/file.html",
            youth=youth,
            interviews=interviews,
            actions=[a for a in actions if a.set_at_id not in drafts],
            objectives=[o for o in objectives if o.agreed_at_id not in drafts],
            proposals=[p for p in proposals if p.interview_id not in drafts],
            appointment=appointment,
            appointment_past=appointment is not None and appointment < now,
            missed_choices=[(code, vocab.ATTENDANCE.label(code)) for code in rules.MISSED],
            stale=rules.stale_domains(
                db.session, youth.id, today, current_app.config["DIAGNOSIS_REVIEW_MONTHS"]
            ),
            domain_names={d.id: d.name for d in rules.domains(db.session)},
            review_months=current_app.config["DIAGNOSIS_REVIEW_MONTHS"],
            diagnosis=diagnosis,
            today=today,
            closed=rules.CLOSED_ACTION_STATUSES,
            vocab=vocab,
            verdict=rules.verdict_of(
                youth.stalling, youth.last_interview_at, today, status=youth.status
            ),
            autonomy=rules.autonomy_series(db.session, youth.id),
            can_edit=current_user.role in EDITORS,
            referrals=db.session.scalars(
                sa.select(Referral)
                .options(sa.orm.joinedload(Referral.partner))
                .where(Referral.young_person_id == youth.id)
                .order_by(Referral.id.desc())
            ).all(),
            aid_requests=db.session.scalars(
                sa.select(AidRequest)
                .options(sa.orm.joinedload(AidRequest.aid_type))
                .where(AidRequest.young_person_id == youth.id)
                .order_by(AidRequest.id.desc())
            ).all(),
        )


def _update_objectives(interview: Interview, form) -> None:
    """The open objectives' progress, as marked in steps 1 and 3 (kept until validation)."""
    for objective in rules.open_objectives(db.session, interview.young_person_id):
        status = form.get(f"objective-{objective.id}")
        if status in vocab.OBJECTIVE_STATUSES:
            rules.mark_objective(interview, objective, status)


def _start_follow_up(interview: Interview, proposal: Proposal) -> None:
    """A referral to a partner starts as a draft *orientation*; an aid of the catalogue as a
    draft aid request: the counsellor completes them (consent, amount) in their own screens."""
    if proposal.partner_id is not None and proposal.kind in (
        "referral",
        "training",
        "immersion",
        "workshop",
    ):
        db.session.add(
            Referral(
                young_person_id=interview.young_person_id,
                partner_id=proposal.partner_id,
                counsellor_id=current_user.id,
                aid_type_id=proposal.aid_type_id,
                reason=proposal.description,
                status="draft",
                proposal=proposal,
            )
        )
    elif proposal.aid_type_id is not None and proposal.kind in ("financial_aid", "material_aid"):
        aid = db.session.get(AidType, proposal.aid_type_id)
        asked = proposal.amount or (aid.default_amount if aid is not None else None)
        if aid is not None and asked:
            db.session.add(
                AidRequest(
                    young_person_id=interview.young_person_id,
                    aid_type_id=aid.id,
                    interview=interview,
                    counsellor_id=current_user.id,
                    amount_asked=asked,
                    budget_year=interview.starts_at.year,
                    status="draft",
                )
            )


def _paris_offset() -> dt.timedelta:
    """Interviews are typed in local (Paris) time; the naive UTC clock needs the offset."""
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo("Europe/Paris"))
    return now.utcoffset() or dt.timedelta(0)
