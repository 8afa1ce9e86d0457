"""WTForms validators and fields for French data; messages in French, rules from the domain."""

from __future__ import annotations

import datetime as dt

from flask_admin.form.widgets import DatePickerWidget
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from ..domain.people import normalise_siret, siret_is_valid

POSTCODE = Regexp(r"^\d{5}$", message=_l("Le code postal compte 5 chiffres."))
PHONE = Regexp(
    r"^(\+33\s?|0)[1-9]([\s.-]?\d{2}){4}$",
    message=_l("Numéro de téléphone attendu au format 06 12 34 56 78 ou +33 6 12 34 56 78."),
)
EMAIL = Email(message=_l("Adresse e-mail invalide."), check_deliverability=False)
URL = Regexp(r"^https?://[^\s/$.?#].[^\s]*$", message=_l("Adresse web attendue (https://…)."))


def optional(*validators):
    """Optional() then the given validators: an empty field is fine, a filled one must be valid."""
    return [Optional(), *validators]


def siret(form, field):
    """Normalise the SIRET typed by a person (spaces, dots) and check its Luhn key."""
    value = normalise_siret(field.data)
    field.data = value
    if value is not None and not siret_is_valid(value):
        raise ValidationError(_l("SIRET invalide : 14 chiffres dont la clé de contrôle est juste."))


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
    """A decimal typed the French way: ``1 500,50`` as well as ``1500.50``."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        kwargs.setdefault("places", None)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [
                value.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
                for value in valuelist
            ]
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Nombre attendu, par exemple 1 500,50.")) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data, "f").replace(".", ",")


class FrenchDateField(DateField):
    """A date typed as 31/12/2025 or picked (ISO) in the calendar, with a French error."""

    widget = DatePickerWidget()

    def __init__(self, *args, **kwargs):
        kwargs["format"] = ["%Y-%m-%d", "%d/%m/%Y"]
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError as error:
            raise ValueError(_l("Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ attendu.")) from error
