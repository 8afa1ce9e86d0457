"""One declaration per importable entity: columns, French headers, natural key, parsers, checks.

Natural keys: site = name; account = e-mail; aid type = code; partner = SIRET when present, else
name + postcode; young person = last name + first name + birth date; diagnosis situation =
domain + label.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ... import models as m
from ...models import vocabularies_of
from .. import vocabularies as vocab
from .cells import (
    CellError,
    choice_parser,
    code_parser,
    decimal_parser,
    fold,
    format_value,
    int_parser,
    parse_birth_date,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_email,
    parse_phone,
    parse_postcode,
    parse_siret,
    text_parser,
)
from .engine import EntitySpec, Field


def _label_of(vocabulary: vocab.Vocabulary):
    return lambda code: vocabulary.label(code) if code is not None else ""


def _choice(attr, header, vocabulary, required=False, **kw) -> Field:
    return Field(
        attr,
        header,
        choice_parser(vocabulary),
        required=required,
        display=_label_of(vocabulary),
        **kw,
    )


def _bool(attr, header, **kw) -> Field:
    return Field(attr, header, parse_bool, empty=False, **kw)


#: Columns read by the parser their name says, whatever their type.
_BY_NAME = {
    "email": parse_email,
    "phone": parse_phone,
    "postcode": parse_postcode,
    "siret": parse_siret,
    "birth_date": parse_birth_date,
}


def column_field(model, attr: str, header: str, **overrides) -> Field:
    """A field read from the model's column: its parser from the column's type and size (text
    length, a decimal's scale and precision, dates, yes/no), its closed list from the column's
    CHECK vocabulary, and ``required`` when the column is NOT NULL without a default."""
    column = model.__table__.c[attr]
    vocabulary = vocabularies_of(model).get(attr)
    required = overrides.pop(
        "required",
        not column.nullable and column.default is None and column.server_default is None,
    )
    if vocabulary is not None:
        return _choice(attr, header, vocabulary, required=required, **overrides)
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return _bool(attr, header, **overrides)
    if attr in _BY_NAME:
        parse = _BY_NAME[attr]
    elif isinstance(kind, sa.Numeric):
        parse = decimal_parser(kind.scale or 0, kind.precision)
    elif isinstance(kind, sa.DateTime):
        parse = parse_datetime
    elif isinstance(kind, sa.Date):
        parse = parse_date
    elif isinstance(kind, sa.Integer):
        parse = int_parser(-(2**31), 2**31 - 1)
    else:
        parse = text_parser(getattr(kind, "length", None) or 5000)
    return Field(attr, header, overrides.pop("parse", parse), required=required, **overrides)


def _reference(lookup: dict[str, int], names: dict[int, str], what: str):
    def parse(text: str) -> int:
        found = lookup.get(fold(text))
        if found is None:
            raise CellError(f"{what} « {text} » inconnu·e.")
        return found

    return parse, (lambda value: names.get(value, "") if value is not None else "")


class SiteSpec(EntitySpec):
    name, label, model, key_label = "sites", "Sites", m.Site, "nom"
    example = [
        "Antenne Nord",
        "3 rue des Lilas",
        "69009",
        "Lyon",
    ]

    def fields(self, session):
        return [
            column_field(m.Site, "name", "Nom", in_key=True),
            column_field(m.Site, "address", "Adresse"),
            column_field(m.Site, "postcode", "Code postal"),
            column_field(m.Site, "city", "Ville"),
        ]

    def key(self, values):
        return (fold(values["name"]),)

    def existing_keys(self, session):
        return {(fold(name),): i for i, name in session.execute(sa.select(m.Site.id, m.Site.name))}


class CounsellorSpec(EntitySpec):
    """Staff accounts, without passwords: an admin sets them (or a reset link, later)."""

    name, label, model, key_label = "counsellors", "Comptes", m.User, "e-mail"
    example = [
        "prenom.nom@ma-mission-locale.fr",
        "Prénom Nom",
        "04 72 00 00 00",
        "Conseiller·ère",
        "Antenne Nord",
        "oui",
    ]

    def fields(self, session):
        sites = dict(session.execute(sa.select(m.Site.id, m.Site.name)).all())
        parse_site, show_site = _reference({fold(n): i for i, n in sites.items()}, sites, "Antenne")
        return [
            column_field(m.User, "email", "E-mail", in_key=True),
            column_field(m.User, "full_name", "Nom complet"),
            column_field(m.User, "phone", "Téléphone"),
            column_field(m.User, "role", "Rôle", required=True),
            Field("site_id", "Antenne", parse_site, display=show_site, aliases=("site",)),
            column_field(m.User, "active", "Actif"),
        ]

    def key(self, values):
        return (values["email"],)

    def existing_keys(self, session):
        return {
            (email.lower(),): i for i, email in session.execute(sa.select(m.User.id, m.User.email))
        }

    def defaults(self):
        return {"active": True, "password_hash": None, "locale": None}


class AidTypeSpec(EntitySpec):
    name, label, model, key_label = "aids", "Catalogue des aides", m.AidType, "code"
    example = [
        "TICKETS-BUS",
        "Tickets de bus",
        "Tickets de transport",
        "",
        "ticket",
        "1,60",
        "5 000,00",
        "40",
        "10",
        "",
        "oui",
    ]

    def fields(self, session):
        partners = dict(session.execute(sa.select(m.Partner.id, m.Partner.name)).all())
        parse_partner, show_partner = _reference(
            {fold(n): i for i, n in partners.items()}, partners, "Partenaire"
        )
        return [
            column_field(m.AidType, "code", "Code", parse=code_parser(), in_key=True),
            column_field(m.AidType, "name", "Nom"),
            column_field(m.AidType, "category", "Catégorie"),
            column_field(m.AidType, "description", "Description"),
            column_field(m.AidType, "unit", "Unité"),
            column_field(m.AidType, "default_amount", "Montant par défaut"),
            column_field(m.AidType, "yearly_budget", "Enveloppe annuelle"),
            column_field(m.AidType, "ceiling_per_youth", "Plafond par jeune et par an"),
            column_field(m.AidType, "delegation_threshold", "Accord direct jusqu'à"),
            Field("partner_id", "Partenaire", parse_partner, display=show_partner),
            column_field(m.AidType, "active", "Active", aliases=("actif",)),
        ]

    def key(self, values):
        return (values["code"],)

    def existing_keys(self, session):
        return {(code,): i for i, code in session.execute(sa.select(m.AidType.id, m.AidType.code))}


class PartnerSpec(EntitySpec):
    name, label, model, key_label = (
        "partners",
        "Partenaires",
        m.Partner,
        "SIRET ou nom + code postal",
    )
    example = [
        "Centre de formation Avenir",
        "Organisme de formation",
        "Formation, Emploi",
        "Mme Durand",
        "contact@avenir.example.org",
        "04 78 00 00 00",
        "10 rue de la Gare",
        "69003",
        "Lyon",
        "73282932000074",
        "https://avenir.example.org",
        "oui",
        "",
    ]

    def fields(self, session):
        themes = dict(session.execute(sa.select(m.Theme.id, m.Theme.name)).all())
        by_name = {fold(n): n for n in themes.values()}
        by_name.update(
            {fold(c): themes[i] for i, c in session.execute(sa.select(m.Theme.id, m.Theme.code))}
        )
        self._theme_ids = {n: i for i, n in themes.items()}
        self._themes_of: dict[int, list[str]] = {}
        for partner_id, theme_id in session.execute(sa.select(m.partner_theme)):
            self._themes_of.setdefault(partner_id, []).append(themes[theme_id])

        def parse_themes(text: str) -> frozenset:
            # Names are comma-separated, and one name has commas of its own ("Loisir, sport,
            # culture"): take the longest run of parts that names a theme.
            parts = [p for p in text.replace(";", ",").split(",")]
            names, start = set(), 0
            while start < len(parts):
                if not parts[start].strip():
                    start += 1
                    continue
                for end in range(len(parts), start, -1):
                    name = by_name.get(fold(",".join(parts[start:end])))
                    if name is not None:
                        names.add(name)
                        start = end
                        break
                else:
                    raise CellError(
                        f"Thématique « {parts[start].strip()} » inconnue "
                        f"({' ; '.join(sorted(themes.values()))})."
                    )
            return frozenset(names)

        return [
            column_field(m.Partner, "name", "Nom", in_key=True),
            column_field(m.Partner, "kind", "Type"),
            Field(
                "themes",
                "Thématiques",
                parse_themes,
                empty=frozenset(),
                display=lambda v: ", ".join(sorted(v or ())),
            ),
            column_field(m.Partner, "contact_name", "Personne à contacter"),
            column_field(m.Partner, "email", "E-mail"),
            column_field(m.Partner, "phone", "Téléphone"),
            column_field(m.Partner, "address", "Adresse"),
            column_field(m.Partner, "postcode", "Code postal", in_key=True),
            column_field(m.Partner, "city", "Ville"),
            column_field(m.Partner, "siret", "SIRET", in_key=True),
            column_field(m.Partner, "website", "Site web"),
            column_field(m.Partner, "active", "Actif"),
            column_field(m.Partner, "notes", "Notes"),
        ]

    def key(self, values):
        if values.get("siret"):
            return ("siret", values["siret"])
        return ("name", fold(values["name"]), values.get("postcode") or "")

    def existing_keys(self, session):
        keys = {}
        for i, name, postcode, siret in session.execute(
            sa.select(m.Partner.id, m.Partner.name, m.Partner.postcode, m.Partner.siret)
        ):
            keys[("name", fold(name), postcode or "")] = i
            if siret:
                keys[("siret", siret)] = i
        return keys

    def current_extra(self, session, ids):
        return {i: {"themes": frozenset(self._themes_of.get(i, ()))} for i in ids}

    def write_extra(self, session, record_id, values, created):
        if "themes" not in values:
            return
        connection = session.connection()
        if not created:
            connection.execute(
                sa.delete(m.partner_theme).where(m.partner_theme.c.partner_id == record_id)
            )
        rows = [{"partner_id": record_id, "theme_id": self._theme_ids[n]} for n in values["themes"]]
        if rows:
            connection.execute(sa.insert(m.partner_theme), rows)

    def virtual_value(self, attr, record_id):
        return frozenset(self._themes_of.get(record_id, ()))


class YoungPersonSpec(EntitySpec):
    name, label, model = "youths", "Jeunes", m.YoungPerson
    key_label = "nom + prénom + date de naissance"
    example = [
        "Martin",
        "Léa",
        "14/03/2006",
        "Femme",
        "lea.martin@example.fr",
        "06 12 34 56 78",
        "5 rue Victor Hugo",
        "69003",
        "Lyon",
        "02/09/2025",
        "Antenne Nord",
        "prenom.nom@ma-mission-locale.fr",
        "En accompagnement",
        "",
        "",
        "Niveau 4 (baccalauréat)",
        "non",
        "oui",
        "non",
        "non",
        "Hébergé au domicile parental",
        "Aucune ressource",
        "02/09/2025",
    ]

    def fields(self, session):
        sites = dict(session.execute(sa.select(m.Site.id, m.Site.name)).all())
        parse_site, show_site = _reference({fold(n): i for i, n in sites.items()}, sites, "Antenne")
        counsellors = dict(
            session.execute(
                sa.select(m.User.id, m.User.email).where(m.User.role == "counsellor")
            ).all()
        )
        parse_referent, show_referent = _reference(
            {e.lower(): i for i, e in counsellors.items()}, counsellors, "Conseiller·ère"
        )
        return [
            *(
                column_field(m.YoungPerson, attr, header, in_key=True)
                for attr, header in (
                    ("last_name", "Nom"),
                    ("first_name", "Prénom"),
                    ("birth_date", "Date de naissance"),
                )
            ),
            *(
                column_field(m.YoungPerson, attr, header)
                for attr, header in (
                    ("gender", "Genre"),
                    ("email", "E-mail"),
                    ("phone", "Téléphone"),
                    ("address", "Adresse"),
                    ("postcode", "Code postal"),
                    ("city", "Ville"),
                    ("registration_date", "Date d'inscription"),
                )
            ),
            Field("site_id", "Antenne", parse_site, required=True, display=show_site),
            Field(
                "referent_id",
                "Référent (e-mail)",
                parse_referent,
                display=show_referent,
                aliases=("référent", "conseiller référent"),
            ),
            *(
                column_field(m.YoungPerson, attr, header)
                for attr, header in (
                    ("status", "Statut"),
                    ("exit_reason", "Motif de sortie"),
                    ("exit_date", "Date de sortie"),
                    ("education_level", "Niveau de formation"),
                    ("rqth", "RQTH"),
                    ("qpv_resident", "Résident QPV"),
                    ("driving_licence", "Permis B"),
                    ("has_vehicle", "Véhiculé"),
                    ("housing_situation", "Logement"),
                    ("resources", "Ressources"),
                    ("rgpd_consent_date", "Consentement RGPD"),
                )
            ),
        ]

    def key(self, values):
        return (fold(values["last_name"]), fold(values["first_name"]), values["birth_date"])

    def existing_keys(self, session):
        stmt = sa.select(
            m.YoungPerson.id,
            m.YoungPerson.last_name,
            m.YoungPerson.first_name,
            m.YoungPerson.birth_date,
        )
        if self.only_site_id is not None:  # other sites' young people do not exist here
            stmt = stmt.where(m.YoungPerson.site_id == self.only_site_id)
        return {
            (fold(last), fold(first), birth): i for i, last, first, birth in session.execute(stmt)
        }

    def check(self, values, present):
        problems = []
        if self.only_site_id is not None and values.get("site_id") != self.only_site_id:
            problems.append(("Antenne", "Vous ne pouvez importer que des jeunes de votre antenne."))
        if values.get("status") == "exited" and not values.get("exit_date"):
            problems.append(("Date de sortie", "Obligatoire quand le statut est « Sorti »."))
        return problems

    def defaults(self):
        import datetime as dt

        return {
            "status": "active",
            "registration_date": dt.date.today(),
            "rqth": False,
            "qpv_resident": False,
            "driving_licence": False,
            "has_vehicle": False,
        }


class DiagnosisSpec(EntitySpec):
    """Checklist situations of the diagnosis, one line each, under their domain's code."""

    name, label, model = "diagnosis", "Situations du diagnostic", m.DiagnosisSituation
    key_label = "domaine + situation"
    example = [
        "Logement",
        "Hébergé chez un tiers",
        "2",
    ]

    def fields(self, session):
        domains = dict(
            session.execute(sa.select(m.DiagnosisDomain.id, m.DiagnosisDomain.name)).all()
        )
        lookup = {fold(n): i for i, n in domains.items()}
        lookup.update(
            {
                fold(c): i
                for i, c in session.execute(sa.select(m.DiagnosisDomain.id, m.DiagnosisDomain.code))
            }
        )
        parse_domain, show_domain = _reference(lookup, domains, "Domaine")
        return [
            Field(
                "domain_id",
                "Domaine",
                parse_domain,
                required=True,
                display=show_domain,
                in_key=True,
            ),
            column_field(m.DiagnosisSituation, "label", "Situation", in_key=True),
            column_field(m.DiagnosisSituation, "position", "Ordre", empty=0),
        ]

    def key(self, values):
        return (values["domain_id"], fold(values["label"]))

    def existing_keys(self, session):
        return {
            (d, fold(label)): i
            for i, d, label in session.execute(
                sa.select(
                    m.DiagnosisSituation.id,
                    m.DiagnosisSituation.domain_id,
                    m.DiagnosisSituation.label,
                )
            )
        }


class SituationSpec(EntitySpec):
    """Young people's situations (a job, a training, a work-study contract…), dated. The young
    person is written "Nom Prénom (n°123)" and read back by the number in brackets (or a bare
    number): readable in a spreadsheet, exact on the way back."""

    name, label, model = "situations", "Situations des jeunes", m.Situation
    key_label = "jeune + situation + début"
    example = [
        "Martin Léa (n°1)",
        "Contrat d'apprentissage",
        "01/09/2025",
        "31/08/2027",
        "Boulangerie du Centre",
        "35",
    ]

    def fields(self, session):
        scoped = sa.select(m.YoungPerson.id)
        if self.only_site_id is not None:  # other sites' young people do not exist here
            scoped = scoped.where(m.YoungPerson.site_id == self.only_site_id)
        known = set(session.scalars(scoped))
        names = {
            i: f"{last} {first} (n°{i})"
            for i, last, first in session.execute(
                sa.select(
                    m.YoungPerson.id, m.YoungPerson.last_name, m.YoungPerson.first_name
                ).where(m.YoungPerson.id.in_(sa.select(m.Situation.young_person_id)))
            )
        }

        def parse_young_person(text: str) -> int:
            found = re.search(r"n°\s*(\d+)\s*\)?\s*$", text) or re.fullmatch(r"\s*(\d+)\s*", text)
            number = int(found.group(1)) if found else None
            if number is None or number not in known:
                raise CellError(
                    f"Jeune « {text} » inconnu·e : écrivez son numéro de dossier, "
                    "par exemple « Martin Léa (n°123) » ou « 123 »."
                )
            return number

        return [
            Field(
                "young_person_id",
                "Jeune",
                parse_young_person,
                required=True,
                display=lambda value: names.get(value, str(value)) if value is not None else "",
                in_key=True,
                aliases=("n° du jeune", "dossier"),
            ),
            column_field(m.Situation, "kind", "Situation", in_key=True),
            column_field(m.Situation, "start_date", "Début", in_key=True),
            column_field(m.Situation, "end_date", "Fin"),
            column_field(m.Situation, "organisation", "Employeur ou organisme"),
            column_field(m.Situation, "hours_per_week", "Heures par semaine"),
        ]

    def key(self, values):
        return (values["young_person_id"], values["kind"], values["start_date"])

    def existing_keys(self, session):
        return {
            (young_person, kind, start): i
            for i, young_person, kind, start in session.execute(
                sa.select(
                    m.Situation.id,
                    m.Situation.young_person_id,
                    m.Situation.kind,
                    m.Situation.start_date,
                )
            )
        }

    def check(self, values, present):
        from ..situations import problems

        headers = {
            "kind": "Situation",
            "start": "Début",
            "end": "Fin",
            "hours": "Heures par semaine",
        }
        return [
            (headers[field], message)
            for field, message in problems(
                values.get("kind"),
                values.get("start_date"),
                values.get("end_date"),
                values.get("hours_per_week"),
            )
            if field in ("end", "hours")  # the others are the cells' own checks
        ]


#: Every declared entity, by name (the registry the declarations fill themselves).
ENTITIES = EntitySpec.registry


def spec_for(name: str) -> EntitySpec:
    """A fresh declaration for one import or export (it caches look-ups for that run only)."""
    return ENTITIES[name]()


__all__ = ["ENTITIES", "format_value", "spec_for"]
