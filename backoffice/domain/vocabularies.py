"""The field's closed lists: one code stored in the database, one French label shown on screen.

Plain Python, no Flask import. The labels are French because French is what counsellors read; they are
msgids for Flask-Babel (marked with ``N_`` so that ``pybabel extract -k N_`` finds them), and the views
translate them at render time for the English locale.

Glossary where English is ambiguous: *orientation* = referral to a partner; *antenne* = site;
*référent* = the one counsellor who follows a young person.
"""

from __future__ import annotations

from collections.abc import Iterator


def N_(text: str) -> str:
    """Mark a string for extraction without translating it now (views translate at render time)."""
    return text


class Vocabulary:
    """An ordered, closed list of ``code -> French label`` pairs.

    >>> v = Vocabulary("colour", [("red", "rouge")])
    >>> v.label("red"), "red" in v, v.codes
    ('rouge', True, ('red',))
    """

    def __init__(self, name: str, pairs: list[tuple[str, str]]):
        self.name = name
        self.pairs = list(pairs)
        self._labels = dict(pairs)
        self.codes = tuple(code for code, _ in pairs)

    def __contains__(self, code: object) -> bool:
        return code in self._labels

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def label(self, code: str | None) -> str:
        """The French label of ``code``; the code itself when unknown, an empty string for None."""
        if code is None:
            return ""
        return self._labels.get(code, code)

    def code_for(self, text: str) -> str | None:
        """Find a code from either its code or its label, ignoring case and surrounding spaces."""
        wanted = text.strip().casefold()
        for code, label in self.pairs:
            if wanted in (code.casefold(), label.casefold()):
                return code
        return None

    def sql_check(self, column: str) -> str:
        """A CHECK constraint expression that keeps the column inside the list."""
        quoted = ", ".join("'" + code.replace("'", "''") + "'" for code in self.codes)
        return f"{column} IN ({quoted})"


ROLES = Vocabulary(
    "role",
    [
        ("admin", N_("Administration")),
        ("counsellor", N_("Conseiller·ère")),
        ("manager", N_("Direction / encadrement")),
    ],
)

GENDERS = Vocabulary(
    "gender",
    [("F", N_("Femme")), ("M", N_("Homme")), ("X", N_("Autre / non précisé"))],
)

YOUTH_STATUSES = Vocabulary(
    "youth_status",
    [
        ("active", N_("En accompagnement")),
        ("on_hold", N_("En veille")),
        ("exited", N_("Sorti")),
    ],
)

EXIT_REASONS = Vocabulary(
    "exit_reason",
    [
        ("employment", N_("Emploi durable")),
        ("training", N_("Formation qualifiante")),
        ("autonomy", N_("Autonomie atteinte")),
        ("age_limit", N_("Limite d'âge")),
        ("moved", N_("Déménagement")),
        ("request", N_("À la demande du jeune")),
        ("no_contact", N_("Sans nouvelles")),
        ("other", N_("Autre")),
    ],
)

EDUCATION_LEVELS = Vocabulary(
    "education_level",
    [
        ("infra3", N_("Infra 3 (aucun diplôme)")),
        ("3", N_("Niveau 3 (CAP, BEP)")),
        ("4", N_("Niveau 4 (baccalauréat)")),
        ("5", N_("Niveau 5 (bac+2)")),
        ("6", N_("Niveau 6 (licence, bac+3)")),
        ("7", N_("Niveau 7 (master)")),
        ("8", N_("Niveau 8 (doctorat)")),
    ],
)

HOUSING_SITUATIONS = Vocabulary(
    "housing",
    [
        ("parents", N_("Hébergé au domicile parental")),
        ("third_party", N_("Hébergé chez un tiers")),
        ("none", N_("Sans hébergement")),
        ("collective", N_("Hébergement collectif (CHRS, CHU, FJT…)")),
        ("tenant", N_("Locataire")),
        ("must_leave", N_("Doit quitter le logement")),
    ],
)

RESOURCES = Vocabulary(
    "resources",
    [
        ("none", N_("Aucune ressource")),
        ("family", N_("Aide familiale")),
        ("allowance", N_("Allocation (PACEA, CEJ, RSA, ARE…)")),
        ("work", N_("Revenus d'activité")),
        ("training_pay", N_("Rémunération de formation")),
        ("other", N_("Autre")),
    ],
)

PROGRAMME_KINDS = Vocabulary(
    "programme",
    [
        ("PACEA", N_("PACEA")),
        ("CEJ", N_("CEJ (Contrat d'engagement jeune)")),
    ],
)

PROGRAMME_END_REASONS = Vocabulary(
    "programme_end",
    [
        ("autonomy", N_("Autonomie atteinte")),
        ("term", N_("Terme du contrat")),
        ("age", N_("Limite d'âge")),
        ("request", N_("À la demande du jeune")),
        ("breach", N_("Manquement aux engagements")),
        ("other", N_("Autre")),
    ],
)

THEMES = Vocabulary(
    "theme",
    [
        ("emploi", N_("Emploi")),
        ("projet_pro", N_("Projet professionnel")),
        ("formation", N_("Formation")),
        ("logement", N_("Logement")),
        ("sante", N_("Santé")),
        ("citoyennete", N_("Citoyenneté")),
        ("loisirs", N_("Loisir, sport, culture")),
    ],
)

# Default hours a theme's activity counts towards the CEJ's 15-20 weekly hours.
THEME_DEFAULT_HOURS = {
    "emploi": 3,
    "projet_pro": 2,
    "formation": 3,
    "logement": 2,
    "sante": 2,
    "citoyennete": 2,
    "loisirs": 2,
}

PARTNER_KINDS = Vocabulary(
    "partner_kind",
    [
        ("training_body", N_("Organisme de formation")),
        ("employer", N_("Employeur")),
        ("france_travail", N_("France Travail")),
        ("cap_emploi", N_("Cap emploi")),
        ("e2c", N_("E2C")),
        ("epide", N_("EPIDE")),
        ("afpa", N_("AFPA")),
        ("ccas", N_("CCAS/CIAS")),
        ("social_service", N_("Service social du département")),
        ("caf", N_("CAF")),
        ("cpam", N_("CPAM")),
        ("doctor", N_("Médecin / centre de santé")),
        ("psychologist", N_("Psychologue / CMP")),
        ("language_platform", N_("Plate-forme linguistique")),
        ("fjt", N_("FJT / résidence sociale")),
        ("chrs", N_("CHRS / hébergement d'urgence")),
        ("driving_school", N_("Auto-école sociale")),
        ("sponsorship", N_("Association de parrainage")),
        ("plie", N_("PLIE")),
        ("siae", N_("SIAE (ACI, EI, ETTI)")),
        ("justice", N_("PJJ / SPIP")),
        ("other", N_("Autre")),
    ],
)

AID_CATEGORIES = Vocabulary(
    "aid_category",
    [
        ("financial", N_("Aide financière")),
        ("transport", N_("Tickets de transport")),
        ("workshop", N_("Atelier (POP…)")),
        ("sponsorship", N_("Parrainage")),
        ("language", N_("Plate-forme linguistique")),
        ("mobilisation", N_("Parcours de mobilisation")),
        ("qualifying_hub", N_("Pôle qualifiant")),
        ("evaluation", N_("Outil de première évaluation")),
        ("health", N_("Santé / psychologue")),
        ("housing", N_("Logement")),
        ("other", N_("Autre")),
    ],
)

AID_UNITS = Vocabulary(
    "aid_unit",
    [
        ("euro", N_("euro")),
        ("ticket", N_("ticket")),
        ("session", N_("séance")),
        ("hour", N_("heure")),
    ],
)

INTERVIEW_CHANNELS = Vocabulary(
    "interview_channel",
    [
        ("appointment", N_("Sur rendez-vous")),
        ("walk_in", N_("Accueil spontané")),
        ("phone", N_("Téléphone")),
        ("video", N_("Visio")),
        ("outside", N_("À l'extérieur")),
    ],
)

INTERVIEW_KINDS = Vocabulary(
    "interview_kind",
    [
        ("first", N_("Premier accueil")),
        ("follow_up", N_("Suivi")),
        ("programme_review", N_("Bilan de programme")),
    ],
)

ATTENDANCE = Vocabulary(
    "attendance",
    [
        ("present", N_("Présent")),
        ("absent", N_("Absent non excusé")),
        ("cancelled_youth", N_("Annulé par le jeune")),
        ("cancelled_structure", N_("Annulé par la structure")),
        ("postponed", N_("Reporté")),
    ],
)

INTERVIEW_STATUSES = Vocabulary(
    "interview_status", [("draft", N_("Brouillon")), ("completed", N_("Validé"))]
)

ASSESSMENTS = Vocabulary(
    "assessment",
    [
        ("no_need", N_("Pas de besoin")),
        ("identified", N_("Besoin identifié")),
        ("in_progress", N_("En cours de traitement")),
        ("resolved", N_("Résolu")),
    ],
)

OBJECTIVE_STATUSES = Vocabulary(
    "objective_status",
    [("open", N_("En cours")), ("reached", N_("Atteint")), ("abandoned", N_("Abandonné"))],
)

ACTION_STATUSES = Vocabulary(
    "action_status",
    [
        ("planned", N_("En projet")),
        ("in_progress", N_("En cours")),
        ("waiting", N_("En attente")),
        ("done", N_("Réalisée")),
        ("abandoned_youth", N_("Abandonnée par le jeune")),
        ("cancelled_structure", N_("Annulée par la structure")),
    ],
)

PARTIES = Vocabulary(
    "party",
    [
        ("young_person", N_("Le jeune")),
        ("counsellor", N_("Le conseiller")),
        ("partner", N_("Un partenaire")),
    ],
)

CREATORS = Vocabulary(
    "creator", [("young_person", N_("Le jeune")), ("counsellor", N_("Le conseiller"))]
)

PROPOSAL_KINDS = Vocabulary(
    "proposal_kind",
    [
        ("training", N_("Formation")),
        ("job", N_("Offre d'emploi / alternance")),
        ("immersion", N_("Immersion en entreprise (PMSMP)")),
        ("workshop", N_("Atelier (POP…)")),
        ("financial_aid", N_("Aide financière")),
        ("material_aid", N_("Aide matérielle (tickets de transport…)")),
        ("referral", N_("Orientation vers un partenaire")),
        ("programme", N_("Entrée en dispositif (CEJ, PACEA, E2C, EPIDE, service civique)")),
        ("information", N_("Information")),
    ],
)

PROPOSAL_OUTCOMES = Vocabulary(
    "proposal_outcome",
    [
        ("prescribed", N_("Prescrit")),
        ("done", N_("Réalisé")),
        ("refused_youth", N_("Refus du jeune")),
        ("refused_third", N_("Refus du tiers")),
    ],
)

#: The four-step autonomy scale, from "doing for" to "doing alone".
AUTONOMY_LEVELS = Vocabulary(
    "autonomy",
    [
        ("1", N_("Le conseiller fait pour le jeune")),
        ("2", N_("Le conseiller fait avec le jeune")),
        ("3", N_("Le jeune fait, avec un soutien")),
        ("4", N_("Le jeune fait seul")),
    ],
)

REFERRAL_STATES = Vocabulary(
    "referral_state",
    [
        ("draft", N_("Brouillon")),
        ("sent", N_("Envoyée")),
        ("accepted", N_("Acceptée")),
        ("refused", N_("Refusée")),
        ("expired", N_("Expirée")),
        ("cancelled", N_("Annulée")),
        ("entered", N_("Entrée")),
        ("completed", N_("Réalisée")),
        ("dropped_out", N_("Abandon du jeune")),
        ("interrupted", N_("Interrompue par le partenaire")),
    ],
)

REFUSAL_REASONS = Vocabulary(
    "refusal_reason",
    [
        ("unreachable", N_("Bénéficiaire non joignable")),
        ("absent", N_("Absent à l'entretien")),
        ("employed", N_("Indisponible : en emploi")),
        ("in_training", N_("Indisponible : en formation")),
        ("not_eligible", N_("Non éligible (pré-requis)")),
        ("not_mobile", N_("Non mobile")),
        ("not_interested", N_("Non intéressé")),
        ("barriers", N_("Freins périphériques")),
        ("full", N_("Session complète")),
        ("duplicate", N_("Orientation en doublon")),
        ("other", N_("Autre")),
    ],
)

CONTACT_PREFERENCES = Vocabulary(
    "contact_preference",
    [
        ("direct", N_("Contacter directement le jeune")),
        ("counsellor", N_("Passer par le conseiller")),
    ],
)

#: What the counsellor may share with the partner, with the young person's consent.
#: How the young person gave their consent to a referral's sharing of data.
CONSENT_METHODS = Vocabulary(
    "consent_method",
    [
        ("oral", N_("Oralement, en entretien")),
        ("written", N_("Par écrit (courriel, message)")),
        ("signed", N_("Document signé")),
    ],
)

SHAREABLE = Vocabulary(
    "shareable",
    [
        ("contact", N_("Coordonnées (téléphone, e-mail)")),
        ("birth_date", N_("Date de naissance")),
        ("address", N_("Adresse")),
        ("education_level", N_("Niveau de formation")),
        ("housing_situation", N_("Situation de logement")),
        ("resources", N_("Ressources")),
        ("driving_licence", N_("Permis et véhicule")),
        ("rqth", N_("RQTH")),
    ],
)

AID_REQUEST_STATES = Vocabulary(
    "aid_request_state",
    [
        ("draft", N_("Brouillon")),
        ("awaiting_documents", N_("En attente de justificatifs")),
        ("under_review", N_("En cours d'instruction")),
        ("granted", N_("Accordée")),
        ("refused", N_("Refusée")),
        ("postponed", N_("Ajournée")),
        ("closed", N_("Classée sans suite")),
        ("paid", N_("Payée")),
    ],
)

PAYMENT_METHODS = Vocabulary(
    "payment_method",
    [
        ("transfer", N_("Virement")),
        ("cheque", N_("Chèque")),
        ("card", N_("Carte")),
        ("cash", N_("Espèces")),
        ("vouchers", N_("Bons / tickets")),
    ],
)

#: What the young person is doing (*situation*), dated: the outcome a mission locale reports.
SITUATION_KINDS = Vocabulary(
    "situation_kind",
    [
        ("cdi", N_("Emploi en CDI")),
        ("cdd_long", N_("Emploi en CDD de 6 mois ou plus")),
        ("cdd_short", N_("Emploi en CDD de moins de 6 mois")),
        ("temping", N_("Intérim")),
        ("subsidised", N_("Contrat aidé")),
        ("self_employed", N_("Création d'entreprise, indépendant")),
        ("apprenticeship", N_("Contrat d'apprentissage")),
        ("professionalisation", N_("Contrat de professionnalisation")),
        ("training_qualifying", N_("Formation qualifiante")),
        ("training_prequalifying", N_("Formation pré-qualifiante")),
        ("training_other", N_("Autre formation")),
        ("immersion", N_("Immersion en entreprise (PMSMP)")),
        ("civic_service", N_("Service civique")),
        ("schooling", N_("Scolarité")),
        ("job_seeking", N_("Recherche d'emploi")),
        ("other", N_("Autre situation")),
    ],
)

#: The families the activity report counts situations by.
SITUATION_FAMILIES = Vocabulary(
    "situation_family",
    [
        ("employment", N_("Emploi")),
        ("work_study", N_("Alternance")),
        ("training", N_("Formation")),
        ("immersion", N_("Immersion")),
        ("civic_service", N_("Service civique")),
        ("schooling", N_("Scolarité")),
        ("job_seeking", N_("Recherche d'emploi")),
        ("other", N_("Autre")),
    ],
)

#: Each situation's family; *lasting employment* is a CDI or a CDD of 6 months or more.
SITUATION_FAMILY_OF = {
    "cdi": "employment",
    "cdd_long": "employment",
    "cdd_short": "employment",
    "temping": "employment",
    "subsidised": "employment",
    "self_employed": "employment",
    "apprenticeship": "work_study",
    "professionalisation": "work_study",
    "training_qualifying": "training",
    "training_prequalifying": "training",
    "training_other": "training",
    "immersion": "immersion",
    "civic_service": "civic_service",
    "schooling": "schooling",
    "job_seeking": "job_seeking",
    "other": "other",
}
LASTING_EMPLOYMENT = frozenset({"cdi", "cdd_long"})

#: The situations a realised proposal of each kind may lead to (the wizard offers to record one).
SITUATIONS_FROM_PROPOSAL = {
    "job": tuple(k for k, f in SITUATION_FAMILY_OF.items() if f in ("employment", "work_study")),
    "training": ("training_qualifying", "training_prequalifying", "training_other"),
    "immersion": ("immersion",),
    "programme": ("civic_service", "training_other", "other"),
}

#: What was done with a young person's file (the consultation log).
CONSULTATION_KINDS = Vocabulary(
    "consultation_kind",
    [
        ("view", N_("Consultation")),
        ("export", N_("Export des données (droit d'accès)")),
        ("anonymise", N_("Anonymisation")),
        ("space", N_("Ouverture de son espace par le jeune")),
    ],
)

#: Where an e-mail of the outbox stands (``domain/outbox.py``).
OUTBOX_STATUSES = Vocabulary(
    "outbox_status",
    [
        ("pending", N_("À envoyer")),
        ("sent", N_("Envoyé")),
        ("failed", N_("Abandonné après plusieurs essais")),
    ],
)

#: Why a message or a notification was written (``domain/notices.py``).
NOTICE_KINDS = Vocabulary(
    "notice_kind",
    [
        ("referral_sent", N_("Orientation envoyée au partenaire")),
        ("referral_answered", N_("Réponse d'un partenaire")),
        ("referral_chase", N_("Orientation à relancer")),
        ("referral_expired", N_("Orientation expirée sans réponse")),
        ("aid_decided", N_("Décision sur une demande d'aide")),
        ("appointment", N_("Confirmation de rendez-vous")),
        ("reminder", N_("Rappel de rendez-vous")),
        ("recap", N_("Récapitulatif d'entretien")),
        ("space_link", N_("Lien vers l'espace du jeune")),
        ("youth_action", N_("Action cochée ou ajoutée par le jeune")),
    ],
)

#: What a young person consents to, each recorded and withdrawable on its own.
CONSENT_PURPOSES = Vocabulary(
    "consent_purpose",
    [
        ("processing", N_("Traitement de ses données pour l'accompagnement")),
        ("sharing", N_("Partage de données avec un partenaire nommé")),
        ("email", N_("Être contacté par e-mail")),
        ("sms", N_("Être contacté par SMS")),
    ],
)

LOCALES = Vocabulary("locale", [("fr", "Français"), ("en", "English")])

ALL = {
    v.name: v
    for v in (
        ROLES,
        GENDERS,
        YOUTH_STATUSES,
        EXIT_REASONS,
        EDUCATION_LEVELS,
        HOUSING_SITUATIONS,
        RESOURCES,
        PROGRAMME_KINDS,
        PROGRAMME_END_REASONS,
        THEMES,
        PARTNER_KINDS,
        AID_CATEGORIES,
        AID_UNITS,
        INTERVIEW_CHANNELS,
        INTERVIEW_KINDS,
        ATTENDANCE,
        INTERVIEW_STATUSES,
        ASSESSMENTS,
        OBJECTIVE_STATUSES,
        ACTION_STATUSES,
        PARTIES,
        CREATORS,
        PROPOSAL_KINDS,
        PROPOSAL_OUTCOMES,
        AUTONOMY_LEVELS,
        SITUATION_KINDS,
        SITUATION_FAMILIES,
        CONSULTATION_KINDS,
        CONSENT_PURPOSES,
        OUTBOX_STATUSES,
        NOTICE_KINDS,
        LOCALES,
    )
}
