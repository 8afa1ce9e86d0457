"""The audit trail: session listeners that record every insert, update and delete.

Whatever the path (a screen, the CLI, an import, a workflow), a write goes through a SQLAlchemy
session; the listeners below turn each flushed change into an ``AuditEvent`` row in the same
transaction, so a rolled-back change leaves no trace and a committed one always has its event.
Who acted is read from ``session.info`` (``set_actor``), which the web layer sets per request and
the CLI per command. Plain Python: no Flask import.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from ..models import (
    AuditEvent,
    Consultation,
    ImportRun,
    Notification,
    OutboxMessage,
    SchedulerLock,
    WorkflowEvent,
    utcnow,
)

ACTOR_KEY = "audit_actor"
PENDING_KEY = "audit_pending"
SYSTEM = "système"
#: What the trail holds instead of a sensitive value (the column says ``info={"sensitive":
#: True}``): that it was filled or changed, never what it says.
HIDDEN = "(contenu non conservé)"
#: Columns that change with every write and say nothing about it.
SILENT_COLUMNS = frozenset(
    {
        "created_at",
        "updated_at",
        "version",
        "search_text",
        "stalling",
        "last_interview_at",
        "held_at",
        "previous_held_at",
        "previous_assessed_at",
        "next_assessed_at",
        "has_proposal",
    }
)
#: Tables that are logs themselves, or the mail and notices a change leaves (the change itself
#: is in the trail).
NOT_AUDITED = (
    AuditEvent,
    Consultation,
    ImportRun,
    WorkflowEvent,
    OutboxMessage,
    Notification,
    SchedulerLock,
)


def set_actor(session: Session, actor_id: int | None, label: str) -> None:
    """Name who is acting for the writes that follow in this session."""
    session.info[ACTOR_KEY] = (actor_id, label)


def actor_of(session: Session) -> tuple[int | None, str]:
    return session.info.get(ACTOR_KEY, (None, SYSTEM))


def serialise(value):
    """A JSON-friendly form of a column value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def sensitive_columns(table: sa.Table) -> frozenset[str]:
    """The columns of ``table`` whose content never goes to the trail."""
    return frozenset(c.key for c in table.c if c.info.get("sensitive"))


def snapshot_values(table: sa.Table, values: dict) -> dict:
    """The trail's record of a created or deleted row: every filled column, serialised, with
    sensitive ones hidden. One builder for the session listener and the bulk import."""
    hidden = sensitive_columns(table)
    return {
        key: HIDDEN if key in hidden else serialise(value)
        for key, value in values.items()
        if value is not None and key not in SILENT_COLUMNS
    }


def change_values(table: sa.Table, changes: dict) -> dict:
    """The trail's record of an update: ``{column: [old, new]}``, sensitive ones hidden (it
    says they changed, not from what to what)."""
    hidden = sensitive_columns(table)
    return {
        key: [HIDDEN, HIDDEN] if key in hidden else [serialise(old), serialise(new)]
        for key, (old, new) in changes.items()
        if key not in SILENT_COLUMNS
    }


def _audited(obj) -> bool:
    return hasattr(obj, "__table__") and not isinstance(obj, NOT_AUDITED)


def _snapshot(obj) -> dict:
    """Every filled column of ``obj``, for inserts and deletes."""
    mapper = sa.inspect(obj).mapper
    return snapshot_values(
        mapper.local_table, {c.key: getattr(obj, c.key) for c in mapper.column_attrs}
    )


def _stored_values(session: Session, obj, keys: list[str]) -> dict:
    """The values still in the database, for attributes set while unloaded (expired objects)."""
    mapper = sa.inspect(obj).mapper
    table = mapper.local_table
    pk = mapper.primary_key_from_instance(obj)
    row = (
        session.connection()
        .execute(
            sa.select(*[table.c[mapper.get_property(k).columns[0].key] for k in keys]).where(
                *[column == value for column, value in zip(mapper.primary_key, pk, strict=True)]
            )
        )
        .first()
    )
    return dict(zip(keys, row, strict=True)) if row is not None else {}


def _updates(session: Session, obj) -> dict:
    """``{field: [old, new]}`` for each column (and many-to-many collection) that changed."""
    changes = {}
    mapper = sa.inspect(obj).mapper
    unknown_old = []
    for column in mapper.column_attrs:
        if column.key in SILENT_COLUMNS:
            continue
        history = attributes.get_history(obj, column.key)
        if not history.has_changes():
            continue
        if not history.deleted and not history.unchanged:
            unknown_old.append(column.key)  # set on an expired object: old value not loaded
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        changes[column.key] = [old, new]
    if unknown_old:
        for key, value in _stored_values(session, obj, unknown_old).items():
            changes[key][0] = value
    changes = change_values(
        mapper.local_table, {key: pair for key, pair in changes.items() if pair[0] != pair[1]}
    )
    for relation in mapper.relationships:
        if relation.secondary is None:
            continue
        history = attributes.get_history(obj, relation.key)
        if history.added or history.deleted:
            before = [str(o) for o in (history.unchanged or ())] + [str(o) for o in history.deleted]
            after = [str(o) for o in (history.unchanged or ())] + [str(o) for o in history.added]
            changes[relation.key] = [sorted(before), sorted(after)]
    return changes


def _before_flush(session: Session, flush_context, instances) -> None:
    pending = session.info.setdefault(PENDING_KEY, [])
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj):
            changes = _updates(session, obj)
            if changes:
                version = getattr(obj, "version", None)
                pending.append(("update", obj, changes, (version or 0) + 1 if version else None))
    for obj in session.deleted:
        if _audited(obj):
            pending.append(("delete", obj, _snapshot(obj), getattr(obj, "version", None)))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop(PENDING_KEY, [])
    for obj in session.new:
        if _audited(obj):
            pending.append(("insert", obj, _snapshot(obj), getattr(obj, "version", None)))
    if not pending:
        return
    actor_id, label = actor_of(session)
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor_id": actor_id,
            "actor_label": label,
            "action": action,
            "entity": obj.__tablename__,
            "entity_id": sa.inspect(obj).mapper.primary_key_from_instance(obj)[0],
            "record_version": version,
            "changes": changes,
            **_parent(obj),
        }
        for action, obj, changes, version in pending
    ]
    session.connection().execute(sa.insert(AuditEvent.__table__), rows)


def _parent(obj) -> dict:
    """Records attached to a young person are filed under their young person too."""
    young_person_id = getattr(obj, "young_person_id", None)
    if young_person_id is None:
        return {"parent_entity": None, "parent_id": None}
    return {"parent_entity": "young_person", "parent_id": young_person_id}


def _after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING_KEY, None)


def record_bulk_insert(session: Session, entity: str, count: int, note: str) -> None:
    """The bulk loaders write with Core INSERTs, outside the listeners: they record one event."""
    actor_id, label = actor_of(session)
    session.connection().execute(
        sa.insert(AuditEvent.__table__),
        [
            {
                "at": utcnow(),
                "actor_id": actor_id,
                "actor_label": label,
                "action": "bulk_insert",
                "entity": entity,
                "entity_id": None,
                "record_version": None,
                "changes": {"count": count, "note": note},
            }
        ],
    )


def install() -> None:
    """Attach the listeners to every SQLAlchemy session (idempotent)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("after_soft_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def history_of(session: Session, entity: str, entity_id: int, limit: int = 200):
    """The events of one record and of the records filed under it, newest first."""
    return session.scalars(
        sa.select(AuditEvent)
        .where(
            sa.or_(
                sa.and_(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id),
                sa.and_(AuditEvent.parent_entity == entity, AuditEvent.parent_id == entity_id),
            )
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()


def changes_since(session: Session, entity: str, entity_id: int, version: int):
    """Updates of one record made after it was at ``version`` (oldest first)."""
    return session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity == entity,
            AuditEvent.entity_id == entity_id,
            AuditEvent.action == "update",
            AuditEvent.record_version > version,
        )
        .order_by(AuditEvent.id)
    ).all()
