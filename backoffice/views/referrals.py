"""Referral and aid-request screens, the *fiche de liaison*, and the partner's answer link."""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_admin import expose
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..domain import audit, notices
from ..domain import referrals as flows
from ..domain import vocabularies as vocab
from ..domain.values import InvalidValue, format_quantity, parse_date
from ..domain.workflow import Actor, TransitionRefused, events_of, fire
from ..extensions import db, limiter
from ..models import AidRequest, AidType, Partner, Referral, YoungPerson
from .base import (
    ACCOMPANIMENT_RECORDS,
    BackofficeModelView,
    RelatedEqualFilter,
    badge,
    translated,
)


def _actor() -> Actor:
    return Actor(current_user.id, current_user.role, current_user.email)


def _status_cell(vocabulary):
    def cell(view, context, model, name):
        kind = {
            "sent": "info",
            "accepted": "success",
            "granted": "success",
            "paid": "success",
            "refused": "danger",
            "expired": "warning",
            "draft": "secondary",
        }.get(model.status, "light")
        text = _(vocabulary.label(model.status))
        if isinstance(model, Referral) and flows.is_overdue(model, dt.date.today()):
            return Markup("{} {}").format(
                badge(text, kind),
                badge(_("sans réponse depuis 30 jours : expire cette nuit"), "warning"),
            )
        if isinstance(model, Referral) and flows.needs_reminder(model, dt.date.today()):
            return Markup("{} {}").format(badge(text, kind), badge(_("à relancer"), "warning"))
        return badge(text, kind)

    return cell


def scoped_young_people():
    from ..domain import scope

    stmt = (
        sa.select(YoungPerson)
        .where(YoungPerson.status != "exited")
        .order_by(YoungPerson.last_name, YoungPerson.first_name)
        .limit(2000)
    )
    clause = scope.clause_for(YoungPerson, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    if current_user.role == "counsellor":
        stmt = stmt.where(YoungPerson.referent_id == current_user.id)
    return db.session.scalars(stmt).all()


class WorkflowScreen(BackofficeModelView):
    """A generated list plus a *Suivi* page: state, available transitions, event log."""

    workflow = None
    permissions = ACCOMPANIMENT_RECORDS
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-random", ".workflow_view", title=_l("Suivi")),
    ]
    form_excluded_columns = ["version", "created_at", "updated_at", "status"]

    def on_model_change(self, form, model, is_created):
        if not is_created and model.status != "draft":
            raise ValidationError(_("Seul un brouillon se modifie ; la suite passe par « Suivi »."))

    def create_form(self, obj=None):
        """``?young_person=<id>`` (from the young person's file) pre-selects them;
        ``?partner_kind=psychologist`` (the stalling alert) pre-selects the first active partner
        of that kind, which the counsellor may change."""
        form = super().create_form(obj)
        wanted = request.args.get("young_person", type=int)
        if request.method == "GET" and wanted:
            form.young_person.data = next(
                (y for y in scoped_young_people() if y.id == wanted), None
            )
        kind = request.args.get("partner_kind")
        if request.method == "GET" and kind in vocab.PARTNER_KINDS:
            form.partner.data = db.session.scalar(
                sa.select(Partner)
                .where(Partner.kind == kind, Partner.active)
                .order_by(Partner.name)
                .limit(1)
            )
        return form

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".workflow_view", id=model.id)

    @expose("/workflow/", methods=["GET", "POST"])
    def workflow_view(self):
        record = self.get_one(request.args.get("id"))
        if record is None:
            abort(404)
        if request.method == "POST":
            name = request.form.get("transition", "")
            values = {
                key: value
                for key, value in request.form.items()
                if key not in ("csrf_token", "transition", "version")
            }
            try:
                expected = int(request.form.get("version", ""))
            except ValueError:
                expected = -1
            try:
                fire(db.session, self.workflow, record, name, _actor(), values, expected)
                db.session.commit()
                flash(_("« %(t)s » enregistré.", t=self.workflow.transition(name).label), "success")
            except TransitionRefused as refusal:
                db.session.rollback()
                flash(refusal.message, "error")
            except sa.orm.exc.StaleDataError:
                db.session.rollback()
                flash(_("La fiche a changé entre-temps : rechargez-la."), "error")
            return redirect(self.get_url(".workflow_view", id=record.id))
        return self.render(
            "admin/referrals/workflow.html",
            record=record,
            workflow=self.workflow,
            transitions=self.workflow.available(record, _actor()),
            events=events_of(db.session, self.workflow.entity, record.id),
            vocab=vocab,
            extra=self.workflow_extra(record),
        )

    def workflow_extra(self, record) -> dict:
        return {}


class ReferralView(WorkflowScreen):
    """Orientations: my referrals by state, those waiting too long, per partner statistics."""

    workflow = flows.REFERRAL
    list_template = "admin/referrals/list.html"
    column_list = ["young_person", "partner", "status", "sent_at", "appointment_at", "counsellor"]
    column_labels = {
        "sent_at": _l("Envoyée le"),
        "appointment_at": _l("Rendez-vous"),
        "counsellor": _l("Conseiller·ère"),
        "reason": _l("Motif de l'orientation"),
        "request": _l("Ce qui est demandé"),
        "availability": _l("Disponibilités"),
        "contact_preference": _l("Contact"),
        "service": _l("Service du partenaire"),
        "aid_type": _l("Aide concernée"),
        "shared_fields": _l("Données partagées"),
    }
    column_sortable_list = [("partner", "partner.name"), "status", "sent_at", "appointment_at"]
    column_default_sort = ("id", True)
    column_searchable_list = ["reason", "service"]
    column_filters = [
        "status",
        RelatedEqualFilter(Referral.partner_id, _l("Partenaire"), Partner, order_by=Partner.name),
        "sent_at",
    ]
    column_formatters = {"status": _status_cell(vocab.REFERRAL_STATES)}
    form_columns = [
        "young_person",
        "partner",
        "service",
        "aid_type",
        "reason",
        "request",
        "availability",
        "contact_preference",
        "shared_fields",
    ]
    form_extra_fields = {
        "shared_fields": SelectMultipleField(
            _l("Données partagées"), choices=translated(vocab.SHAREABLE)
        ),
    }
    form_args = {
        "young_person": {"query_factory": scoped_young_people, "validators": [DataRequired()]},
        "partner": {
            "validators": [DataRequired()],
            "query_factory": lambda: db.session.scalars(
                sa.select(Partner).where(Partner.active).order_by(Partner.name)
            ).all(),
        },
        "reason": {"validators": [InputRequired()]},
    }

    def scaffold_form(self):
        """Consent is recorded here as on the referral's page, through the one rule
        (``flows.record_consent``): how it was given, when, and what may be shared."""
        from wtforms import SelectField

        from .validators import FrenchDateField

        form_class = super().scaffold_form()
        form_class.consent_method = SelectField(
            _l("Consentement du jeune"),
            choices=[("", _l("— pas encore recueilli —")), *translated(vocab.CONSENT_METHODS)],
        )
        form_class.consent_day = FrenchDateField(_l("Date de l'accord (aujourd'hui si vide)"))
        return form_class

    def on_form_prefill(self, form, id):
        record = self.get_one(id)
        if record is not None:
            form.consent_method.data = record.consent_method or ""
            form.consent_day.data = record.consent_at.date() if record.consent_at else None
            form.shared_fields.data = record.shared_fields or []

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        shared = form.shared_fields.data or []
        if model.status is None:  # a new referral: its column default, needed by the rule
            model.status = "draft"
        if form.consent_method.data:
            try:
                flows.record_consent(
                    model,
                    form.consent_method.data,
                    form.consent_day.data or dt.date.today(),
                    shared,
                    dt.date.today(),
                )
            except TransitionRefused as refusal:
                raise ValidationError(refusal.message) from refusal
        else:  # not (or no longer) given: the draft cannot be sent
            model.consent_at, model.consent_method = None, None
            model.shared_fields = [f for f in shared if f in vocab.SHAREABLE]
        if is_created:
            model.counsellor_id = current_user.id

    def workflow_extra(self, record):
        link = None
        if record.status == "sent" and record.answer_nonce:
            token = flows.answer_token(current_app.config["SECRET_KEY"], record)
            link = url_for("partner_answer.answer", token=token, _external=True)
        mailto = None
        if link and record.partner.email:
            mailto = "mailto:{}?{}".format(
                quote(record.partner.email, safe="@"),
                urlencode(
                    {
                        "subject": f"Orientation de la mission locale n°{record.id}",
                        "body": f"Bonjour,\n\nPour répondre à l'orientation : {link}\n",
                    },
                    quote_via=quote,
                ),
            )
        return {
            "answer_link": link,
            "mailto": mailto,
            "partner_mail": notices.last_sent_to_partner(db.session, record.id),
            "consent_methods": vocab.CONSENT_METHODS,
            "today": dt.date.today(),
            "shareable": vocab.SHAREABLE,
            "refusal_reasons": vocab.REFUSAL_REASONS,
            "reminder": flows.needs_reminder(record, dt.date.today()),
        }

    @expose("/consent/", methods=["POST"])
    def consent_view(self):
        """Record the young person's consent from the referral's own page, then send."""
        if current_user.role not in flows.STAFF:
            abort(403)
        record = self.get_one(request.args.get("id"))
        if record is None:
            abort(404)
        try:
            typed = (request.form.get("consent_day") or "").strip()
            day = parse_date(typed) if typed else None
            flows.record_consent(
                record,
                request.form.get("consent_method", ""),
                day,
                request.form.getlist("shared_fields"),
                dt.date.today(),
            )
            db.session.commit()
            flash(_("Consentement enregistré : l'orientation peut être envoyée."), "success")
        except (TransitionRefused, InvalidValue) as refusal:
            db.session.rollback()
            flash(_(getattr(refusal, "message", str(refusal))), "error")
        return redirect(self.get_url(".workflow_view", id=record.id))

    @expose("/fiche/")
    def fiche_view(self):
        """The *fiche de liaison*: printable, only what the young person consented to share."""
        record = self.get_one(request.args.get("id"))
        if record is None:
            abort(404)
        return render_template(
            "admin/referrals/fiche.html",
            referral=record,
            vocab=vocab,
            shared=set(record.shared_fields or []),
        )

    @expose("/stats/")
    def stats_view(self):
        stats = flows.partner_stats(db.session)
        partners = {p.id: p for p in db.session.scalars(sa.select(Partner))}
        waiting = [
            r
            for r in self.get_query().filter(Referral.status == "sent").order_by(Referral.sent_at)
            if flows.needs_reminder(r, dt.date.today())
        ]
        return self.render(
            "admin/referrals/stats.html",
            stats=stats,
            partners=partners,
            waiting=waiting,
            diagrams=[
                (
                    workflow,
                    title,
                    workflow.mermaid(str(title), str(description)),
                    description,
                )
                for workflow, title, description in (
                    (
                        flows.REFERRAL,
                        _("Le circuit d'une orientation"),
                        _("De la fiche en brouillon à la réponse du partenaire, état par état."),
                    ),
                    (
                        flows.AID_REQUEST,
                        _("Le circuit d'une demande d'aide"),
                        _("De la demande aux justificatifs, à la décision et au paiement."),
                    ),
                )
            ],
            role_labels={
                **dict(vocab.ROLES.pairs),
                "partner": vocab.N_("Partenaire"),
                "system": vocab.N_("Automatique (10 jours sans réponse)"),
            },
        )


def _amount_cell(view, context, model, name):
    """An amount in its aid's unit (1 500 €, 10 tickets): the page's units in one query."""
    units = view.page_extras(
        "units",
        lambda ids: dict(
            db.session.execute(
                sa.select(AidRequest.id, AidType.unit)
                .join(AidType, AidType.id == AidRequest.aid_type_id)
                .where(AidRequest.id.in_(ids))
            ).all()
        ),
    )
    return format_quantity(getattr(model, name), units.get(model.id))


class AidRequestView(WorkflowScreen):
    """Demandes d'aide: request → decision → payment, within the aid type's budget."""

    workflow = flows.AID_REQUEST
    column_list = [
        "young_person",
        "aid_type",
        "amount_asked",
        "amount_granted",
        "status",
        "budget_year",
        "decision_date",
    ]
    column_labels = {
        "aid_type": _l("Aide"),
        "amount_asked": _l("Montant demandé"),
        "amount_granted": _l("Montant accordé"),
        "budget_year": _l("Année"),
        "decision_date": _l("Décision le"),
        "payment_date": _l("Payée le"),
        "payment_method": _l("Mode de paiement"),
        "interview": _l("Entretien"),
    }
    column_sortable_list = [
        ("aid_type", "aid_type.name"),
        "amount_asked",
        "amount_granted",
        "status",
        "budget_year",
        "decision_date",
    ]
    column_default_sort = ("id", True)
    column_filters = [
        "status",
        RelatedEqualFilter(AidRequest.aid_type_id, _l("Aide"), AidType, order_by=AidType.name),
        "budget_year",
    ]
    column_formatters = {
        "status": _status_cell(vocab.AID_REQUEST_STATES),
        "amount_asked": _amount_cell,
        "amount_granted": _amount_cell,
    }
    form_columns = ["young_person", "aid_type", "amount_asked"]
    form_args = {
        "young_person": {"query_factory": scoped_young_people, "validators": [DataRequired()]},
        "aid_type": {
            "validators": [DataRequired()],
            "query_factory": lambda: db.session.scalars(
                sa.select(AidType).where(AidType.active).order_by(AidType.name)
            ).all(),
        },
        "amount_asked": {"validators": [InputRequired()]},
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.amount_asked is None or model.amount_asked <= 0:
            raise ValidationError(_("Le montant demandé doit être positif."))
        if is_created:
            model.budget_year = dt.date.today().year
            model.counsellor_id = current_user.id

    def workflow_extra(self, record):
        return {
            "budget": flows.budget_of(db.session, record.aid_type_id, record.budget_year),
            "granted_to_youth": flows.granted_to(
                db.session, record.young_person_id, record.budget_year, exclude=record.id
            ).get(record.aid_type_id, 0),
            "payment_methods": vocab.PAYMENT_METHODS,
        }


# --- the partner's answer link (no account) ---------------------------------------------------

bp = Blueprint("partner_answer", __name__, url_prefix="/partenaire")


@bp.app_context_processor
def _fiche():
    """The fiche de liaison's lines, one function for the pages and the partner's e-mail."""
    return {"fiche": notices.fiche}


def _token_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "answer-token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _answer_failed(response) -> bool:
    return response.status_code >= 400


def _link_is_valid() -> bool:
    """A valid link is never blocked by the bad tries made from the same address."""
    token = (request.view_args or {}).get("token", "")
    try:
        flows.referral_for_token(db.session, current_app.config["SECRET_KEY"], token)
    except TransitionRefused:
        return False
    return True


@bp.route("/reponse/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", key_func=_token_key, scope="answer-token")
@limiter.limit(
    "30 per hour", scope="answer-address", deduct_when=_answer_failed, exempt_when=_link_is_valid
)
def answer(token):
    """Accept (with an appointment date) or refuse (with a reason), once, within 8 days.

    Limits: 30 requests an hour per link (whatever the address), and 30 failed tries an hour
    per address — which never block a valid link."""
    secret = current_app.config["SECRET_KEY"]
    try:
        referral = flows.referral_for_token(db.session, secret, token)
    except TransitionRefused as refusal:
        return render_template("admin/referrals/answer.html", error=refusal.message), 410
    audit.set_actor(db.session, None, f"partenaire (lien) : {referral.partner}")
    if request.method == "POST":
        name = request.form.get("transition")
        if name not in ("accept", "refuse"):
            abort(400)
        values = {
            k: v
            for k, v in request.form.items()
            if k in ("appointment_at", "refusal_reason", "comment")
        }
        actor = Actor(None, "partner", f"{referral.partner} (lien)")
        try:
            fire(db.session, flows.REFERRAL, referral, name, actor, values)
            db.session.commit()
        except TransitionRefused as refusal:
            db.session.rollback()
            return render_template(
                "admin/referrals/answer.html",
                referral=referral,
                vocab=vocab,
                shared=set(referral.shared_fields or []),
                problem=refusal.message,
                form=request.form,
            ), 400
        return render_template(
            "admin/referrals/answer.html", done=True, referral=referral, vocab=vocab
        )
    return render_template(
        "admin/referrals/answer.html",
        referral=referral,
        vocab=vocab,
        shared=set(referral.shared_fields or []),
        form={},
    )
