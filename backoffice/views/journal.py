"""The audit trail as staff read it: French labels for records and fields, codes shown as their
words, ids as the record's name, dates the French way, times in Paris time, and sensitive
fields as "modifié" without their content (the trail never held it).

One reader for the *Journal* and every *Historique* tab. Names are loaded in one query per
kind of record for a whole page of events, never one per event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _

from ..domain import audit, values
from ..domain.vocabularies import N_, Vocabulary
from ..extensions import db
from ..models import vocabularies_of
from .labels import ENTITY_LABELS, FIELD_LABELS

ACTIONS = {
    "insert": N_("Création"),
    "update": N_("Modification"),
    "delete": N_("Suppression"),
    "bulk_insert": N_("Chargement"),
}


@dataclass
class Line:
    label: str
    old: str | None  # None for a creation or deletion (the value alone)
    new: str


@dataclass
class DescribedEvent:
    event: object
    entity_label: str
    action_label: str
    lines: list[Line] = field(default_factory=list)


def _models_by_table() -> dict[str, type]:
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in db.Model.registry.mappers
        if hasattr(mapper.class_, "__tablename__")
    }


def entity_label(entity: str) -> str:
    return str(ENTITY_LABELS.get(entity, FIELD_LABELS.get(entity, entity)))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name.replace("_", " ")))


class _Reader:
    """What each column of each table holds, to show its stored value in French."""

    def __init__(self):
        self.models = _models_by_table()
        self.names: dict[str, dict[int, str]] = {}

    def column(self, entity: str, name: str):
        model = self.models.get(entity)
        if model is None:
            return None, None
        table = model.__table__
        return (table.c[name] if name in table.c else None), vocabularies_of(model).get(name)

    def reference(self, entity: str, name: str) -> str | None:
        """The table a foreign key column points to."""
        column, _vocabulary = self.column(entity, name)
        if column is None or not column.foreign_keys:
            return None
        return next(iter(column.foreign_keys)).column.table.name

    def load_names(self, wanted: dict[str, set[int]]) -> None:
        for table, ids in wanted.items():
            model = self.models.get(table)
            if model is None or not ids:
                continue
            known = self.names.setdefault(table, {})
            missing = [i for i in ids if i not in known]
            if missing:
                for record in db.session.scalars(sa.select(model).where(model.id.in_(missing))):
                    known[record.id] = str(record)

    def show(self, entity: str, name: str, value, hidden_word: str) -> str:
        if value is None or value == "":
            return "—"
        if value == audit.HIDDEN:
            return hidden_word
        column, vocabulary = self.column(entity, name)
        target = self.reference(entity, name)
        if target is not None and isinstance(value, int):
            return self.names.get(target, {}).get(value, f"n° {value} (supprimé)")
        if isinstance(vocabulary, Vocabulary):
            return _(vocabulary.label(value)) if isinstance(value, str) else str(value)
        if isinstance(value, bool):
            return _("oui") if value else _("non")
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or "—"
        kind = column.type if column is not None else None
        if isinstance(value, str) and isinstance(kind, sa.DateTime):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            return format_datetime(moment, "dd/MM/yyyy HH:mm")  # stored UTC, shown in Paris
        if isinstance(value, str) and isinstance(kind, sa.Date):
            try:
                return values.format_date(dt.date.fromisoformat(value[:10]))
            except ValueError:
                return value
        if isinstance(value, str | int | float) and isinstance(kind, sa.Numeric):
            try:
                return values.format_decimal(
                    Decimal(str(value)), places=kind.scale or 0, grouped=True
                )
            except (InvalidOperation, ValueError):
                return str(value)
        return str(value)


def describe(events) -> list[DescribedEvent]:
    """The events in French, ready to show (names loaded in a few queries for all of them)."""
    reader = _Reader()
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        for name, value in (event.changes or {}).items():
            target = reader.reference(event.entity, name)
            if target is None:
                continue
            for item in value if event.action == "update" else [value]:
                if isinstance(item, int):
                    wanted[target].add(item)
    reader.load_names(wanted)
    described = []
    for event in events:
        item = DescribedEvent(
            event,
            entity_label(event.entity),
            _(ACTIONS.get(event.action, event.action)),
        )
        for name, value in (event.changes or {}).items():
            if name == "id":
                continue  # the record's number is in its own column
            label = field_label(name)
            if event.action == "update" and isinstance(value, list) and len(value) == 2:
                old = reader.show(event.entity, name, value[0], _("modifié"))
                new = reader.show(event.entity, name, value[1], _("modifié"))
                if value[0] == audit.HIDDEN:
                    item.lines.append(Line(label, None, _("modifié (contenu non conservé)")))
                else:
                    item.lines.append(Line(label, old, new))
            else:
                item.lines.append(
                    Line(label, None, reader.show(event.entity, name, value, _("renseigné")))
                )
        described.append(item)
    return described
