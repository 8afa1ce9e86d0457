"""Screens about people and places: young people, counsellors, staff accounts, sites."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import flash, g, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import Select2Field
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..domain import scope, situations, values
from ..domain import vocabularies as vocab
from ..domain.people import AGE_BANDS, MAX_AGE, MIN_AGE, periods_overlap
from ..extensions import db
from ..models import (
    Consultation,
    Programme,
    Site,
    Situation,
    User,
    YoungPerson,
    programme_running_on,
)
from . import validators as v
from .base import (
    ADMIN,
    ALL_ROLES,
    BackofficeModelView,
    RelatedEqualFilter,
    badge,
    related_cell,
    translated,
)

STATUS_BADGES = {"active": "success", "on_hold": "warning", "exited": "secondary"}


class AgeBandFilter(BaseSQLAFilter):
    """Age band, translated into a birth-date range for today."""

    def __init__(self):
        super().__init__(
            YoungPerson.birth_date,
            _l("Tranche d'âge"),
            options=[(band.code, _l(band.label)) for band in AGE_BANDS],
        )

    def validate(self, value):
        return any(band.code == value for band in AGE_BANDS)

    def apply(self, query, value, alias=None):
        band = next(band for band in AGE_BANDS if band.code == value)
        earliest, latest = band.birth_date_range(dt.date.today())
        column = YoungPerson.birth_date
        populous = band.min_age >= MIN_AGE and band.max_age is not None and band.max_age <= MAX_AGE
        if db.engine.dialect.name == "sqlite" and populous and _lists_rows(query):
            # A band of 16-25 holds up to half the young people, but SQLite's planner (no
            # histograms) takes the date index, then sorts tens of thousands of rows by name:
            # hidden from the index, the band is checked while walking the name order (a page
            # in 1 ms). The bands outside 16-25 are rare: the index finds their few rows. The
            # count keeps the index (a range count on it is the fastest).
            column = sa.func.date(column)
        query = query.filter(column <= latest)
        if earliest is not None:
            query = query.filter(column > earliest)
        return query

    def operation(self):
        return _l("est")


def _lists_rows(query) -> bool:
    """Whether ``query`` fetches the list's rows (rather than counting them)."""
    described = query.column_descriptions
    return (
        bool(described)
        and described[0].get("entity") is YoungPerson
        and (described[0].get("type") is YoungPerson)
    )


class CurrentProgrammeFilter(BaseSQLAFilter):
    """Programme running today: PACEA, CEJ, or none."""

    NONE = "none"

    def __init__(self):
        options = [*translated(vocab.PROGRAMME_KINDS), (self.NONE, _l("Aucun"))]
        super().__init__(YoungPerson.id, _l("Programme en cours"), options=options)

    def validate(self, value):
        return value == self.NONE or value in vocab.PROGRAMME_KINDS

    def apply(self, query, value, alias=None):
        running = sa.select(Programme.id).where(
            Programme.young_person_id == YoungPerson.id, programme_running_on(dt.date.today())
        )
        if value == self.NONE:
            return query.filter(~running.exists())
        return query.filter(running.where(Programme.kind == value).exists())

    def operation(self):
        return _l("est")


def active_counsellors():
    """Counsellors that the signed-in user may choose as a referent (their site's), by name."""
    stmt = sa.select(User).where(User.role == "counsellor", User.active).order_by(User.full_name)
    clause = scope.clause_for(User, current_user)
    if clause is not None:
        stmt = stmt.where(clause)
    return db.session.scalars(stmt).all()


def sites_in_scope():
    """Sites a young person may be attached to by the signed-in user (a counsellor: their own)."""
    stmt = sa.select(Site).order_by(Site.name)
    if current_user.role != "admin" and current_user.site_id is not None:
        stmt = stmt.where(Site.id == current_user.site_id)
    return db.session.scalars(stmt).all()


def _name_cell(view, context, model, name):
    """The last name opens the young person's file (the counsellor's way in)."""
    if "file_url" not in g:  # built once per page, not once per row
        g.file_url = url_for("interviews.file", young_person_id=0)[:-1]
    title = escape(_("Ouvrir le dossier"))
    return Markup(f'<a href="{g.file_url}{model.id}" title="{title}">{escape(model.last_name)}</a>')


def _status_cell(view, context, model, name):
    return badge(vocab.YOUTH_STATUSES.label(model.status), STATUS_BADGES.get(model.status, "light"))


def _age_cell(view, context, model, name):
    if model.age is None:
        return ""
    warning = model.eligibility_warning
    if warning:
        return Markup('{} <span class="text-warning" title="{}">⚠</span>').format(
            model.age, warning
        )
    return model.age


def _programme_kind(view, model) -> str:
    """The running programme's kind: on a list page, read for all its rows in one query;
    elsewhere (details page) from the young person's programmes."""
    if g.get("page_rows", {}).get(view.endpoint) is None:
        programme = model.current_programme
        return programme.kind if programme else ""
    kinds = view.page_extras(
        "programme",
        lambda ids: dict(
            db.session.execute(
                sa.select(Programme.young_person_id, Programme.kind)
                .where(Programme.young_person_id.in_(ids), programme_running_on(dt.date.today()))
                .order_by(Programme.start_date)  # the latest start wins (as current_programme)
            ).all()
        ),
    )
    return kinds.get(model.id, "")


def _programme_cell(view, context, model, name):
    return _programme_kind(view, model)


class YoungPersonView(BackofficeModelView):
    """Jeunes: the files of the young people, searchable by name, e-mail, phone and city."""

    csv_entity = "youths"
    export_types = ["csv", "xlsx"]
    # No JOIN nor subquery in the page's query (PostgreSQL computes them for each of the 40,000
    # rows an OFFSET skips at page 2,000): the site and referent cells take their names from the
    # filters' options (related_cell), the running programmes are read for the page at once.
    column_auto_select_related = False

    permissions = {
        "list": ALL_ROLES,
        "details": ALL_ROLES,
        "create": frozenset({"admin", "counsellor"}),
        "edit": frozenset({"admin", "counsellor"}),
        "delete": ADMIN,
        "export": frozenset({"admin", "manager"}),
    }
    column_list = [
        "last_name",
        "first_name",
        "age",
        "site",
        "referent",
        "status",
        "current_programme",
        "city",
        "phone",
    ]
    column_sortable_list = [
        "last_name",
        "first_name",
        ("age", "birth_date"),
        ("site", "site.name"),
        ("referent", "referent.full_name"),
        "status",
        "city",
        "registration_date",
    ]
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_searchable_list = ["last_name", "first_name", "email", "phone", "city"]
    column_filters = [
        RelatedEqualFilter(YoungPerson.site_id, _l("Antenne"), Site, order_by=Site.name),
        RelatedEqualFilter(
            YoungPerson.referent_id,
            _l("Conseiller·ère référent·e"),
            User,
            order_by=User.full_name,
            where=User.role == "counsellor",
        ),
        "status",
        CurrentProgrammeFilter(),
        AgeBandFilter(),
        "education_level",
        "housing_situation",
        "rqth",
        "qpv_resident",
        "driving_licence",
        "registration_date",
        "city",
    ]
    column_details_list = [
        "last_name",
        "first_name",
        "birth_date",
        "age",
        "gender",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "registration_date",
        "site",
        "referent",
        "status",
        "exit_reason",
        "exit_date",
        "current_programme",
        "programmes",
        "education_level",
        "rqth",
        "qpv_resident",
        "driving_licence",
        "has_vehicle",
        "housing_situation",
        "resources",
        "rgpd_consent_date",
        "created_at",
        "updated_at",
    ]
    column_formatters = {
        "last_name": _name_cell,
        "site": related_cell("site", "site_id"),
        "referent": related_cell("referent", "referent_id"),
        "status": _status_cell,
        "age": _age_cell,
        "current_programme": _programme_cell,
    }
    column_formatters_export = {
        "age": lambda v, c, m, n: m.age,
        "current_programme": lambda v, c, m, n: _programme_kind(v, m),
    }
    column_export_list = [
        "last_name",
        "first_name",
        "birth_date",
        "age",
        "gender",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "registration_date",
        "site",
        "referent",
        "status",
        "current_programme",
    ]
    form_columns = [
        "last_name",
        "first_name",
        "birth_date",
        "gender",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "registration_date",
        "site",
        "referent",
        "status",
        "exit_reason",
        "exit_date",
        "exit_situation",
        "education_level",
        "rqth",
        "qpv_resident",
        "driving_licence",
        "has_vehicle",
        "housing_situation",
        "resources",
        "rgpd_consent_date",
        "programmes",
    ]
    form_args = {
        "last_name": {"validators": [DataRequired(), v.NAME]},
        "first_name": {"validators": [DataRequired(), v.NAME]},
        "birth_date": {"validators": [InputRequired(), v.plausible_birth_date]},
        "email": {"validators": v.optional(v.EMAIL)},
        "phone": {"validators": v.optional(v.PHONE)},
        "postcode": {"validators": v.optional(v.POSTCODE)},
        "site": {"validators": [DataRequired()], "query_factory": sites_in_scope},
        "referent": {"query_factory": active_counsellors, "blank_text": _l("— aucun —")},
        "status": {"validators": [v.exit_details_when_exited]},
        "exit_date": {
            "validators": [
                v.not_before("registration_date", _l("La sortie précède l'inscription.")),
            ]
        },
    }
    inline_models = [
        (
            Programme,
            {
                "form_columns": [
                    "id",
                    "kind",
                    "start_date",
                    "planned_end_date",
                    "actual_end_date",
                    "end_reason",
                ],
                "form_label": _l("Programme (PACEA ou CEJ)"),
                "column_labels": {
                    "kind": _l("Programme"),
                    "start_date": _l("Début"),
                    "planned_end_date": _l("Fin prévue"),
                    "actual_end_date": _l("Fin effective"),
                    "end_reason": _l("Motif de fin"),
                },
                "form_overrides": {"kind": Select2Field, "end_reason": Select2Field},
                "form_args": {
                    "kind": {"choices": translated(vocab.PROGRAMME_KINDS)},
                    "end_reason": {
                        "choices": translated(vocab.PROGRAMME_END_REASONS),
                        "allow_blank": True,
                    },
                    "start_date": {"validators": [InputRequired()]},
                    "planned_end_date": {
                        "validators": [v.not_before("start_date", _l("La fin précède le début."))]
                    },
                    "actual_end_date": {
                        "validators": [v.not_before("start_date", _l("La fin précède le début."))]
                    },
                },
            },
        )
    ]

    form_extra_fields = {
        # An exit says where the young person goes: recorded as a situation from the exit
        # date (``domain.situations``), the outcome the activity report counts.
        "exit_situation": SelectField(
            _l("Situation à la sortie"),
            choices=[("", _l("— non connue —")), *translated(vocab.SITUATION_KINDS)],
            description=_l("Enregistrée dans ses situations à la date de sortie."),
            default="",
            validate_choice=False,  # checked by the one rule (domain.situations)
        ),
    }

    def on_model_change(self, form, model, is_created):
        self._exit_situation(form, model)
        programmes = [p for p in model.programmes if p.start_date is not None]
        for index, first in enumerate(programmes):
            for second in programmes[index + 1 :]:
                if periods_overlap(
                    first.start_date,
                    first.actual_end_date,
                    second.start_date,
                    second.actual_end_date,
                ):
                    raise ValidationError(
                        _(
                            "Deux programmes se chevauchent (%(a)s et %(b)s) : un jeune n'en suit "
                            "qu'un à la fois, PACEA et CEJ ne se cumulent pas.",
                            a=first.kind,
                            b=second.kind,
                        )
                    )

    def _exit_situation(self, form, model) -> None:
        kind = getattr(form, "exit_situation", None) and form.exit_situation.data
        if not kind:
            return
        if model.status != "exited" or model.exit_date is None:
            raise ValidationError(
                _("La situation à la sortie va avec le statut « Sorti » et sa date de sortie.")
            )
        db.session.flush()  # a new young person gets its id
        already = db.session.scalar(
            sa.select(Situation.id).where(
                Situation.young_person_id == model.id,
                Situation.kind == kind,
                Situation.start_date == model.exit_date,
            )
        )
        if already is None:
            try:
                situations.record(
                    db.session,
                    model.id,
                    {
                        "kind": kind,
                        "start_date": model.exit_date,
                        "end_date": None,
                        "organisation": None,
                        "hours_per_week": None,
                    },
                )
            except situations.SituationRefused as refusal:
                raise ValidationError(_(str(refusal))) from refusal

    def after_model_change(self, form, model, is_created):
        warning = model.eligibility_warning
        if warning:
            flash(warning, "warning")

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET" and current_user.role == "counsellor":
            # A counsellor registers young people on their site and, by default, follows them.
            form.site.data = form.site.data or db.session.get(Site, current_user.site_id)
            form.referent.data = form.referent.data or current_user._get_current_object()
        return form

    # --- consultation log ----------------------------------------------------------------------

    @expose("/details/")
    def details_view(self):
        """Opening a file is recorded (who, when); the referent and managers see its viewers."""
        record = self.get_one(request.args.get("id"))
        viewers = None
        if record is not None:
            db.session.add(Consultation(young_person_id=record.id, user_id=current_user.id))
            db.session.commit()
            if current_user.role in ("admin", "manager") or record.referent_id == current_user.id:
                viewers = db.session.scalars(
                    sa.select(Consultation)
                    .where(Consultation.young_person_id == record.id)
                    .order_by(Consultation.at.desc(), Consultation.id.desc())
                    .limit(20)
                ).all()
        self._template_args["viewers"] = viewers
        return super().details_view()


def _progress_cell(view, context, model, name):
    from ..domain.interviews import verdict_of

    verdict = verdict_of(
        model.stalling, model.last_interview_at, dt.date.today(), status=model.status
    )
    if not verdict.flagged:
        return ""
    return Markup('<span class="badge badge-warning" title="{}">{}</span>').format(
        " ".join(_(r, **verdict.params) for r in verdict.reasons), _("sans progression")
    )


class StalledFilter(BaseSQLAFilter):
    """Suivi: the young people flagged *sans progression* today (or the others)."""

    def __init__(self):
        super().__init__(
            YoungPerson.stalling,
            _l("Suivi"),
            options=[("1", _l("sans progression")), ("0", _l("en progression"))],
        )

    def validate(self, value):
        return value in ("0", "1")

    def apply(self, query, value, alias=None):
        from ..domain.interviews import stalled_clause

        clause = stalled_clause(dt.date.today())
        return query.filter(clause if value == "1" else ~clause)

    def operation(self):
        return _l("est")


class MyYoungPeopleView(YoungPersonView):
    """Mes jeunes: the counsellor's own caseload, the young people they are referent of, with
    those going in circles flagged."""

    permissions = {**YoungPersonView.permissions, "list": frozenset({"counsellor"})}
    csv_imports = False  # the young people are imported from *Jeunes*
    column_list = [*YoungPersonView.column_list, "progress"]
    column_labels = {"progress": _l("Suivi")}
    column_formatters = {**YoungPersonView.column_formatters, "progress": _progress_cell}
    column_filters = [StalledFilter(), *YoungPersonView.column_filters]

    def scope_clause(self):
        clause = super().scope_clause()
        mine = YoungPerson.referent_id == current_user.id
        return mine if clause is None else sa.and_(clause, mine)


class CounsellorView(BackofficeModelView):
    """Conseillers: the counsellors and the number of young people each one follows."""

    permissions = {
        "list": ALL_ROLES,
        "details": ALL_ROLES,
        "create": ADMIN,
        "edit": ADMIN,
        "delete": ADMIN,
        "export": frozenset({"admin", "manager"}),
    }
    column_list = ["full_name", "email", "phone", "site", "caseload_count", "active"]
    column_sortable_list = ["full_name", "email", ("site", "site.name"), "caseload_count", "active"]
    column_default_sort = "full_name"
    column_searchable_list = ["full_name", "email", "phone"]
    column_filters = [
        RelatedEqualFilter(User.site_id, _l("Antenne"), Site, order_by=Site.name),
        "active",
    ]
    column_details_list = [
        "full_name",
        "email",
        "phone",
        "site",
        "caseload_count",
        "active",
        "created_at",
    ]
    form_columns = ["full_name", "email", "phone", "site", "active"]
    form_args = {
        "full_name": {"validators": [DataRequired()]},
        "email": {"validators": [DataRequired(), v.EMAIL]},
        "phone": {"validators": v.optional(v.PHONE)},
    }

    def scope_clause(self):
        clause = super().scope_clause()
        counsellors = User.role == "counsellor"
        return counsellors if clause is None else sa.and_(clause, counsellors)

    def get_query(self):
        return (
            super()
            .get_query()
            .options(sa.orm.undefer(User.caseload_count), sa.orm.joinedload(User.site))
        )

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        if is_created:
            model.role = "counsellor"


class AccountView(BackofficeModelView):
    """Comptes: every staff account, its role and site; admins set or reset passwords here."""

    csv_entity = "counsellors"
    export_types = ["csv", "xlsx"]

    permissions = {op: ADMIN for op in ("list", "details", "create", "edit", "delete", "export")}
    column_list = ["full_name", "email", "role", "site", "active", "locale"]
    column_sortable_list = ["full_name", "email", "role", ("site", "site.name"), "active"]
    column_default_sort = "full_name"
    column_searchable_list = ["full_name", "email", "phone"]
    column_details_list = [
        "full_name",
        "email",
        "phone",
        "role",
        "site",
        "active",
        "locale",
        "created_at",
        "updated_at",
    ]
    column_export_exclude_list = ["password_hash"]
    form_columns = [
        "full_name",
        "email",
        "phone",
        "role",
        "site",
        "active",
        "locale",
        "new_password",
    ]
    form_extra_fields = {
        "new_password": PasswordField(
            _l("Nouveau mot de passe"),
            validators=[v.password_strength],
            description=_l("Laisser vide pour ne pas le changer. 12 caractères au moins."),
        )
    }
    form_args = {
        "full_name": {"validators": [DataRequired()]},
        "email": {"validators": [DataRequired(), v.EMAIL]},
        "phone": {"validators": v.optional(v.PHONE)},
    }

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip().lower()
        if form.new_password.data:
            model.set_password(form.new_password.data)

    operation_of = {**BackofficeModelView.operation_of, "action_view": "edit"}

    @action(
        "end_sessions",
        _l("Déconnecter partout"),
        _l("Fermer toutes les sessions ouvertes de ces comptes, sur tous les postes ?"),
    )
    def action_end_sessions(self, ids):
        """End every open session of the chosen accounts (a lost phone, a shared computer)."""
        numbers = [n for n in (values.parse_id(i) for i in ids) if n is not None]
        accounts = self.get_query().filter(User.id.in_(numbers)).all()
        for account in accounts:
            account.end_sessions()
        db.session.commit()
        flash(
            ngettext(
                "%(num)d compte déconnecté de toutes ses sessions.",
                "%(num)d comptes déconnectés de toutes leurs sessions.",
                len(accounts),
            ),
            "success",
        )


class SiteView(BackofficeModelView):
    """Sites: the local offices (antennes) of the mission locale."""

    csv_entity = "sites"
    export_types = ["csv", "xlsx"]

    column_list = ["name", "address", "postcode", "city"]
    column_default_sort = "name"
    column_searchable_list = ["name", "city", "postcode"]
    column_filters = ["city"]
    form_columns = ["name", "address", "postcode", "city"]
    form_args = {
        "name": {"validators": [DataRequired()]},
        "postcode": {"validators": v.optional(v.POSTCODE)},
    }
