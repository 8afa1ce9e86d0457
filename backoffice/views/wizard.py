"""The interview wizard's steps, declared: one :class:`Step` per step, each with its WTForms form,
the context its partial needs, and a ``save`` that hands the parsed values to the rules of
``domain.interviews``. The view (``views.interviews``) only routes: adding a step is one
declaration here and one partial in ``templates/admin/interviews/steps/``.

Rows that stand for records (an action to review, a domain, an open proposal) are keyed by the
record's id in the field names (``actions-12-choice``), so a row always meets its record whatever
the order; new rows are numbered (``new-0-statement``). A GET fills the same form from what the
draft holds, so a step renders the same way before and after a save.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, FieldList, Form, FormField, StringField, TextAreaField
from wtforms.validators import ValidationError

from ..domain import interviews as rules
from ..domain import referrals as referral_rules
from ..domain import situations, values
from ..domain import vocabularies as vocab
from ..models import Action, AidType, Interview, Objective, Partner, Theme
from .validators import FrenchDateField, FrenchDateTimeField, FrenchDecimalField

#: Blank rows offered for new objectives, proposals and actions.
NEW_ROWS = 3


# --- fields -----------------------------------------------------------------------------------


class Choice(StringField):
    """One code of a closed list (a select or radio buttons); empty is allowed, anything else
    outside the list is refused in French, naming the field."""

    def __init__(self, label=None, choices: Iterable[tuple[str, str]] = (), **kwargs):
        super().__init__(label, **kwargs)
        self.choices = list(choices)

    def process_formdata(self, valuelist):
        self.data = valuelist[0].strip() if valuelist and valuelist[0] else None

    def pre_validate(self, form):
        if self.data and self.data not in {code for code, _label in self.choices}:
            raise ValidationError(_("%(field)s : choix invalide.", field=self.label.text))


class Reference(StringField):
    """The id of a record picked in a list (a domain, an aid, a partner): an int, or None."""

    def process_formdata(self, valuelist):
        self.data = values.parse_id(valuelist[0]) if valuelist and valuelist[0] else None

    def _value(self):
        return "" if self.data is None else str(self.data)


class Ticked(Field):
    """The values of a group of checkboxes sharing one name (a domain's situations)."""

    def process_formdata(self, valuelist):
        self.data = [v for v in valuelist if v]

    def process_data(self, value):
        self.data = list(value or [])


class Minutes(StringField):
    """A duration in minutes, 1 to 600."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if text:
            try:
                self.data = values.parse_int(text, minimum=1, maximum=600)
            except values.InvalidValue as error:
                raise ValueError(_("Une durée en minutes, de 1 à 600.")) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class KeyedList(FieldList):
    """Rows keyed by a record's id: ``<name>-<id>-<field>``. ``row(id)`` gives the row of a
    record (a blank one when nothing was posted for it)."""

    def __init__(self, unbound_field, **kwargs):
        super().__init__(unbound_field, min_entries=0, **kwargs)

    def row(self, key: int):
        wanted = f"{self.short_name}-{key}"
        for entry in self.entries:
            if entry.short_name == wanted:
                return entry
        return self._add_entry(index=key)

    def keyed(self) -> dict[int, object]:
        return {int(e.short_name.rsplit("-", 1)[1]): e for e in self.entries}


def field_errors(form) -> dict[str, str]:
    """``{field id: first message}`` of a validated form, rows included (the ids are the
    inputs' ids, so the error summary links to them)."""
    found: dict[str, str] = {}
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    found.update(field_errors(entry.form))
                elif entry.errors:
                    found[entry.id] = str(entry.errors[0])
        elif isinstance(field, FormField):
            found.update(field_errors(field.form))
        elif field.errors:
            found[field.id] = str(field.errors[0])
    return found


class StepForm(Form):
    """The wizard's forms: the CSRF token is checked by the app's ``CSRFProtect``."""

    go = StringField()


def _vocabulary(vocabulary) -> list[tuple[str, str]]:
    return list(vocabulary)


# --- forms -------------------------------------------------------------------------------------


class ActionReviewForm(Form):
    choice = Choice(_l("Revue de l'action"), rules.ACTION_REVIEWS)
    due = FrenchDateField(_l("Nouvelle échéance"))
    by = Choice(_l("Abandonnée par"), [(c, label) for c, label, _s in rules.ABANDONED_BY])
    note = StringField(_l("Ce qui a été fait"))


class ProposalReviewForm(Form):
    outcome = Choice(_l("Suite de la proposition"), rules.PROPOSAL_REVIEWS)
    situation_kind = Choice(_l("Situation"), vocab.SITUATION_KINDS)
    situation_start = FrenchDateField(_l("Début de la situation"))
    situation_organisation = StringField(_l("Employeur ou organisme"))
    situation_hours = FrenchDecimalField(_l("Heures par semaine"), places=1, max_digits=4)


class ObjectiveStatusForm(Form):
    status = Choice(_l("Où en est l'objectif"), vocab.OBJECTIVE_STATUSES)


class SinceForm(StepForm):
    actions = KeyedList(FormField(ActionReviewForm))
    proposals = KeyedList(FormField(ProposalReviewForm))
    objectives = KeyedList(FormField(ObjectiveStatusForm))


class DomainForm(Form):
    assessment = Choice(_l("Évaluation"), vocab.ASSESSMENTS)
    situations = Ticked()
    words = TextAreaField(_l("Ses mots"))


class DiagnosisForm(StepForm):
    starts_at = FrenchDateTimeField(_l("Date et heure"))
    duration_minutes = Minutes(_l("Durée (min)"))
    channel = Choice(_l("Canal"), vocab.INTERVIEW_CHANNELS)
    kind = Choice(_l("Type"), vocab.INTERVIEW_KINDS)
    attendance = Choice(_l("Présence"), vocab.ATTENDANCE)
    domains = KeyedList(FormField(DomainForm))


class NewObjectiveForm(Form):
    statement = TextAreaField(_l("Ce que le jeune veut (ses mots)"))
    suggestion = TextAreaField(_l("Suggestion du conseiller"))
    domain = Reference(_l("Domaine"))
    target = FrenchDateField(_l("Échéance"))


class ObjectivesForm(StepForm):
    objectives = KeyedList(FormField(ObjectiveStatusForm))
    new = FieldList(FormField(NewObjectiveForm), min_entries=NEW_ROWS)


class NewProposalForm(Form):
    kind = Choice(_l("Type"), vocab.PROPOSAL_KINDS)
    description = StringField(_l("Quoi, précisément"))
    outcome = Choice(_l("Suite"), vocab.PROPOSAL_OUTCOMES)
    hours = FrenchDecimalField(_l("h/sem."), places=1, max_digits=4)
    aid = Reference(_l("Aide du catalogue"))
    amount = FrenchDecimalField(_l("Montant ou quantité de l'aide"), places=2, max_digits=10)
    partner = Reference(_l("Partenaire (orientation)"))


class OutcomeForm(StepForm):
    delete = KeyedList(BooleanField())
    new = FieldList(FormField(NewProposalForm), min_entries=NEW_ROWS)
    no_outcome_reason = TextAreaField(_l("S'il n'y a rien de concret aujourd'hui, pourquoi ?"))


class NewActionForm(Form):
    what = StringField(_l("Action à faire"))
    who = Choice(_l("Qui fait l'action"), vocab.PARTIES)
    created_by = Choice(_l("Qui l'a proposée"), vocab.CREATORS)
    due = FrenchDateField(_l("Pour quand"))
    objective = Reference(_l("Objectif auquel elle se rattache"))
    theme = Reference(_l("Thématique"))
    hours = FrenchDecimalField(_l("Heures"), places=1, max_digits=4)


class NextForm(StepForm):
    delete = KeyedList(BooleanField())
    new = FieldList(FormField(NewActionForm), min_entries=NEW_ROWS)
    next_appointment = FrenchDateTimeField(_l("Prochain rendez-vous"))
    autonomy_level = Choice(_l("Autonomie"), vocab.AUTONOMY_LEVELS)
    public_summary = TextAreaField(_l("Résumé partagé avec le jeune"))
    private_notes = TextAreaField(_l("Notes privées du conseiller"))


# --- steps -------------------------------------------------------------------------------------


def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


def _refused(errors: dict, row, refusal: Exception, **params) -> None:
    """A domain refusal under the row's field it names (``ReviewRefused.field``)."""
    field = getattr(refusal, "field", None)
    target = getattr(row.form, field, None) if field else None
    key = target.id if target is not None else row.id
    errors[key] = _(str(refusal), **params)


def _each_row(errors: dict, rows, apply) -> None:
    """Each valid new row through its rule (``apply(row.form)``); a refusal goes under the
    row's field it names."""
    for row in rows:
        if row.form.errors:
            continue
        try:
            apply(row.form)
        except rules.ReviewRefused as refusal:
            _refused(errors, row, refusal)


class Step:
    """One step of the wizard: its key (the partial's name), title, form and rules."""

    key: ClassVar[str]
    title: ClassVar[str]
    form_class: ClassVar[type[StepForm]] = StepForm

    @property
    def template(self) -> str:
        return f"admin/interviews/steps/{self.key}.html"

    def context(self, session, interview: Interview) -> dict:
        """What the partial shows beside the form."""
        return {}

    def initial(self, session, interview: Interview) -> MultiDict:
        """The form's values from what the draft holds (a GET renders these)."""
        return MultiDict()

    def form(self, formdata: MultiDict) -> StepForm:
        return self.form_class(formdata=formdata)

    def save(self, session, interview: Interview, form: StepForm) -> dict[str, str]:
        """Apply the posted form to the draft; ``{field id: message}`` for what is refused."""
        return field_errors(form) if not form.validate() else {}


class SinceStep(Step):
    """1. Since last time: each earlier action, each open proposal, each objective."""

    key, title, form_class = "since", rules.STEPS[0][2], SinceForm

    def context(self, session, interview):
        proposals = rules.open_proposals(session, interview)
        return {
            "actions": rules.actions_to_review(session, interview),
            "proposals": proposals,
            "objectives": rules.open_objectives(session, interview.young_person_id),
            "previous": rules.previous_interview(session, interview),
            # A realised proposal that led to a job, a training… offers to record the situation.
            "offered": {
                p.id: [(k, vocab.SITUATION_KINDS.label(k)) for k in situations.offered_for(p)]
                for p in proposals
            },
        }

    def initial(self, session, interview):
        data = MultiDict()
        for action in rules.actions_to_review(session, interview):
            said = rules.pending(interview, "actions").get(str(action.id), {})
            row = f"actions-{action.id}-"
            data[row + "choice"] = said.get("choice", "")
            data[row + "due"] = said.get("due", "")
            data[row + "by"] = said.get("by", "")
            data[row + "note"] = said.get("note", action.outcome_note or "")
        kept = rules.pending(interview, "situations")
        for proposal in rules.open_proposals(session, interview):
            row = f"proposals-{proposal.id}-"
            data[row + "outcome"] = rules.pending(interview, "proposals").get(str(proposal.id), "")
            situation = kept.get(str(proposal.id)) or {}
            data[row + "situation_kind"] = situation.get("kind", "")
            data[row + "situation_start"] = situation.get("start_date", "")
            data[row + "situation_organisation"] = situation.get("organisation") or ""
            data[row + "situation_hours"] = (
                values.format_decimal(Decimal(situation["hours_per_week"]), places=1)
                if situation.get("hours_per_week")
                else ""
            )
        _objective_statuses(session, interview, data)
        return data

    def save(self, session, interview, form):
        errors = super().save(session, interview, form)
        # A row not posted is an empty row (nothing said about that record).
        for action in rules.actions_to_review(session, interview):
            row = form.actions.row(action.id)
            if row.form.errors:
                continue
            f = row.form
            try:
                rules.review_action(
                    interview, action, f.choice.data, f.note.data or "", f.due.data, f.by.data
                )
            except rules.ReviewRefused as refusal:
                _refused(errors, row, refusal)
        for proposal in rules.open_proposals(session, interview):
            row = form.proposals.row(proposal.id)
            if row.form.errors:
                continue
            f = row.form
            situation = None
            try:
                if f.situation_kind.data:
                    if f.situation_kind.data not in situations.offered_for(proposal):
                        raise situations.SituationRefused(
                            vocab.N_("Quelle situation ? Choisissez-la dans la liste."), "kind"
                        )
                    situation = situations.read(
                        f.situation_kind.data,
                        _iso(f.situation_start.data),
                        organisation=f.situation_organisation.data,
                        hours=(
                            values.format_decimal(f.situation_hours.data, places=1)
                            if f.situation_hours.data is not None
                            else None
                        ),
                    )
                rules.review_proposal(interview, proposal, f.outcome.data, situation)
            except situations.SituationRefused as refusal:
                errors[getattr(f, f"situation_{refusal.field}", f.situation_kind).id] = _(
                    str(refusal)
                )
            except rules.ReviewRefused as refusal:
                target = f.situation_kind if refusal.field == "situation" else f.outcome
                errors[target.id] = _(str(refusal))
        _mark_objectives(session, interview, form)
        return errors


class DiagnosisStep(Step):
    """2. The whole situation, domain by domain: only what was discussed today is recorded."""

    key, title, form_class = "diagnosis", rules.STEPS[1][2], DiagnosisForm

    def context(self, session, interview):
        months = current_app.config["DIAGNOSIS_REVIEW_MONTHS"]
        return {
            "domains": rules.domains(session),
            # The last word on each domain is shown beside it, never copied into today's.
            "latest": rules.latest_diagnosis(session, interview.young_person_id, interview),
            "stale": rules.stale_domains(
                session, interview.young_person_id, interview.starts_at.date(), months
            ),
            "review_months": months,
        }

    def initial(self, session, interview):
        data = MultiDict(
            {
                "starts_at": interview.starts_at.strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": interview.duration_minutes or "",
                "channel": interview.channel or "appointment",
                "kind": interview.kind or "follow_up",
                "attendance": interview.attendance or "present",
            }
        )
        entries = {e.domain_id: e for e in interview.diagnosis}
        for domain in rules.domains(session):
            entry = entries.get(domain.id)
            row = f"domains-{domain.id}-"
            data[row + "assessment"] = entry.assessment if entry else ""
            data[row + "words"] = (entry.young_person_words or "") if entry else ""
            for label in (entry.situations or []) if entry else []:
                data.add(row + "situations", label)
        return data

    def save(self, session, interview, form):
        errors = super().save(session, interview, form)
        if form.starts_at.data is None and form.starts_at.id not in errors:
            errors[form.starts_at.id] = _("Date et heure obligatoires.")
        for name in ("channel", "kind", "attendance"):
            field = getattr(form, name)
            if not field.data and field.id not in errors:
                errors[field.id] = _("%(field)s : choix invalide.", field=field.label.text)
        if not errors.keys() & {"starts_at", "channel", "kind", "attendance", "duration_minutes"}:
            interview.starts_at = form.starts_at.data
            interview.channel, interview.kind = form.channel.data, form.kind.data
            interview.attendance = form.attendance.data
            interview.duration_minutes = form.duration_minutes.data
        for domain in rules.domains(session):
            row = form.domains.row(domain.id)
            if row.form.errors:  # "Évaluation : choix invalide." says which domain
                errors[row.form.assessment.id] = _("%(field)s : choix invalide.", field=domain.name)
                continue
            f = row.form
            try:
                rules.record_domain(
                    session, interview, domain, f.assessment.data, f.situations.data, f.words.data
                )
            except rules.ReviewRefused as refusal:
                _refused(errors, row, refusal, field=domain.name)
        return errors


class ObjectivesStep(Step):
    """3. Objectives defined with the young person, in their words."""

    key, title, form_class = "objectives", rules.STEPS[2][2], ObjectivesForm

    def context(self, session, interview):
        return {
            "objectives": rules.open_objectives(session, interview.young_person_id),
            "domains": rules.domains(session),
        }

    def initial(self, session, interview):
        data = MultiDict()
        _objective_statuses(session, interview, data)
        return data

    def save(self, session, interview, form):
        errors = super().save(session, interview, form)
        _mark_objectives(session, interview, form)
        _each_row(
            errors,
            form.new.entries,
            lambda f: rules.agree_objective(
                session,
                interview,
                f.statement.data,
                f.suggestion.data,
                f.target.data,
                f.domain.data,
            ),
        )
        return errors


class OutcomeStep(Step):
    """4. Something concrete: proposals, with the partners of today's needs first and what this
    young person already received of each aid."""

    key, title, form_class = "outcome", rules.STEPS[3][2], OutcomeForm

    def context(self, session, interview):
        aid_types = session.scalars(
            sa.select(AidType).where(AidType.active).order_by(AidType.name)
        ).all()
        partners = session.scalars(
            sa.select(Partner)
            .options(sa.orm.selectinload(Partner.themes))
            .where(Partner.active)
            .order_by(Partner.name)
        ).all()
        # A theme and a diagnosis domain share their code ("logement", "sante"…).
        needs = rules.needs_noted(session, interview)
        for_needs = [p for p in partners if any(t.code in needs for t in p.themes)]
        year = interview.starts_at.year
        return {
            "aid_types": aid_types,
            "partners_for_needs": for_needs,
            "partners": [p for p in partners if p not in for_needs],
            "granted": referral_rules.granted_to(session, interview.young_person_id, year),
            "envelopes": referral_rules.budgets_of(session, [a.id for a in aid_types], year),
        }

    def initial(self, session, interview):
        return MultiDict({"no_outcome_reason": interview.no_outcome_reason or ""})

    def save(self, session, interview, form):
        errors = super().save(session, interview, form)
        removed = {key for key, field in form.delete.keyed().items() if field.data}
        for proposal in list(interview.proposals):
            if proposal.id in removed:
                interview.proposals.remove(proposal)
        _each_row(
            errors,
            form.new.entries,
            lambda f: rules.propose(
                session,
                interview,
                f.kind.data,
                f.description.data,
                f.outcome.data,
                f.hours.data,
                f.amount.data,
                f.aid.data,
                f.partner.data,
            ),
        )
        interview.no_outcome_reason = (form.no_outcome_reason.data or "").strip() or None
        if form.go.data == "next":
            problem = rules.outcome_problem(interview)
            if problem:
                errors[form.no_outcome_reason.id] = _(problem)
        return errors


class NextStep(Step):
    """5. Until next time: who does what for when, the next appointment, autonomy today."""

    key, title, form_class = "next", rules.STEPS[4][2], NextForm

    def context(self, session, interview):
        return {
            "actions": session.scalars(
                sa.select(Action).where(Action.set_at_id == interview.id).order_by(Action.id)
            ).all(),
            "objectives": rules.open_objectives(session, interview.young_person_id),
            "themes": session.scalars(sa.select(Theme).order_by(Theme.name)).all(),
        }

    def initial(self, session, interview):
        data = MultiDict(
            {
                "autonomy_level": interview.autonomy_level or "",
                "public_summary": interview.public_summary or "",
                "private_notes": interview.private_notes or "",
            }
        )
        if interview.next_appointment is not None:
            data["next_appointment"] = interview.next_appointment.strftime("%Y-%m-%dT%H:%M")
        for row in range(NEW_ROWS):
            data[f"new-{row}-who"] = "young_person"
            data[f"new-{row}-created_by"] = "counsellor"
        return data

    def save(self, session, interview, form):
        errors = super().save(session, interview, form)
        removed = {key for key, field in form.delete.keyed().items() if field.data}
        for action in session.scalars(sa.select(Action).where(Action.set_at_id == interview.id)):
            if action.id in removed:
                session.delete(action)
        _each_row(
            errors,
            form.new.entries,
            lambda f: rules.plan_action(
                session,
                interview,
                f.what.data,
                f.who.data,
                f.created_by.data,
                f.due.data,
                f.objective.data,
                f.theme.data,
                f.hours.data,
            ),
        )
        if form.next_appointment.id not in errors:
            interview.next_appointment = form.next_appointment.data
        if form.autonomy_level.id not in errors:
            interview.autonomy_level = form.autonomy_level.data or None
        interview.public_summary = (form.public_summary.data or "").strip() or None
        interview.private_notes = (form.private_notes.data or "").strip() or None
        return errors


class SummaryStep(Step):
    """6. The recap, what is missing before validation, and the printable version."""

    key, title = "summary", rules.STEPS[5][2]

    def context(self, session, interview):
        return summary_context(session, interview)


def summary_context(session, interview: Interview) -> dict:
    """What the recap shows (step 6 and the printable page; no private notes there)."""
    return {
        "objectives": rules.open_objectives(session, interview.young_person_id),
        "agreed": session.scalars(
            sa.select(Objective).where(Objective.agreed_at_id == interview.id)
        ).all(),
        "actions": session.scalars(
            sa.select(Action).where(Action.set_at_id == interview.id).order_by(Action.due_date)
        ).all(),
        "problems": rules.completion_problems(session, interview),
    }


def _objective_statuses(session, interview, data: MultiDict) -> None:
    marked = rules.pending(interview, "objectives")
    for objective in rules.open_objectives(session, interview.young_person_id):
        data[f"objectives-{objective.id}-status"] = marked.get(str(objective.id), objective.status)


def _mark_objectives(session, interview, form) -> None:
    """The open objectives' progress, as marked in steps 1 and 3 (kept until validation)."""
    rows = form.objectives.keyed()  # an objective not posted keeps its status
    for objective in rules.open_objectives(session, interview.young_person_id):
        row = rows.get(objective.id)
        if row is not None and row.form.status.data in vocab.OBJECTIVE_STATUSES:
            rules.mark_objective(interview, objective, row.form.status.data)


#: The wizard, in order; ``rules.STEPS`` holds the same keys and titles (checked at import).
STEPS: tuple[Step, ...] = (
    SinceStep(),
    DiagnosisStep(),
    ObjectivesStep(),
    OutcomeStep(),
    NextStep(),
    SummaryStep(),
)
if [s.key for s in STEPS] != [key for _n, key, _t in rules.STEPS]:
    raise RuntimeError("views.wizard.STEPS and domain.interviews.STEPS disagree")


def step(number: int) -> Step:
    """The step of this number (1-based)."""
    return STEPS[number - 1]
