"""Data protection (RGPD): a young person's complete record (right of access and portability)
and their anonymisation (right to erasure). Plain Python over a session, no Flask.

What a record holds is read from the model, not listed by hand: every table with a
``young_person_id`` column belongs to the young person. The export leaves out the counsellors'
private notes (professional working notes, see the README) and secrets (link nonces); the
anonymisation replaces identity and contact fields, empties every free text, reduces the birth
date to the year, and keeps codes, dates, counts and amounts, so that the activity report still
adds up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    AuditEvent,
    Consent,
    Consultation,
    Interview,
    OutboxMessage,
    Partner,
    YoungPerson,
    utcnow,
)
from . import audit, search, values

#: Columns never exported: the counsellors' working notes and the secrets of the answer links.
NOT_EXPORTED = {
    ("interview", "private_notes"),
    ("referral", "answer_nonce"),
    ("young_person", "space_nonce"),
    # The e-mails' bodies repeat the record (exported itself) and carry the links' secrets.
    ("outbox_message", "body_text"),
    ("outbox_message", "body_html"),
    ("outbox_message", "attachment"),
    ("outbox_message", "claimed_by"),
}
#: The French title of each part of a record (the export's page).
TABLE_TITLES = {
    "young_person": "Identité et situation",
    "programme": "Programmes (PACEA, CEJ)",
    "interview": "Entretiens (sans les notes privées des conseillers)",
    "diagnosis_entry": "Diagnostic",
    "objective": "Objectifs",
    "action": "Actions",
    "proposal": "Propositions",
    "situation": "Situations (emploi, formation…)",
    "referral": "Orientations vers des partenaires",
    "aid_request": "Demandes d'aide",
    "workflow_event": "Suivi des orientations et des demandes d'aide",
    "consent": "Consentements",
    "consultation": "Journal des consultations du dossier",
    "outbox_message": "E-mails envoyés",
    "notification": "Notifications des conseillers",
}
#: Headers of the page for the columns the screens' labels do not name.
COLUMN_TITLES = {
    "id": "N°",
    "young_person_id": "Jeune (n°)",
    "user_id": "Compte (n°)",
    "at": "Le",
    "pending": "Suivi en attente de validation",
    "created_at": "Créé le",
    "updated_at": "Modifié le",
    "version": "Version",
    "anonymised_at": "Anonymisé le",
    "retention_until": "Conservation prolongée jusqu'au",
    "retention_note": "Motif de la prolongation",
}
#: What stands for an emptied required text after anonymisation.
ERASED = "[anonymisé]"


def _tables() -> list[sa.Table]:
    """The tables holding a young person's records (those with a ``young_person_id``), in the
    order of the model."""
    return [
        table
        for table in db.metadata.sorted_tables
        if "young_person_id" in table.c and table.name not in ("audit_event",)
    ]


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record_of(session: Session, young_person_id: int, plain: bool = True) -> dict[str, list[dict]]:
    """``{table: [row, …]}``: the young person's identity and every record about them; values
    as JSON would hold them (``plain``) or as the database gives them (for the page, which
    shows codes as their labels and dates the French way)."""
    shape = _row if plain else _raw
    person = (
        session.execute(sa.select(YoungPerson.__table__).where(YoungPerson.id == young_person_id))
        .mappings()
        .one()
    )
    record = {"young_person": [shape("young_person", person)]}
    for table in _tables():
        rows = (
            session.execute(
                sa.select(table)
                .where(table.c.young_person_id == young_person_id)
                .order_by(*table.primary_key.columns)
            )
            .mappings()
            .all()
        )
        record[table.name] = [shape(table.name, row) for row in rows]
    return record


def _raw(table: str, row) -> dict:
    return {
        key: value
        for key, value in row.items()
        if (table, key) not in NOT_EXPORTED and key != "search_text"
    }


def readable(table: str, key: str, value) -> str:
    """A value as the page shows it: a code as its label, a date the French way, yes/no."""
    from ..models import vocabularies_of

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, Decimal):
        return values.format_decimal(value, grouped=True)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else "—"
    model = next((m.class_ for m in db.Model.registry.mappers if m.local_table.name == table), None)
    vocabulary = vocabularies_of(model).get(key) if model is not None else None
    return vocabulary.label(value) if vocabulary is not None else str(value)


def _row(table: str, row) -> dict:
    return {
        key: _plain(value)
        for key, value in row.items()
        if (table, key) not in NOT_EXPORTED and key != "search_text"
    }


def export_zip(session: Session, young_person_id: int, actor_id: int | None) -> bytes:
    """The record as a zip: ``donnees.json`` (everything) and a CSV per table (``;``, UTF-8
    with BOM, for a spreadsheet). The export is logged in the consultation log."""
    record = record_of(session, young_person_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "donnees.json", json.dumps(record, ensure_ascii=False, indent=1, default=str)
        )
        for table, rows in record.items():
            if not rows:
                continue
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=";")
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                        for k, v in row.items()
                    }
                )
            archive.writestr(f"{table}.csv", "\ufeff" + text.getvalue())
        archive.writestr(
            "lisez-moi.txt",
            "Données personnelles conservées par la mission locale, exportées le "
            f"{dt.date.today():%d/%m/%Y} (droit d'accès et à la portabilité, RGPD articles 15 "
            "et 20).\ndonnees.json contient tout ; chaque fichier .csv, une table.\nLes notes "
            "privées des conseillers (notes de travail professionnelles) ne sont pas jointes.\n",
        )
    session.add(Consultation(young_person_id=young_person_id, user_id=actor_id, kind="export"))
    return buffer.getvalue()


def _cell(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


class AnonymisationRefused(ValueError):
    """French message for the screen or the CLI."""


#: Short texts that are free (typed by a person) rather than codes; every long text (sa.Text)
#: is free. The others (a workflow's states and transition, the label of the staff member who
#: acted) stay: they say what was done, not who the young person is.
FREE_STRINGS = {
    ("referral", "service"),
    ("referral", "answer_nonce"),
    ("situation", "organisation"),
    ("notification", "text"),
}


def _text_columns(table: sa.Table) -> list[sa.Column]:
    """The free texts of a table: what an anonymisation empties."""
    return [
        c
        for c in table.c
        if (isinstance(c.type, sa.Text) or (table.name, c.key) in FREE_STRINGS)
        and not c.primary_key
        and not c.foreign_keys
        and not _is_code(table, c)
    ]


def _is_code(table: sa.Table, column: sa.Column) -> bool:
    """A column of a closed list (kept: the reports count by it)."""
    from ..models import vocabularies_of

    model = next((m.class_ for m in db.Model.registry.mappers if m.local_table is table), None)
    return model is not None and column.key in vocabularies_of(model)


#: The young person's own fields: replaced (identity), emptied (contact), or kept (codes,
#: dates, yes/no: the reports count by them).
IDENTITY = {"last_name": "ANONYME", "first_name": None}
CONTACT = ("email", "phone", "address", "postcode", "city")


def anonymise(
    session: Session,
    young_person_id: int,
    reason: str,
    requested_by: str,
    actor_id: int | None,
    now: dt.datetime | None = None,
) -> YoungPerson:
    """Anonymise a young person for good; the caller commits. Raises
    :class:`AnonymisationRefused` when there is no reason or it was already done."""
    reason, requested_by = (reason or "").strip(), (requested_by or "").strip()
    if not reason:
        raise AnonymisationRefused("Indiquez le motif de l'anonymisation.")
    if not requested_by:
        raise AnonymisationRefused("Indiquez qui l'a demandée (le jeune, la direction…).")
    person = session.get(YoungPerson, young_person_id)
    if person is None:
        raise AnonymisationRefused("Jeune inconnu.")
    if person.anonymised_at is not None:
        raise AnonymisationRefused("Ce jeune a déjà été anonymisé.")
    now = now or utcnow()
    # The young person: identity replaced, contact gone, the birth date reduced to its year.
    person.last_name = IDENTITY["last_name"]
    person.first_name = f"n°{person.id}"
    for name in CONTACT:
        setattr(person, name, None)
    person.birth_date = person.birth_date.replace(month=1, day=1)
    person.anonymised_at = now
    person.space_nonce = person.space_expires_at = None  # their space closes
    person.search_text = search.text_for(
        {name: getattr(person, name) for name in YoungPerson.search_text.info["search_of"]},
        YoungPerson.search_text.info["search_of"],
    )
    # Their e-mails go, sent or waiting: a waiting one must not leave, and none is counted.
    session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.young_person_id == young_person_id)
    )
    # Every free text of their records, emptied (a required one holds ERASED), through the
    # session like every write (the trail sees it, then loses the values below).
    for model in _models():
        texts = _text_columns(model.__table__)
        if not texts:
            continue
        for row in session.scalars(
            sa.select(model).where(model.young_person_id == young_person_id)
        ):
            for column in texts:
                setattr(row, column.key, None if column.nullable else ERASED)
            if isinstance(row, Interview):  # a draft's follow-up notes, kept as JSON
                row.pending = {}
    session.flush()
    _scrub_trail(session, young_person_id)
    session.add(Consultation(young_person_id=young_person_id, user_id=actor_id, kind="anonymise"))
    actor, label = audit.actor_of(session)
    session.add(
        AuditEvent(
            actor_id=actor,
            actor_label=label,
            action="update",
            entity="young_person",
            entity_id=young_person_id,
            changes={"anonymisation": [None, f"motif : {reason} ; demandée par : {requested_by}"]},
        )
    )
    return person


def _models() -> list[type]:
    """The models of ``_tables()``."""
    tables = {t.name for t in _tables()}
    return [m.class_ for m in db.Model.registry.mappers if m.local_table.name in tables]


def _scrub_trail(session: Session, young_person_id: int) -> None:
    """The audit rows of the young person's records keep what was done, when and by whom, but
    lose the values: each changed field is kept with ERASED in place of its values."""
    owned = [
        sa.and_(AuditEvent.entity == "young_person", AuditEvent.entity_id == young_person_id),
        sa.and_(
            AuditEvent.parent_entity == "young_person", AuditEvent.parent_id == young_person_id
        ),
    ]
    for table in _tables():
        ids = sa.select(table.primary_key.columns[0]).where(
            table.c.young_person_id == young_person_id
        )
        owned.append(sa.and_(AuditEvent.entity == table.name, AuditEvent.entity_id.in_(ids)))
    for event in session.scalars(sa.select(AuditEvent).where(sa.or_(*owned))):
        event.changes = {key: ERASED for key in (event.changes or {})}


# --- the processing register ---------------------------------------------------------------

_STAFF = "Conseillers de son antenne, direction, administrateurs"
_AS_FILE = "Comme le dossier : 2 ans après le dernier contact ou la sortie, puis anonymisation"

#: Each table of the model, described for the register: category of data, purpose,
#: recipients, retention. A table missing here stops the register (and its test): a new table
#: is described before it ships.
REGISTER = {
    "young_person": (
        "Identité, coordonnées et situation du jeune",
        "Accompagnement vers l'emploi, la formation et l'autonomie",
        "Conseillers de son antenne, direction, administrateurs",
        "2 ans après le dernier contact ou la sortie, puis anonymisation",
    ),
    "programme": ("Dispositifs (PACEA, CEJ)", "Suivi des contrats", _STAFF, _AS_FILE),
    "interview": (
        "Entretiens : date, canal, présence, résumé, notes privées du conseiller",
        "Suivi de l'accompagnement",
        "Conseillers de son antenne ; le résumé, au jeune",
        _AS_FILE,
    ),
    "diagnosis_entry": (
        "Diagnostic par domaine, dont santé et handicap (données sensibles)",
        "Diagnostic partagé de la situation",
        "Conseillers de son antenne",
        _AS_FILE,
    ),
    "objective": ("Objectifs du jeune, dans ses mots", "Accompagnement", _STAFF, _AS_FILE),
    "action": ("Actions entre deux entretiens", "Accompagnement", _STAFF, _AS_FILE),
    "proposal": ("Propositions faites au jeune", "Accompagnement, bilans", _STAFF, _AS_FILE),
    "situation": (
        "Situations : emploi, formation, alternance…",
        "Accompagnement, bilans d'activité",
        "Conseillers, direction ; financeurs en chiffres agrégés",
        _AS_FILE,
    ),
    "referral": (
        "Orientations vers des partenaires, motif (peut relever de la santé)",
        "Orientation, avec le consentement du jeune",
        "Le partenaire choisi, pour les seules données consenties",
        _AS_FILE + " ; lien de réponse du partenaire : 8 jours",
    ),
    "aid_request": (
        "Demandes d'aides financières et matérielles",
        "Attribution des aides",
        "Conseillers, direction",
        _AS_FILE,
    ),
    "workflow_event": (
        "Journal des étapes des orientations et des aides",
        "Traçabilité des décisions",
        "Conseillers, direction",
        _AS_FILE,
    ),
    "consent": (
        "Consentements du jeune, par finalité : comment, quand, retrait",
        "Preuve du consentement (RGPD article 7)",
        _STAFF,
        _AS_FILE,
    ),
    "consultation": (
        "Journal des consultations, exports et anonymisations d'un dossier",
        "Sécurité, traçabilité des accès",
        "Référent, direction, administrateurs",
        "1 an",
    ),
    "audit_event": (
        "Journal des modifications (qui, quand, quoi ; valeurs sensibles masquées)",
        "Sécurité, traçabilité",
        "Administrateurs",
        "1 an",
    ),
    "import_run": (
        "Journal des imports de fichiers",
        "Traçabilité des imports",
        "Administrateurs, direction",
        "1 an ; fichiers déposés : 1 heure",
    ),
    "user_account": (
        "Comptes du personnel : identité, rôle, antenne, mot de passe chiffré",
        "Accès au service",
        "Administrateurs",
        "Durée de l'emploi",
    ),
    "site": ("Antennes de la mission locale", "Organisation", "Tous les comptes", "Sans objet"),
    "partner": (
        "Partenaires : coordonnées professionnelles",
        "Orientations",
        "Tous les comptes",
        "Tant que le partenariat dure",
    ),
    "partner_theme": ("Thématiques des partenaires", "Orientations", "Tous", "Sans objet"),
    "theme": ("Thématiques d'activité", "Référentiel", "Tous", "Sans objet"),
    "aid_type": ("Catalogue des aides", "Référentiel", "Tous", "Sans objet"),
    "diagnosis_domain": ("Domaines du diagnostic", "Référentiel", "Tous", "Sans objet"),
    "diagnosis_situation": ("Situations du diagnostic", "Référentiel", "Tous", "Sans objet"),
    "outbox_message": (
        "E-mails envoyés : au partenaire (fiche de liaison consentie, lien de réponse), au "
        "conseiller (notifications), au jeune s'il l'a accepté (rendez-vous, récapitulatif, "
        "lien de son espace)",
        "Informer les personnes concernées de la suite de l'accompagnement",
        "Le destinataire du message ; les administrateurs (suivi des envois)",
        "90 jours après l'envoi (NOTICES_KEEP_DAYS)",
    ),
    "notification": (
        "Notifications des conseillers (réponse d'un partenaire, relance, décision d'aide…)",
        "Suivi des dossiers",
        "Le conseiller concerné",
        "90 jours après lecture (NOTICES_KEEP_DAYS)",
    ),
    "scheduler_lock": (
        "Verrou des tâches planifiées (aucune donnée personnelle)",
        "Fonctionnement",
        "Aucun",
        "Sans objet",
    ),
}


def register_markdown() -> str:
    """The processing register (``docs/registre-des-traitements.md``), generated from the model:
    each table's category, purpose, recipients and retention, and each of its fields, the
    sensitive ones marked."""
    lines = [
        "# Registre des traitements — back-office de la mission locale",
        "",
        "Généré par `flask gdpr-register` depuis le modèle de données : ne pas modifier à la "
        "main (un test vérifie qu'il décrit chaque table et chaque champ).",
        "",
        "Responsable du traitement : la mission locale ; délégué à la protection des données : "
        "voir la configuration (`DPO_CONTACT`). Droits des jeunes : accès et portabilité "
        "(export du dossier), effacement (anonymisation), depuis le dossier ou en ligne de "
        "commande (`flask gdpr-export`, `flask gdpr-anonymise`).",
        "",
    ]
    for table in sorted(db.metadata.sorted_tables, key=lambda t: t.name):
        if table.name not in REGISTER:
            raise KeyError(f"the register does not describe the table {table.name!r}")
        category, purpose, recipients, retention = REGISTER[table.name]
        fields = ", ".join(
            f"{c.key} (sensible)" if c.info.get("sensitive") else c.key for c in table.c
        )
        lines += [
            f"## {table.name}",
            "",
            f"- Catégorie de données : {category}",
            f"- Finalité : {purpose}",
            f"- Destinataires : {recipients}",
            f"- Durée de conservation : {retention}",
            f"- Champs : {fields}",
            "",
        ]
    return "\n".join(lines)


# --- retention ---------------------------------------------------------------------------------


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _expired_by(day: dt.date, years: int):
    """SQL: a young person whose last contact — the last validated interview, else the
    registration — and exit are both older than ``years`` before ``day``, not anonymised, and
    whose retention was not extended beyond ``day``."""
    cutoff = _years_before(day, years)
    return sa.and_(
        YoungPerson.anonymised_at.is_(None),
        YoungPerson.registration_date < cutoff,
        sa.or_(
            YoungPerson.last_interview_at.is_(None),
            YoungPerson.last_interview_at < dt.datetime.combine(cutoff, dt.time()),
        ),
        sa.or_(YoungPerson.exit_date.is_(None), YoungPerson.exit_date < cutoff),
        sa.or_(YoungPerson.retention_until.is_(None), YoungPerson.retention_until < day),
    )


def due_for_anonymisation(session: Session, today: dt.date, years: int) -> list[YoungPerson]:
    """The young people whose retention has ended today."""
    return session.scalars(
        sa.select(YoungPerson).where(_expired_by(today, years)).order_by(YoungPerson.id)
    ).all()


def upcoming_anonymisations(
    session: Session, today: dt.date, years: int, days: int = 30
) -> list[YoungPerson]:
    """The young people whose retention ends within ``days`` (the admin may extend it)."""
    later = today + dt.timedelta(days=days)
    return session.scalars(
        sa.select(YoungPerson)
        .where(_expired_by(later, years), ~_expired_by(today, years))
        .order_by(YoungPerson.last_name, YoungPerson.id)
    ).all()


def extend_retention(person: YoungPerson, until: dt.date | None, note: str, today: dt.date) -> None:
    """Keep a young person's data until ``until`` for a stated reason (e.g. an open aid file)."""
    note = (note or "").strip()
    if until is None or until <= today:
        raise AnonymisationRefused("Prolonger jusqu'à quelle date ? Une date à venir.")
    if not note:
        raise AnonymisationRefused("Dites pourquoi la conservation est prolongée.")
    person.retention_until, person.retention_note = until, note


def old_logs(today: dt.date, days: int):
    """SQL conditions on the journals older than ``days``."""
    cutoff = dt.datetime.combine(today - dt.timedelta(days=days), dt.time())
    return AuditEvent.at < cutoff, Consultation.at < cutoff


def retention(session: Session, today: dt.date, years: int, log_days: int, apply: bool) -> dict:
    """What the retention rules anonymise or purge today, and why; with ``apply``, do it (the
    caller commits). Idempotent: a second run finds nothing."""
    due = due_for_anonymisation(session, today, years)
    audit_old, consultations_old = old_logs(today, log_days)
    from ..models import Referral

    dead_links = sa.and_(
        Referral.answer_nonce.is_not(None),
        Referral.answer_expires_at < dt.datetime.combine(today, dt.time()),
    )
    report = {
        "answer_links": session.scalar(sa.select(sa.func.count()).where(dead_links)),
        "anonymise": [(p.id, f"dernier contact ou sortie il y a plus de {years} ans") for p in due],
        "audit_events": session.scalar(sa.select(sa.func.count()).where(audit_old)),
        "consultations": session.scalar(sa.select(sa.func.count()).where(consultations_old)),
    }
    if apply:
        for person in due:
            try:
                anonymise(
                    session,
                    person.id,
                    f"fin de la durée de conservation ({years} ans)",
                    "règle de conservation",
                    None,
                    now=dt.datetime.combine(today, dt.time()),
                )
            except AnonymisationRefused:  # another server's tick got there first
                continue
        session.flush()
        # The journals past their retention go, in bulk (they are the trail itself).
        session.execute(sa.delete(AuditEvent).where(audit_old))
        session.execute(sa.delete(Consultation).where(consultations_old))
        # A partner's answer link past its expiry: its secret goes (a used one already went).
        for referral in session.scalars(sa.select(Referral).where(dead_links)):
            referral.answer_nonce = None
    return report


# --- consents ------------------------------------------------------------------------------


def record_consent(
    session: Session,
    young_person_id: int,
    purpose: str | None,
    method: str | None,
    given_on: dt.date | None,
    recorded_by_id: int | None,
    today: dt.date,
    partner_id: int | None = None,
) -> Consent:
    """A consent for one purpose: how and when it was given, by whom it is recorded; sharing
    names its partner. Raises :class:`AnonymisationRefused` (a French message)."""
    from . import vocabularies as vocab

    if purpose not in vocab.CONSENT_PURPOSES:
        raise AnonymisationRefused("À quoi le jeune consent-il ? Choisissez dans la liste.")
    if method not in vocab.CONSENT_METHODS:
        raise AnonymisationRefused("Comment le jeune a-t-il donné son accord ? Choisissez.")
    if given_on is None:
        raise AnonymisationRefused("À quelle date le jeune a-t-il donné son accord ?")
    if given_on > today:
        raise AnonymisationRefused("L'accord ne peut pas être daté de demain.")
    if purpose == "sharing" and (partner_id is None or session.get(Partner, partner_id) is None):
        raise AnonymisationRefused(
            "Un partage se consent pour un partenaire nommé : choisissez-le."
        )
    consent = Consent(
        young_person_id=young_person_id,
        purpose=purpose,
        partner_id=partner_id if purpose == "sharing" else None,
        method=method,
        given_on=given_on,
        recorded_by_id=recorded_by_id,
    )
    session.add(consent)
    return consent


def withdraw_consent(consent: Consent, on: dt.date) -> None:
    """The young person withdraws a consent (from that day; it stays in the record)."""
    if consent.withdrawn_on is not None:
        raise AnonymisationRefused("Ce consentement est déjà retiré.")
    consent.withdrawn_on = max(on, consent.given_on)


def consents_of(session: Session, young_person_id: int) -> list[Consent]:
    return session.scalars(
        sa.select(Consent)
        .options(sa.orm.joinedload(Consent.partner))
        .where(Consent.young_person_id == young_person_id)
        .order_by(Consent.given_on.desc(), Consent.id.desc())
    ).all()
