"""Journal: the global audit screen, for admins only; nobody edits or deletes an event."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..models import AuditEvent, User
from . import journal
from .base import ADMIN, BackofficeModelView, RelatedEqualFilter
from .labels import ENTITY_LABELS

ACTIONS = [(code, _l(label)) for code, label in journal.ACTIONS.items()]
ENTITIES = list(ENTITY_LABELS.items())


def _changes_cell(view, context, model, name):
    item = g.get("journal", {}).get(model.id)
    if item is None:
        [item] = journal.describe([model])
    lines = [
        Markup("<b>{}</b> : <del>{}</del> → {}").format(line.label, line.old, line.new)
        if line.old is not None
        else Markup("<b>{}</b> : {}").format(line.label, line.new)
        for line in item.lines
    ]
    return Markup("<br>").join(lines)


def _changes_text(model) -> str:
    [item] = journal.describe([model])
    return " · ".join(
        f"{line.label} : {line.old} → {line.new}"
        if line.old is not None
        else f"{line.label} : {line.new}"
        for line in item.lines
    )


class AuditEventView(BackofficeModelView):
    """Every write, filterable by actor, entity, action and date range."""

    permissions = {"list": ADMIN, "details": ADMIN, "export": ADMIN}
    column_list = ["at", "actor_label", "action", "entity", "entity_id", "changes"]
    column_default_sort = ("at", True)
    count_bound = 10_000  # a million events: "plus de 10 000" rather than a count of them all
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
    column_formatters_export = {"changes": lambda v, c, m, n: _changes_text(m)}
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

    def get_list(self, *args, **kwargs):
        """The page's events, described in French in a few queries for the whole page."""
        count, data = super().get_list(*args, **kwargs)
        if data is not None and kwargs.get("execute", True):
            data = list(data)
            g.journal = {item.event.id: item for item in journal.describe(data)}
        return count, data
