"""The six closed lists of the young person's record, (code, French label) pairs.

Copied from backoffice/domain/vocabularies.py so that this project stands alone.
"""

GENDERS = [("F", "Femme"), ("M", "Homme"), ("X", "Autre / non précisé")]
YOUTH_STATUSES = [("active", "En accompagnement"), ("on_hold", "En veille"), ("exited", "Sorti")]
EXIT_REASONS = [
    ("employment", "Emploi durable"),
    ("training", "Formation qualifiante"),
    ("autonomy", "Autonomie atteinte"),
    ("age_limit", "Limite d'âge"),
    ("moved", "Déménagement"),
    ("request", "À la demande du jeune"),
    ("no_contact", "Sans nouvelles"),
    ("other", "Autre"),
]
EDUCATION_LEVELS = [
    ("infra3", "Infra 3 (aucun diplôme)"),
    ("3", "Niveau 3 (CAP, BEP)"),
    ("4", "Niveau 4 (baccalauréat)"),
    ("5", "Niveau 5 (bac+2)"),
    ("6", "Niveau 6 (licence, bac+3)"),
    ("7", "Niveau 7 (master)"),
    ("8", "Niveau 8 (doctorat)"),
]
HOUSING_SITUATIONS = [
    ("parents", "Hébergé au domicile parental"),
    ("third_party", "Hébergé chez un tiers"),
    ("none", "Sans hébergement"),
    ("collective", "Hébergement collectif (CHRS, CHU, FJT…)"),
    ("tenant", "Locataire"),
    ("must_leave", "Doit quitter le logement"),
]
RESOURCES = [
    ("none", "Aucune ressource"),
    ("family", "Aide familiale"),
    ("allowance", "Allocation (PACEA, CEJ, RSA, ARE…)"),
    ("work", "Revenus d'activité"),
    ("training_pay", "Rémunération de formation"),
    ("other", "Autre"),
]
