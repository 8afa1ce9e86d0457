"""WTForms validators and fields for French data; messages in French, rules from the domain."""

from __future__ import annotations

import datetime as dt

from flask_admin.form.widgets import DatePickerWidget
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeField, DecimalField
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from ..domain import values


def normalised(parse):
    """A validator that reads the field with a parser of ``domain/values.py`` and stores its
    normal form (the same rule as the CSV import and the wizard), or shows its French message."""

    def check(form, field):
        if field.data in (None, ""):
            return
        try:
            field.data = parse(str(field.data))
        except values.InvalidValue as error:
            raise ValidationError(str(error)) from error

    return check


POSTCODE = normalised(values.parse_postcode)
PHONE = normalised(values.parse_phone)
EMAIL = Email(message=_l("Adresse e-mail invalide."), check_deliverability=False)
URL = Regexp(r"^https?://[^\s/$.?#].[^\s]*$", message=_l("Adresse web attendue (https://…)."))


def optional(*validators):
    """Optional() then the given validators: an empty field is fine, a filled one must be valid."""
    return [Optional(), *validators]


def siret(form, field):
    """Normalise the SIRET typed by a person (spaces, dots, lost leading zeros), check its key."""
    if not (field.data or "").strip():
        field.data = None
        return
    normalised(values.parse_siret)(form, field)


def plausible_birth_date(form, field):
    """A birth date in the past and after 1900."""
    if field.data is None:
        return
    if field.data > dt.date.today():
        raise ValidationError(_l("La date de naissance est dans le futur."))
    if field.data.year < 1900:
        raise ValidationError(_l("La date de naissance est invalide."))


def exit_details_when_exited(form, field):
    """On the status field: exit date and exit reason are required once the status is *sorti*.

    (On the optional fields themselves the check would never run: Flask-Admin puts Optional()
    first on nullable columns, which stops the chain on an empty value.)"""
    if field.data != "exited":
        return
    missing = [
        label
        for name, label in (("exit_date", _l("la date")), ("exit_reason", _l("le motif")))
        if getattr(form, name, None) is not None and not getattr(form, name).data
    ]
    if missing:
        raise ValidationError(
            _l(
                "Pour un jeune sorti, indiquez aussi %(what)s de sortie.",
                what=" et ".join(str(m) for m in missing),
            )
        )


def not_before(other_field: str, message):
    """The field's date is not before the date of ``other_field`` (when both are filled)."""

    def check(form, field):
        other = getattr(form, other_field, None)
        if field.data and other is not None and other.data and field.data < other.data:
            raise ValidationError(message)

    return check


def password_strength(form, field):
    """At least 12 characters (CNIL recommendation for a password alone)."""
    if field.data and len(field.data) < 12:
        raise ValidationError(_l("Le mot de passe doit compter au moins 12 caractères."))


NAME = Length(max=100, message=_l("100 caractères au plus."))


class FrenchDecimalField(DecimalField):
    """A decimal typed the French way (``1 500,50``), read by ``values.parse_decimal`` with the
    column's scale and precision: "1.500" is refused as ambiguous, as in an import."""

    widget = TextInput()

    def __init__(self, *args, places=2, max_digits=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, places=None, **kwargs)
        self.scale = places
        self.max_digits = max_digits

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = values.parse_decimal(
                valuelist[0], places=self.scale, max_digits=self.max_digits
            )
        except values.InvalidValue as error:
            self.data = None
            raise ValueError(str(error)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return values.format_decimal(self.data, places=self.scale)


class FrenchDateField(DateField):
    """A date typed as 31/12/2025 (or 31/12/25) or picked (ISO) in the calendar, read by
    ``values.parse_date`` like every other door."""

    widget = DatePickerWidget()

    def __init__(self, *args, past=False, **kwargs):
        kwargs["format"] = ["%Y-%m-%d", "%d/%m/%Y"]
        super().__init__(*args, **kwargs)
        self.past = past

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = values.parse_date(valuelist[0], past=self.past)
        except values.InvalidValue as error:
            self.data = None
            raise ValueError(str(error)) from error


class FrenchDateTimeField(DateTimeField):
    """A date and time typed as 31/12/2025 14:30 or picked (ISO) in the browser's calendar, read
    by ``values.parse_datetime`` like every other door."""

    def __init__(self, *args, **kwargs):
        kwargs["format"] = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = values.parse_datetime(valuelist[0])
        except values.InvalidValue as error:
            self.data = None
            raise ValueError(str(error)) from error
