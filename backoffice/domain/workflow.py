"""Declared state machines: states and transitions as data, fired through one function.

``fire`` checks the role, the current state, the record's version (no lost update), the fields
the transition requires and its guard; then it writes the new state, the transition's fields and
an append-only event (who, when, from, to, comment) in the caller's transaction. Screens show
only ``available(...)`` transitions; help pages draw the diagram from the same declaration.
Plain Python: no Flask import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import WorkflowEvent, utcnow


class TransitionRefused(Exception):
    """A transition that may not be fired; ``message`` is French, for the screen."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who fires: a user (id, role) or a partner through the answer link (id None)."""

    user_id: int | None
    role: str  # admin | counsellor | manager | partner | system
    label: str


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    #: fields the transition's form asks for: name -> (label, required)
    fields: tuple[tuple[str, str, bool], ...] = ()
    #: a guard returns None when the transition may happen, else a French message
    guard: Callable[[Session, object, dict, Actor], str | None] | None = None
    #: applies the transition's values to the record (after the guard)
    apply: Callable[[Session, object, dict, Actor], None] | None = None
    #: offered only when this says so about the record (e.g. an aid with a delegation threshold);
    #: firing it otherwise is still refused by the guard
    offered: Callable[[object], bool] | None = None


@dataclass
class Workflow:
    name: str
    entity: str
    states: dict[str, str]  # code -> French label
    transitions: list[Transition] = field(default_factory=list)

    def transition(self, name: str) -> Transition:
        for transition in self.transitions:
            if transition.name == name:
                return transition
        raise TransitionRefused(f"Transition inconnue « {name} ».")

    def available(self, record, actor: Actor) -> list[Transition]:
        """The transitions this actor may fire on this record now."""
        return [
            t
            for t in self.transitions
            if record.status in t.sources
            and actor.role in t.roles
            and (t.offered is None or t.offered(record))
        ]

    def steps(self) -> list[tuple[str, str, str, list[str]]]:
        """Every arrow of the diagram as text: (from state, transition, to state, roles), labels
        in French — the diagram's text alternative (RGAA 1.9)."""
        return [
            (self.states[source], t.label, self.states[t.target], sorted(t.roles))
            for t in self.transitions
            for source in t.sources
        ]

    def mermaid(self, title: str = "", description: str = "") -> str:
        """The state diagram as Mermaid text (rendered on the help page), with its accessible
        title and description when given."""
        lines = ["stateDiagram-v2"]
        if title:
            lines.append(f"    accTitle: {title}")
        if description:
            lines.append(f"    accDescr: {description}")
        for code, label in self.states.items():
            lines.append(f'    state "{label}" as {code}')
        for t in self.transitions:
            for source in t.sources:
                lines.append(f"    {source} --> {t.target}: {t.label}")
        return "\n".join(lines)


#: Called after every transition, in its transaction: ``(session, workflow, record, event,
#: actor)`` — the messages and notifications it causes (``domain/notices.py``).
LISTENERS: list = []


def fire(
    session: Session,
    workflow: Workflow,
    record,
    name: str,
    actor: Actor,
    values: dict | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> WorkflowEvent:
    """Fire transition ``name`` on ``record``; raise ``TransitionRefused`` with the reason."""
    values = dict(values or {})
    transition = workflow.transition(name)
    if actor.role not in transition.roles:
        raise TransitionRefused(f"Votre rôle ne permet pas « {transition.label} ».")
    if record.status not in transition.sources:
        raise TransitionRefused(
            f"« {transition.label} » est impossible depuis l'état "
            f"« {workflow.states.get(record.status, record.status)} »."
        )
    if expected_version is not None and expected_version != record.version:
        raise TransitionRefused("La fiche a changé depuis que vous l'avez ouverte : rechargez-la.")
    for field_name, label, required in transition.fields:
        value = values.get(field_name)
        if isinstance(value, str):
            value = value.strip()
            values[field_name] = value or None
        if required and not values.get(field_name):
            raise TransitionRefused(f"« {label} » est obligatoire pour « {transition.label} ».")
    if transition.guard is not None:
        problem = transition.guard(session, record, values, actor)
        if problem:
            raise TransitionRefused(problem)
    source = record.status
    if transition.apply is not None:
        transition.apply(session, record, values, actor)
    record.status = transition.target
    event = WorkflowEvent(
        entity=workflow.entity,
        entity_id=record.id,
        transition=transition.name,
        from_state=source,
        to_state=transition.target,
        actor_id=actor.user_id,
        actor_label=actor.label,
        comment=values.get("comment"),
        at=now or utcnow(),
        young_person_id=getattr(record, "young_person_id", None),
    )
    session.add(event)
    session.flush()  # the version check of the UPDATE happens here (StaleDataError if raced)
    for listener in LISTENERS:
        listener(session, workflow, record, event, actor)
    return event


def events_of(session: Session, entity: str, entity_id: int) -> list[WorkflowEvent]:
    return session.scalars(
        sa.select(WorkflowEvent)
        .where(WorkflowEvent.entity == entity, WorkflowEvent.entity_id == entity_id)
        .order_by(WorkflowEvent.at, WorkflowEvent.id)
    ).all()
