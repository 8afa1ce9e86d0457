"""Small builders: ``make_<model>(**overrides)`` returns a saved record with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from werkzeug.security import generate_password_hash

from backoffice.extensions import db
from backoffice.models import AidType, Partner, Programme, Site, User, YoungPerson

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _save(record):
    db.session.add(record)
    db.session.commit()
    return record


def make_site(**overrides) -> Site:
    n = next(_counter)
    values = {"name": f"Antenne {n}", "postcode": "69001", "city": "Lyon"}
    return _save(Site(**{**values, **overrides}))


def make_user(**overrides) -> User:
    n = next(_counter)
    password = overrides.pop("password", PASSWORD)
    values = {
        "email": f"user{n}@example.org",
        "full_name": f"Utilisateur {n}",
        "role": "admin",
        "active": True,
    }
    user = User(**{**values, **overrides})
    # A cheap hash keeps the suite fast; production hashes with scrypt (User.set_password).
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    return _save(user)


def make_young_person(**overrides) -> YoungPerson:
    n = next(_counter)
    if "site" not in overrides and "site_id" not in overrides:
        overrides["site"] = make_site()
    values = {
        "last_name": f"Nom{n}",
        "first_name": f"Prénom{n}",
        "birth_date": dt.date.today().replace(year=dt.date.today().year - 20, day=1),
        "status": "active",
        "registration_date": dt.date.today(),
    }
    return _save(YoungPerson(**{**values, **overrides}))


def make_programme(**overrides) -> Programme:
    values = {"kind": "PACEA", "start_date": dt.date.today() - dt.timedelta(days=10)}
    return _save(Programme(**{**values, **overrides}))


def make_partner(**overrides) -> Partner:
    n = next(_counter)
    values = {"name": f"Partenaire {n}", "kind": "training_body", "city": "Lyon"}
    return _save(Partner(**{**values, **overrides}))


def make_aid_type(**overrides) -> AidType:
    n = next(_counter)
    values = {
        "code": f"AIDE-{n}",
        "name": f"Aide {n}",
        "category": "financial",
        "unit": "euro",
        "default_amount": Decimal("100"),
    }
    return _save(AidType(**{**values, **overrides}))
