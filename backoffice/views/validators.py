"""WTForms validators for French data, each a thin wrapper over a domain rule, messages in French."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError

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


def required_when_exited(form, field):
    """Exit date and exit reason are required once the status is *sorti*."""
    status = getattr(form, "status", None)
    if status is not None and status.data == "exited" and not field.data:
        raise ValidationError(_l("Obligatoire quand le jeune est sorti."))


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
