"""Journal: the global audit screen, for admins only; nobody edits or deletes an event."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..models import AuditEvent, User
from .base import ADMIN, BackofficeModelView, RelatedEqualFilter

ACTIONS = [
    ("insert", _l("Création")),
    ("update", _l("Modification")),
    ("delete", _l("Suppression")),
    ("bulk_insert", _l("Chargement")),
]
ENTITIES = [
    ("young_person", _l("Jeune")),
    ("programme", _l("Programme")),
    ("user_account", _l("Compte")),
    ("site", _l("Antenne")),
    ("partner", _l("Partenaire")),
    ("aid_type", _l("Aide")),
    ("theme", _l("Thématique")),
    ("diagnosis_domain", _l("Domaine du diagnostic")),
    ("diagnosis_situation", _l("Situation")),
]


def _changes_cell(view, context, model, name):
    items = []
    for field, value in (model.changes or {}).items():
        label = view.field_label(field)
        if model.action == "update":
            items.append(Markup("<b>{}</b> : <del>{}</del> → {}").format(label, value[0], value[1]))
        else:
            items.append(Markup("<b>{}</b> = {}").format(label, value))
    return Markup("<br>").join(items)


class AuditEventView(BackofficeModelView):
    """Every write, filterable by actor, entity, action and date range."""

    permissions = {"list": ADMIN, "details": ADMIN, "export": ADMIN}
    column_list = ["at", "actor_label", "action", "entity", "entity_id", "changes"]
    column_default_sort = ("at", True)
    column_sortable_list = ["at", "actor_label", "action", "entity", "entity_id"]
    column_searchable_list = ["actor_label", "entity"]
    column_labels = {
        "at": _l("Quand"),
        "actor_label": _l("Qui"),
        "action": _l("Action"),
        "entity": _l("Fiche"),
        "entity_id": _l("N°"),
        "changes": _l("Changements"),
        "record_version": _l("Version"),
    }
    column_choices = {"action": ACTIONS, "entity": ENTITIES}
    column_filters = [
        RelatedEqualFilter(AuditEvent.actor_id, _l("Qui"), User, order_by=User.full_name),
        "entity",
        "action",
        "at",
        "entity_id",
    ]
    column_formatters = {"changes": _changes_cell}
    column_details_list = [
        "at",
        "actor_label",
        "action",
        "entity",
        "entity_id",
        "record_version",
        "changes",
    ]
    can_set_page_size = True

    def history_of(self, model):  # the journal is its own history
        return []

    def get_query(self):
        return super().get_query().options(sa.orm.joinedload(AuditEvent.actor))
