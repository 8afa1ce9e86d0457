"""The interview wizard and the young person's file: HTTP in, ``domain.interviews`` rules, pages out.

Each step is saved as a draft in the database when the counsellor moves on (or back): closing the
browser loses nothing, and the interview resumes at the furthest step reached.
"""

from __future__ import annotations

import datetime as dt
import secrets

import segno
import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..domain import gdpr, notices, scope, situations, values
from ..domain import interviews as rules
from ..domain import vocabularies as vocab
from ..domain import youth_space as space
from ..extensions import db
from ..models import (
    Action,
    AidRequest,
    Consent,
    Consultation,
    DiagnosisEntry,
    Interview,
    Objective,
    Partner,
    Proposal,
    Referral,
    User,
    YoungPerson,
    utcnow,
)
from . import wizard
from .auth import safe_next
from .labels import FIELD_LABELS

EDITORS = frozenset({"admin", "counsellor"})
READERS = frozenset({"admin", "counsellor", "manager"})
#: A week's appointments shown at most (a full caseload has about 150).
AGENDA_LIMIT = 500


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


def _datetime(text: str | None) -> dt.datetime | None:
    """A date and time of the wizard (``values.parse_datetime``)."""
    if not text or not text.strip():
        return None
    return values.parse_datetime(text)


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
                starts_at=values.local_now().replace(second=0),
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
        """Route to the declared step (``views.wizard``): its form in, its rules, its partial."""
        interview = _interview_or_404(interview_id)
        if interview.status == "completed":
            return redirect(url_for(".summary", interview_id=interview.id))
        self._editor_only()
        first = rules.first_step(db.session, interview)
        if number < first or number > len(wizard.STEPS):
            return redirect(url_for(".step", interview_id=interview.id, number=first))
        step = wizard.step(number)
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = step.form(request.form)
            errors = step.save(db.session, interview, form)
            going = form.go.data or "next"
            if not errors:
                target = {
                    "prev": max(first, number - 1),
                    "stay": number,
                    "next": min(number + 1, len(wizard.STEPS)),
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
        else:
            form = step.form(step.initial(db.session, interview))
        return self.render(
            "admin/interviews/step.html",
            interview=interview,
            number=number,
            first=first,
            steps=rules.STEPS,
            step=step,
            errors=errors,
            step_form=form,
            vocab=vocab,
            youth=interview.young_person,
            **step.context(db.session, interview),
        )

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
        # Back where the counsellor recorded it: the file, the home page or the agenda.
        back = (
            safe_next(request.form.get("back"))
            if request.form.get("back")
            else url_for(".file", young_person_id=youth.id)
        )
        latest = db.session.scalar(
            sa.select(Interview)
            .where(Interview.young_person_id == youth.id, Interview.status == "completed")
            .order_by(Interview.starts_at.desc(), Interview.id.desc())
            .limit(1)
        )
        current = latest.next_appointment if latest is not None else None
        shown = request.form.get("appointment")
        if shown and (current is None or shown != current.strftime("%Y-%m-%dT%H:%M")):
            flash(_("Ce rendez-vous a déjà été pointé ou déplacé : voyez le dossier."), "error")
            return redirect(back)
        if current is None:
            flash(_("Aucun rendez-vous à pointer."), "error")
            return redirect(back)
        try:
            rules.record_missed(
                db.session,
                youth.id,
                current_user.id,
                request.form.get("attendance", ""),
                latest.next_appointment,
                _datetime(request.form.get("new_appointment")),
                values.local_now(),
            )
            db.session.commit()
            flash(_("Rendez-vous de %(name)s pointé.", name=youth), "success")
        except (rules.ReviewRefused, values.InvalidValue) as refusal:
            db.session.rollback()
            flash(_(str(refusal)), "error")
        return redirect(back)

    @expose("/agenda")
    def agenda(self):
        """The counsellor's week, day by day: appointments to come, and those past, to record
        (présent: start the interview; absent, cancelled or postponed: say so)."""
        self._editor_only()
        today = dt.date.today()
        try:
            asked = (
                values.parse_date(request.args["semaine"]) if request.args.get("semaine") else today
            )
        except values.InvalidValue:
            flash(_("Semaine invalide : voici la semaine en cours."), "error")
            asked = today
        monday = asked - dt.timedelta(days=asked.weekday())
        start = dt.datetime.combine(monday, dt.time())
        rows = db.session.execute(
            rules.appointments(current_user.id, start, start + dt.timedelta(days=7)).limit(
                AGENDA_LIMIT + 1
            )
        ).all()
        days = [(monday + dt.timedelta(days=n), []) for n in range(7)]
        for when, youth in rows[:AGENDA_LIMIT]:
            days[(when.date() - monday).days][1].append((when, youth))
        return self.render(
            "admin/interviews/agenda.html",
            days=days,
            monday=monday,
            previous=monday - dt.timedelta(days=7),
            following=monday + dt.timedelta(days=7),
            today=today,
            now=values.local_now(),
            more=len(rows) > AGENDA_LIMIT,
            missed_choices=[(code, vocab.ATTENDANCE.label(code)) for code in rules.MISSED],
            feed_url=(
                url_for("calendar_feed.feed", token=current_user.calendar_token, _external=True)
                if current_user.calendar_token
                else None
            ),
        )

    @expose("/agenda/abonnement", methods=["POST"])
    def calendar_feed(self):
        """Create (or replace: the old address stops working) or revoke the counsellor's
        private calendar address."""
        self._editor_only()
        user = db.session.get(User, current_user.id)
        if request.form.get("op") == "revoke":
            user.calendar_token = None
            flash(_("Adresse d'abonnement supprimée : votre agenda ne la lit plus."), "success")
        else:
            user.calendar_token = secrets.token_urlsafe(32)
            flash(_("Nouvelle adresse d'abonnement : copiez-la dans votre agenda."), "success")
        db.session.commit()
        return redirect(url_for(".agenda") + "#abonnement")

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

    @expose("/<interview_id>/summary")
    def summary(self, interview_id):
        """The recap for the young person, in plain French, printable (no private notes), with
        the QR code of their space when their link is active."""
        interview = _interview_or_404(interview_id)
        return self.render(
            "admin/interviews/summary.html",
            interview=interview,
            vocab=vocab,
            youth=interview.young_person,
            space=_space_link(interview.young_person),
            **wizard.summary_context(db.session, interview),
        )

    # --- the young person's file -----------------------------------------------------------

    @expose("/file/<young_person_id>/situation", methods=["POST"])
    def situation(self, young_person_id):
        """Record a situation from the file (``domain.situations``: one rule for every door);
        refused, the file comes back with what was typed and the message under its field."""
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        form = request.form
        try:
            situations.record(
                db.session,
                youth.id,
                situations.read(
                    form.get("kind"),
                    form.get("start_date"),
                    form.get("end_date"),
                    form.get("organisation"),
                    form.get("hours_per_week"),
                ),
            )
        except situations.SituationRefused as refusal:
            db.session.rollback()
            flash(_("La situation n'est pas enregistrée : corrigez le champ signalé."), "error")
            return self._file_page(
                youth,
                situation_posted=form,
                situation_errors={f"situation-{refusal.field}": _(str(refusal))},
            )
        db.session.commit()
        flash(_("Situation enregistrée."), "success")
        return redirect(url_for(".file", young_person_id=youth.id) + "#situations")

    # --- data protection: the complete record, its export, the anonymisation ----------------

    def _data_protection_or_403(self, young_person_id) -> YoungPerson:
        """The young person's record is produced by an admin or their referent."""
        youth = _young_person_or_404(young_person_id)
        if current_user.role != "admin" and youth.referent_id != current_user.id:
            abort(403)
        return youth

    @expose("/file/<young_person_id>/donnees")
    def personal_data(self, young_person_id):
        """Every record about the young person, readable and printable (the browser's print
        makes the PDF: no PDF engine to install, the same page on screen and on paper)."""
        youth = self._data_protection_or_403(young_person_id)
        db.session.add(Consultation(young_person_id=youth.id, user_id=current_user.id))
        record = gdpr.record_of(db.session, youth.id, plain=False)
        db.session.commit()
        return self.render(
            "admin/interviews/personal_data.html",
            youth=youth,
            record=record,
            titles=gdpr.TABLE_TITLES,
            labels={**gdpr.COLUMN_TITLES, **FIELD_LABELS},
            readable=gdpr.readable,
            can_anonymise=current_user.role == "admin" and youth.anonymised_at is None,
        )

    @expose("/file/<young_person_id>/donnees.zip")
    def personal_data_zip(self, young_person_id):
        """The same record as a zip (JSON and a CSV per table): portability."""
        youth = self._data_protection_or_403(young_person_id)
        data = gdpr.export_zip(db.session, youth.id, current_user.id)
        db.session.commit()
        return Response(
            data,
            mimetype="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="donnees-jeune-{youth.id}.zip"',
                "Cache-Control": "no-store",
            },
        )

    @expose("/file/<young_person_id>/anonymiser", methods=["POST"])
    def anonymise(self, young_person_id):
        """Anonymise for good (admins only), with the reason and who asked."""
        if current_user.role != "admin":
            abort(403)
        youth = _young_person_or_404(young_person_id)
        back = url_for(".personal_data", young_person_id=youth.id)
        if not request.form.get("definitive"):
            flash(_("Cochez la case qui confirme que l'anonymisation est définitive."), "error")
            return redirect(back)
        try:
            gdpr.anonymise(
                db.session,
                youth.id,
                request.form.get("reason", ""),
                request.form.get("requested_by", ""),
                current_user.id,
            )
        except gdpr.AnonymisationRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return redirect(back)
        db.session.commit()
        flash(
            _(
                "Données anonymisées : l'identité, les coordonnées et les textes libres ont été effacés."
            ),
            "success",
        )
        return redirect(url_for(".file", young_person_id=youth.id))

    @expose("/file/<young_person_id>/espace", methods=["POST"])
    def space(self, young_person_id):
        """The young person's space: a new link (sent by e-mail when they agreed to it, shown
        with its QR code otherwise), the same link sent again, or the link revoked."""
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        back = url_for(".file", young_person_id=youth.id) + "#space"
        op = request.form.get("op")
        if op == "revoke":
            space.revoke(youth)
            db.session.commit()
            flash(_("Le lien de son espace ne fonctionne plus."), "success")
            return redirect(back)
        if op not in ("issue", "send"):
            abort(400)
        if op == "issue" or not space.active(youth, utcnow()):
            space.issue(youth, utcnow(), current_app.config["YOUTH_SPACE_DAYS"])
        url = url_for(
            "youth_space.index",
            token=space.token(current_app.config["SECRET_KEY"], youth),
            _external=True,
        )
        if notices.space_link(db.session, youth, url):
            flash(_("Lien envoyé à %(email)s.", email=youth.email), "success")
        else:
            flash(
                _(
                    "Lien créé, pas envoyé : le jeune n'a pas d'adresse e-mail ou n'a pas "
                    "accepté d'être contacté par e-mail. Montrez-lui le QR code."
                ),
                "info",
            )
        db.session.commit()
        return redirect(back)

    @expose("/file/<young_person_id>/consent", methods=["POST"])
    def consent(self, young_person_id):
        """Record a consent for one purpose (how, when; a named partner for sharing)."""
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        form = request.form
        try:
            typed = (form.get("given_on") or "").strip()
            gdpr.record_consent(
                db.session,
                youth.id,
                form.get("purpose"),
                form.get("method"),
                values.parse_date(typed) if typed else None,
                current_user.id,
                dt.date.today(),
                values.parse_id(form.get("partner")),
            )
        except (gdpr.AnonymisationRefused, values.InvalidValue) as refusal:
            db.session.rollback()
            flash(_("Consentement non enregistré : %(why)s", why=str(refusal)), "error")
            return redirect(url_for(".file", young_person_id=youth.id) + "#consents")
        db.session.commit()
        flash(_("Consentement enregistré."), "success")
        return redirect(url_for(".file", young_person_id=youth.id) + "#consents")

    @expose("/file/<young_person_id>/consent/<consent_id>/withdraw", methods=["POST"])
    def withdraw_consent(self, young_person_id, consent_id):
        self._editor_only()
        youth = _young_person_or_404(young_person_id)
        consent = db.session.get(Consent, values.parse_id(consent_id) or 0)
        if consent is None or consent.young_person_id != youth.id:
            abort(404)
        try:
            gdpr.withdraw_consent(consent, dt.date.today())
        except gdpr.AnonymisationRefused as refusal:
            flash(str(refusal), "error")
            return redirect(url_for(".file", young_person_id=youth.id) + "#consents")
        db.session.commit()
        flash(_("Consentement retiré à compter d'aujourd'hui."), "success")
        return redirect(url_for(".file", young_person_id=youth.id) + "#consents")

    @expose("/file/<young_person_id>/notice")
    def notice(self, young_person_id):
        """The information notice given to the young person (first interview): what is kept,
        why, how long, their rights and whom to write to. Printable."""
        youth = _young_person_or_404(young_person_id)
        config = current_app.config
        return self.render(
            "admin/interviews/notice.html",
            youth=youth,
            years=config["RETENTION_YEARS"],
            log_days=config["LOG_RETENTION_DAYS"],
            dpo=config["DPO_CONTACT"],
            site=youth.site,
        )

    @expose("/file/<young_person_id>")
    def file(self, young_person_id):
        return self._file_page(_young_person_or_404(young_person_id))

    def _file_page(self, youth: YoungPerson, **extra):
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
        now = values.local_now()
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
            consents=(consents := gdpr.consents_of(db.session, youth.id)),
            partners=db.session.scalars(
                sa.select(Partner).where(Partner.active).order_by(Partner.name)
            ).all(),
            situations=(listed := situations.of(db.session, youth.id)),
            current_situations=situations.current(listed, today),
            aid_requests=db.session.scalars(
                sa.select(AidRequest)
                .options(sa.orm.joinedload(AidRequest.aid_type))
                .where(AidRequest.young_person_id == youth.id)
                .order_by(AidRequest.id.desc())
            ).all(),
            space=_space_link(youth),
            contactable=notices.contactable(db.session, youth, today, consents),
            **extra,
        )


def _space_link(youth: YoungPerson) -> dict | None:
    """The young person's active space link, its expiry and its QR code (inline SVG); None
    when they have none (or it expired)."""
    if not space.active(youth, utcnow()):
        return None
    url = url_for(
        "youth_space.index",
        token=space.token(current_app.config["SECRET_KEY"], youth),
        _external=True,
    )
    qr = segno.make(url, error="m").svg_inline(
        scale=3, title=_("QR code de l'espace de %(name)s", name=youth.first_name)
    )
    return {"url": url, "expires": youth.space_expires_at, "qr": Markup(qr)}
