"""Screens of the catalogue: partners, the aid catalogue (the toolbox), and the reference lists.

These screens are mostly declaration: the base view derives labels, choices and filters from the
model. Adding one more catalogue model takes a model, a class of a few lines here and one line in
``views/__init__.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.validators import DataRequired, NumberRange, Regexp

from ..domain.values import format_quantity
from ..models import DiagnosisSituation, Partner, Theme, partner_theme
from . import validators as v
from .base import ALL_ROLES, BackofficeModelView, RelatedEqualFilter


class ThemeFilter(RelatedEqualFilter):
    """Partners serving a given activity theme."""

    def __init__(self):
        super().__init__(Partner.id, _l("Thématique"), Theme, order_by=Theme.id)

    def apply(self, query, value, alias=None):
        served = sa.select(partner_theme.c.partner_id).where(partner_theme.c.theme_id == value)
        return query.filter(Partner.id.in_(served))


def _themes_cell(view, context, model, name):
    return ", ".join(str(theme) for theme in model.themes)


def _website_cell(view, context, model, name):
    if not model.website:
        return ""
    return Markup('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>').format(
        model.website
    )


class PartnerView(BackofficeModelView):
    """Partenaires: who the mission locale refers young people to."""

    csv_entity = "partners"
    export_types = ["csv", "xlsx"]

    column_list = ["name", "kind", "themes", "city", "phone", "email", "active"]
    column_sortable_list = ["name", "kind", "city", "active"]
    column_default_sort = "name"
    column_searchable_list = ["name", "contact_name", "email", "phone", "city", "siret"]
    column_filters = [
        "kind",
        "active",
        ThemeFilter(),
        "city",
        "postcode",
    ]
    column_details_list = [
        "name",
        "kind",
        "themes",
        "contact_name",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "siret",
        "website",
        "active",
        "notes",
        "created_at",
        "updated_at",
    ]
    column_formatters = {"themes": _themes_cell, "website": _website_cell}
    column_formatters_export = {"themes": _themes_cell}
    form_columns = [
        "name",
        "kind",
        "themes",
        "contact_name",
        "email",
        "phone",
        "address",
        "postcode",
        "city",
        "siret",
        "website",
        "active",
        "notes",
    ]
    form_args = {
        "name": {"validators": [DataRequired()]},
        "kind": {"validators": [DataRequired()]},
        "email": {"validators": v.optional(v.EMAIL)},
        "phone": {"validators": v.optional(v.PHONE)},
        "postcode": {"validators": v.optional(v.POSTCODE)},
        "siret": {"validators": [v.siret]},
        "website": {"validators": v.optional(v.URL)},
    }


def _amount_cell(view, context, model, name):
    """An amount in the aid's own unit: 1 500 €, 10 tickets, 3 séances."""
    return format_quantity(getattr(model, name), model.unit)


def _budget_cell(view, context, model, name):
    import datetime as dt

    from ..domain.referrals import budgets_of
    from ..extensions import db

    if model.yearly_budget is None:
        return ""
    # The page's budgets, read together the first time a row asks (one query, not one per row).
    budgets = view.page_extras(
        "budgets", lambda ids: budgets_of(db.session, ids, dt.date.today().year)
    )
    budget = (
        budgets.get(model.id) or budgets_of(db.session, [model.id], dt.date.today().year)[model.id]
    )

    def money(value):
        return format_quantity(value, model.unit)

    return Markup(
        '<span class="small text-nowrap">{} : {} · {} : {} · <b>{} : {}</b></span>'
    ).format(
        _l("accordé"),
        money(budget["granted"]),
        _l("payé"),
        money(budget["paid"]),
        _l("reste"),
        money(budget["remaining"]),
    )


class AidTypeView(BackofficeModelView):
    """Catalogue des aides: what the mission locale can grant or mobilise, with its budget."""

    csv_entity = "aids"
    export_types = ["csv", "xlsx"]

    column_list = [
        "code",
        "name",
        "category",
        "unit",
        "default_amount",
        "yearly_budget",
        "budget",
        "ceiling_per_youth",
        "delegation_threshold",
        "partner",
        "active",
    ]
    column_labels = {
        "budget": _l("Cette année"),
        "delegation_threshold": _l("Accord direct jusqu'à"),
    }
    column_sortable_list = [
        "code",
        "name",
        "category",
        "default_amount",
        "yearly_budget",
        "ceiling_per_youth",
        ("partner", "partner.name"),
        "active",
    ]
    column_default_sort = "code"
    column_formatters = {
        "budget": _budget_cell,
        "default_amount": _amount_cell,
        "yearly_budget": _amount_cell,
        "ceiling_per_youth": _amount_cell,
        "delegation_threshold": _amount_cell,
    }
    column_searchable_list = ["code", "name", "description"]
    form_columns = [
        "code",
        "name",
        "category",
        "description",
        "unit",
        "default_amount",
        "yearly_budget",
        "ceiling_per_youth",
        "delegation_threshold",
        "partner",
        "active",
    ]
    _amount = {"validators": [v.Optional(), NumberRange(min=0, message=_l("Montant positif."))]}
    form_args = {
        "code": {
            "filters": [lambda value: value.strip().upper() if isinstance(value, str) else value],
            "validators": [
                DataRequired(),
                Regexp(
                    r"^[A-Z0-9_-]{2,32}$",
                    message=_l("Code en majuscules, chiffres, - ou _ (2 à 32 caractères)."),
                ),
            ],
        },
        "name": {"validators": [DataRequired()]},
        "category": {"validators": [DataRequired()]},
        "default_amount": _amount,
        "yearly_budget": _amount,
        "ceiling_per_youth": _amount,
        "delegation_threshold": {
            **_amount,
            "description": _l(
                "Jusqu'à ce montant, le conseiller accorde l'aide directement (tracé dans le "
                "suivi) ; au-delà, ou si vide, la demande est instruite et décidée par la "
                "direction."
            ),
        },
    }

    def on_model_change(self, form, model, is_created):
        model.code = model.code.strip().upper()


class ReferenceView(BackofficeModelView):
    """Référentiels: read by everyone, edited by the administrative staff (the base default)."""

    permissions = {**BackofficeModelView.permissions, "list": ALL_ROLES}


class ThemeView(ReferenceView):
    column_list = ["code", "name", "default_hours"]
    column_default_sort = "id"
    form_columns = ["code", "name", "default_hours"]


class DiagnosisDomainView(ReferenceView):
    column_list = ["position", "code", "name", "situations"]
    column_default_sort = "position"
    column_formatters = {
        "situations": lambda view, context, model, name: ", ".join(
            s.label for s in model.situations
        )
    }
    form_columns = ["position", "code", "name", "description", "situations"]
    inline_models = [
        (
            DiagnosisSituation,
            {
                "form_columns": ["id", "position", "label"],
                "form_label": _l("Situation"),
                "column_labels": {"position": _l("Ordre"), "label": _l("Libellé")},
            },
        )
    ]


class DiagnosisSituationView(ReferenceView):
    csv_entity = "diagnosis"
    export_types = ["csv", "xlsx"]
    column_list = ["domain", "position", "label"]
    column_sortable_list = [("domain", "domain.position"), "position", "label"]
    column_default_sort = [("domain.position", False), ("position", False)]
    form_columns = ["domain", "position", "label"]
