"""Form errors a screen reader can find (issue #12, RGAA 11.10 and 11.11).

One rule for every form drawn from WTForms (Flask-Admin's create and edit pages, sign-in,
password): :func:`error_items` lists the invalid fields for the summary that opens the form
(``templates/admin/_a11y.html``) and marks each of them ``aria-invalid`` and
``aria-describedby`` the summary's line about it, before the fields are drawn. The wizard, whose
fields are not WTForms fields, gives the same summary its own ``errors`` mapping.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorItem:
    target: str  #: the id of the field, the summary's link goes there
    label: str  #: the field's label, or "" when the message says it all
    message: str


def _fields(form) -> Iterator:
    """Every leaf field of ``form``, inline forms (FieldList of FormFields) included."""
    for field in form:
        entries = getattr(field, "entries", None)
        if entries is not None:
            for entry in entries:
                inner = getattr(entry, "form", None)
                yield from _fields(inner) if inner is not None else (entry,)
        elif getattr(field, "form", None) is not None and field.type == "FormField":
            yield from _fields(field.form)
        else:
            yield field


def _messages(errors) -> list[str]:
    if isinstance(errors, Mapping):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, (list, tuple)):
        return [m for value in errors for m in _messages(value)]
    return [str(errors)] if errors else []


def error_items(form) -> list[ErrorItem]:
    """The invalid fields of a WTForms ``form``, each marked for assistive technologies.

    Returns nothing for anything that is not a validated WTForms form (a list page, the
    wizard's posted values), so that templates can call it on whatever ``form`` they have.
    """
    if form is None or not hasattr(form, "_fields"):
        return []
    items: list[ErrorItem] = []
    for field in _fields(form):
        messages = _messages(getattr(field, "errors", None))
        if not messages:
            continue
        target = field.id
        field.render_kw = {
            **(field.render_kw or {}),
            "aria-invalid": "true",
            "aria-describedby": f"erreur-{target}",
        }
        label = field.label.text if getattr(field, "label", None) is not None else ""
        items.append(ErrorItem(target, str(label), " ".join(messages)))
    return items


def wizard_items(errors: Mapping[str, str]) -> list[ErrorItem]:
    """The wizard's ``{field name: message}`` as summary lines (its fields' ids are their names)."""
    return [ErrorItem(name, "", str(message)) for name, message in (errors or {}).items()]


def has_required(form) -> bool:
    """Whether ``form`` marks a field as required (then the form says once what * means)."""
    if form is None or not hasattr(form, "_fields"):
        return False
    return any(getattr(field.flags, "required", False) for field in _fields(form))
