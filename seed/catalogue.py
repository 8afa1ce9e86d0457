"""The real catalogue: reference lists of the field, the mission locale's toolbox, and partners.

Plain functions over a SQLAlchemy session; every loader is idempotent (matches on the natural key
and only adds what is missing), so ``seed-catalogue`` can run at every deployment.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from backoffice.domain.vocabularies import THEME_DEFAULT_HOURS, THEMES
from backoffice.models import AidType, DiagnosisDomain, DiagnosisSituation, Partner, Theme

# Diagnostic domains of the whole situation and their checklist situations (DOMAIN.md).
DIAGNOSIS_DOMAINS: list[tuple[str, str, list[str]]] = [
    (
        "logement",
        "Logement",
        [
            "Hébergé au domicile parental",
            "Hébergé chez un tiers",
            "Sans hébergement",
            "Hébergement collectif (CHRS, CHU, FJT…)",
            "Locataire",
            "Doit quitter le logement",
        ],
    ),
    (
        "emploi",
        "Emploi",
        [
            "Jamais travaillé",
            "Expériences courtes (intérim, saisonnier)",
            "En emploi précaire",
            "En recherche active",
            "Inscrit à France Travail",
        ],
    ),
    (
        "formation",
        "Formation",
        [
            "Sorti du système scolaire sans diplôme",
            "Décrocheur de moins d'un an",
            "Projet de formation identifié",
            "Formation en cours",
            "Besoin d'une remise à niveau",
        ],
    ),
    (
        "administratif",
        "Difficultés administratives",
        [
            "Pièce d'identité à renouveler",
            "Titre de séjour à renouveler",
            "Pas de compte bancaire",
            "Déclarations (CAF, impôts) à faire",
        ],
    ),
    (
        "financier",
        "Difficultés financières",
        [
            "Aucune ressource",
            "Dettes ou impayés",
            "Besoin d'une aide d'urgence",
            "Ressources irrégulières",
        ],
    ),
    (
        "mobilite",
        "Mobilité",
        [
            "Aucun moyen de transport",
            "Dépendant des transports en commun",
            "Code obtenu",
            "Permis en cours",
            "Permis B",
            "Véhicule",
        ],
    ),
    (
        "sante",
        "Santé",
        [
            "Couverture sociale à mettre à jour",
            "Difficulté d'accès à un professionnel de santé",
            "Dossier MDPH",
            "Souffrance psychique exprimée",
            "Addiction",
        ],
    ),
    (
        "famille",
        "Contraintes familiales",
        [
            "Enfant(s) à charge",
            "Mode de garde à trouver",
            "Aidant familial",
            "Conflit familial",
        ],
    ),
    (
        "langue",
        "Maîtrise de la langue française",
        [
            "Français langue étrangère",
            "Compréhension orale difficile",
            "Écrit difficile",
        ],
    ),
    (
        "numerique",
        "Numérique",
        [
            "Pas d'adresse e-mail",
            "Pas d'équipement",
            "Difficulté avec les démarches en ligne",
        ],
    ),
    (
        "savoirs_base",
        "Savoirs de base (lecture, écriture, calcul)",
        [
            "Lecture difficile",
            "Écriture difficile",
            "Calcul difficile",
        ],
    ),
    (
        "remobilisation",
        "Remobilisation / confiance en soi",
        [
            "Isolement",
            "Manque de confiance en soi",
            "Rythme de vie à reconstruire",
        ],
    ),
    (
        "citoyennete",
        "Citoyenneté",
        [
            "Démarches de recensement / JDC à faire",
            "Suivi PJJ / SPIP",
            "Engagement associatif",
        ],
    ),
    (
        "loisirs",
        "Loisirs, sport, culture",
        [
            "Aucune activité de loisir",
            "Pratique sportive",
            "Accès à la culture à développer",
        ],
    ),
]

# code, name, category, unit, default amount, yearly envelope, ceiling per young person per year
AID_CATALOGUE: list[tuple[str, str, str, str, str | None, str | None, str | None, str]] = [
    (
        "TICKETS-TRANSPORT",
        "Tickets de transport",
        "transport",
        "ticket",
        "10",
        "12000",
        "60",
        "Tickets de bus et de tram pour les démarches (entretiens, stages, formation).",
    ),
    (
        "FAJ-SUBSISTANCE",
        "FAJ – subsistance / urgence",
        "financial",
        "euro",
        "150",
        "60000",
        "500",
        "Fonds d'aide aux jeunes : alimentation, hygiène, dépannage d'urgence.",
    ),
    (
        "FAJ-MOBILITE",
        "FAJ – mobilité (permis, transport)",
        "financial",
        "euro",
        "300",
        "45000",
        "800",
        "Fonds d'aide aux jeunes : permis de conduire, abonnement, réparation de véhicule.",
    ),
    (
        "FAJ-FORMATION",
        "FAJ – formation",
        "financial",
        "euro",
        "250",
        "30000",
        "600",
        "Fonds d'aide aux jeunes : frais d'inscription, équipement, tenue professionnelle.",
    ),
    (
        "FAJ-LOGEMENT",
        "FAJ – logement",
        "housing",
        "euro",
        "300",
        "35000",
        "700",
        "Fonds d'aide aux jeunes : dépôt de garantie, premier loyer, équipement.",
    ),
    (
        "FAJ-SANTE",
        "FAJ – santé",
        "health",
        "euro",
        "100",
        "15000",
        "300",
        "Fonds d'aide aux jeunes : soins non couverts, lunettes, mutuelle.",
    ),
    (
        "ALLOCATION-PACEA",
        "Allocation PACEA",
        "financial",
        "euro",
        "300",
        "120000",
        "1800",
        "Allocation ponctuelle versée pendant les périodes sans autre ressource du PACEA.",
    ),
    (
        "ALLOCATION-CEJ",
        "Allocation CEJ",
        "financial",
        "euro",
        "528",
        "400000",
        "6336",
        "Allocation mensuelle du Contrat d'engagement jeune, conditionnée aux engagements.",
    ),
    (
        "POP",
        "Atelier POP – Parcours d'orientation professionnelle",
        "workshop",
        "session",
        None,
        None,
        None,
        "Atelier collectif pour construire son projet professionnel.",
    ),
    (
        "PARRAINAGE",
        "Parrainage par un professionnel bénévole",
        "sponsorship",
        "session",
        None,
        None,
        None,
        "Un professionnel en activité accompagne le jeune vers l'emploi.",
    ),
    (
        "PF-LINGUISTIQUE",
        "Plate-forme linguistique",
        "language",
        "hour",
        None,
        None,
        None,
        "Évaluation et cours de français langue étrangère ou d'alphabétisation.",
    ),
    (
        "PARCOURS-MOBILISATION",
        "Parcours de mobilisation",
        "mobilisation",
        "hour",
        None,
        None,
        None,
        "Remobilisation, reprise de rythme, ateliers collectifs.",
    ),
    (
        "POLE-QUALIFIANT",
        "Pôle qualifiant",
        "qualifying_hub",
        "hour",
        None,
        None,
        None,
        "Parcours menant à une qualification reconnue.",
    ),
    (
        "EVAL-PREMIERE",
        "Outil de première évaluation",
        "evaluation",
        "session",
        None,
        None,
        None,
        "Premier repérage des savoirs de base, de la santé et des freins.",
    ),
    (
        "CONSULT-PSY",
        "Consultation psychologue",
        "health",
        "session",
        "0",
        None,
        "6",
        "Consultations gratuites avec le psychologue partenaire (point écoute jeunes).",
    ),
    (
        "BILAN-SANTE",
        "Bilan de santé",
        "health",
        "session",
        "0",
        None,
        "1",
        "Bilan de santé gratuit (CPAM) et orientation vers le médecin généraliste.",
    ),
    (
        "AUTO-ECOLE-SOCIALE",
        "Auto-école sociale",
        "transport",
        "hour",
        "35",
        "20000",
        "1200",
        "Apprentissage de la conduite à tarif adapté.",
    ),
]

# name, kind, themes, city, postcode, contact, aid codes delivered
PARTNERS: list[tuple[str, str, list[str], str, str, str, list[str]]] = [
    (
        "Cabinet médical des Tilleuls",
        "doctor",
        ["sante"],
        "Lyon",
        "69003",
        "Dr Claire Martin",
        ["BILAN-SANTE"],
    ),
    (
        "Point accueil écoute jeunes",
        "psychologist",
        ["sante"],
        "Lyon",
        "69007",
        "Samir Benali, psychologue",
        ["CONSULT-PSY"],
    ),
    ("CMP Jeunes adultes", "psychologist", ["sante"], "Villeurbanne", "69100", "Accueil", []),
    ("AFPA Vénissieux", "afpa", ["formation"], "Vénissieux", "69200", "Service admissions", []),
    (
        "France Travail Lyon Part-Dieu",
        "france_travail",
        ["emploi"],
        "Lyon",
        "69003",
        "Conseiller référent jeunes",
        [],
    ),
    ("Cap emploi Rhône", "cap_emploi", ["emploi"], "Lyon", "69002", "Accueil", []),
    (
        "École de la 2e chance",
        "e2c",
        ["formation", "projet_pro"],
        "Lyon",
        "69009",
        "Admissions",
        ["POLE-QUALIFIANT"],
    ),
    ("EPIDE", "epide", ["formation", "citoyennete"], "Meyzieu", "69330", "Recrutement", []),
    (
        "Langues et savoirs",
        "language_platform",
        ["formation"],
        "Lyon",
        "69008",
        "Coordination FLE",
        ["PF-LINGUISTIQUE"],
    ),
    (
        "Réseau parrainage emploi",
        "sponsorship",
        ["emploi", "projet_pro"],
        "Lyon",
        "69001",
        "Coordinatrice",
        ["PARRAINAGE"],
    ),
    ("FJT Les Acacias", "fjt", ["logement"], "Villeurbanne", "69100", "Admissions", []),
    ("CHRS Le Relais", "chrs", ["logement"], "Lyon", "69007", "Veille sociale", []),
    (
        "Auto-école solidaire",
        "driving_school",
        ["emploi"],
        "Vaulx-en-Velin",
        "69120",
        "Moniteur référent",
        ["AUTO-ECOLE-SOCIALE"],
    ),
    ("CPAM du Rhône", "cpam", ["sante"], "Lyon", "69003", "Service partenaires", []),
    ("CAF du Rhône", "caf", ["logement"], "Lyon", "69003", "Service partenaires", []),
    ("CCAS de Villeurbanne", "ccas", ["logement", "sante"], "Villeurbanne", "69100", "Accueil", []),
    (
        "Centre de formation Horizons",
        "training_body",
        ["formation", "projet_pro"],
        "Bron",
        "69500",
        "Responsable pédagogique",
        ["POP", "PARCOURS-MOBILISATION"],
    ),
    ("Restaurant Le Comptoir", "employer", ["emploi"], "Lyon", "69002", "Gérant", []),
    (
        "Chantier d'insertion Recyclerie",
        "siae",
        ["emploi"],
        "Vénissieux",
        "69200",
        "Encadrant technique",
        [],
    ),
    ("PLIE Lyon Métropole", "plie", ["emploi"], "Lyon", "69003", "Coordination", []),
    (
        "Club sportif de quartier",
        "other",
        ["loisirs", "citoyennete"],
        "Lyon",
        "69008",
        "Éducateur sportif",
        [],
    ),
]


def luhn_siret(prefix: str) -> str:
    """Complete a 13-digit prefix into a valid SIRET (demo partners only)."""
    for last in "0123456789":
        candidate = prefix + last
        total = 0
        for index, char in enumerate(reversed(candidate)):
            digit = int(char) * (2 if index % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return candidate
    raise ValueError(prefix)  # unreachable: one of the ten digits always fits


def load_themes(session: Session) -> int:
    """Activity themes with their default CEJ hours; returns how many were added."""
    existing = set(session.scalars(sa.select(Theme.code)))
    added = 0
    for code, name in THEMES:
        if code not in existing:
            session.add(Theme(code=code, name=name, default_hours=THEME_DEFAULT_HOURS[code]))
            added += 1
    session.flush()
    return added


def load_diagnosis(session: Session) -> int:
    """Diagnosis domains and their checklist situations; returns how many rows were added."""
    added = 0
    domains = {d.code: d for d in session.scalars(sa.select(DiagnosisDomain))}
    for position, (code, name, situations) in enumerate(DIAGNOSIS_DOMAINS, start=1):
        domain = domains.get(code)
        if domain is None:
            domain = DiagnosisDomain(code=code, name=name, position=position)
            session.add(domain)
            added += 1
        known = {s.label for s in domain.situations}
        for index, label in enumerate(situations, start=1):
            if label not in known:
                domain.situations.append(DiagnosisSituation(label=label, position=index))
                added += 1
    session.flush()
    return added


def load_partners(session: Session) -> int:
    """Partners of the toolbox (doctor, psychologist, training bodies…); returns how many added."""
    themes = {t.code: t for t in session.scalars(sa.select(Theme))}
    existing = set(session.scalars(sa.select(Partner.name)))
    added = 0
    for index, (name, kind, theme_codes, city, postcode, contact, _aids) in enumerate(PARTNERS):
        if name in existing:
            continue
        slug = "".join(
            ch for ch in unicodedata.normalize("NFKD", name.lower()) if ch.isalnum() or ch == " "
        ).replace(" ", "-")
        session.add(
            Partner(
                name=name,
                kind=kind,
                themes=[themes[c] for c in theme_codes if c in themes],
                city=city,
                postcode=postcode,
                contact_name=contact,
                email=f"contact@{slug[:20].strip('-')}.example.org",
                phone=f"04 78 {10 + index:02d} {20 + index:02d} {30 + index:02d}",
                siret=luhn_siret(f"{(index + 1) * 7919:09d}0001") if index % 3 else None,
                active=True,
            )
        )
        added += 1
    session.flush()
    return added


#: Up to these amounts a counsellor grants directly (issue #13): ten tickets, an urgent 100 €.
DELEGATION_THRESHOLDS = {"TICKETS-TRANSPORT": "20", "FAJ-SUBSISTANCE": "100"}


def load_aid_catalogue(session: Session) -> int:
    """The aid catalogue, linked to the partner that delivers each aid; returns how many added."""
    existing = set(session.scalars(sa.select(AidType.code)))
    deliverers = {}
    for name, _kind, _themes, _city, _postcode, _contact, aid_codes in PARTNERS:
        for code in aid_codes:
            deliverers[code] = name
    partners = {p.name: p for p in session.scalars(sa.select(Partner))}
    added = 0
    for code, name, category, unit, amount, budget, ceiling, description in AID_CATALOGUE:
        if code in existing:
            continue
        session.add(
            AidType(
                code=code,
                name=name,
                category=category,
                unit=unit,
                default_amount=Decimal(amount) if amount is not None else None,
                yearly_budget=Decimal(budget) if budget is not None else None,
                ceiling_per_youth=Decimal(ceiling) if ceiling is not None else None,
                delegation_threshold=(
                    Decimal(DELEGATION_THRESHOLDS[code]) if code in DELEGATION_THRESHOLDS else None
                ),
                description=description,
                partner=partners.get(deliverers.get(code, "")),
                active=True,
            )
        )
        added += 1
    session.flush()
    return added


def load_catalogue(session: Session) -> dict[str, int]:
    """Load every reference list and the catalogue, idempotently; returns the counts added."""
    counts = {
        "themes": load_themes(session),
        "diagnosis": load_diagnosis(session),
        "partners": load_partners(session),
        "aids": load_aid_catalogue(session),
    }
    session.commit()
    return counts
