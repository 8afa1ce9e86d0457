"""django-import-export Resources for the back-office's young-person CSV (French headers/values).

Options follow the library's "Bulk imports" / "Performance tuning" page:
use_bulk + batch_size, skip_diff, CachedForeignKeyWidget for the site and the counsellor, no
full_clean, no stored instances/row values. force_init_instance stays False: rows are matched
against the table by natural key (last name + first name + birth date), which is the job.
"""

from import_export import fields, resources, widgets
from import_export.instance_loaders import ModelInstanceLoader

from . import vocab
from .models import Counsellor, Site, YoungPerson


class LabelWidget(widgets.Widget):
    """A closed list's French label (or its code) -> the stored code; an unknown value is an error."""

    def __init__(self, pairs):
        super().__init__()
        self.codes = {label: code for code, label in pairs} | {code: code for code, _ in pairs}

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        try:
            return self.codes[value]
        except KeyError:
            raise ValueError(f"valeur inconnue : {value!r}") from None


class OuiNonWidget(widgets.BooleanWidget):
    TRUE_VALUES = ["oui", "Oui", "OUI"]
    FALSE_VALUES = ["non", "Non", "NON"]


DATE = widgets.DateWidget(format="%d/%m/%Y")
TEXT = widgets.CharWidget()  # NOT NULL text
OPT_TEXT = widgets.CharWidget(allow_blank=False)  # empty cell -> NULL
OUI_NON = OuiNonWidget()


def col(attribute, header, widget):
    return fields.Field(attribute=attribute, column_name=header, widget=widget)


class YoungPersonResource(resources.ModelResource):
    """Stock instance loader: one ``SELECT ... WHERE last_name=%s AND first_name=%s AND
    birth_date=%s`` per row (ModelInstanceLoader; CachedInstanceLoader only takes one key field)."""

    last_name = col("last_name", "Nom", TEXT)
    first_name = col("first_name", "Prénom", TEXT)
    birth_date = col("birth_date", "Date de naissance", DATE)
    gender = col("gender", "Genre", LabelWidget(vocab.GENDERS))
    email = col("email", "E-mail", OPT_TEXT)
    phone = col("phone", "Téléphone", OPT_TEXT)
    address = col("address", "Adresse", OPT_TEXT)
    postcode = col("postcode", "Code postal", OPT_TEXT)
    city = col("city", "Ville", OPT_TEXT)
    registration_date = col("registration_date", "Date d'inscription", DATE)
    site = col("site", "Antenne", widgets.CachedForeignKeyWidget(Site, field="name"))
    referent = col(
        "referent", "Référent (e-mail)", widgets.CachedForeignKeyWidget(Counsellor, field="email")
    )
    status = col("status", "Statut", LabelWidget(vocab.YOUTH_STATUSES))
    exit_reason = col("exit_reason", "Motif de sortie", LabelWidget(vocab.EXIT_REASONS))
    exit_date = col("exit_date", "Date de sortie", DATE)
    education_level = col(
        "education_level", "Niveau de formation", LabelWidget(vocab.EDUCATION_LEVELS)
    )
    rqth = col("rqth", "RQTH", OUI_NON)
    qpv_resident = col("qpv_resident", "Résident QPV", OUI_NON)
    driving_licence = col("driving_licence", "Permis B", OUI_NON)
    has_vehicle = col("has_vehicle", "Véhiculé", OUI_NON)
    housing_situation = col("housing_situation", "Logement", LabelWidget(vocab.HOUSING_SITUATIONS))
    resources = col("resources", "Ressources", LabelWidget(vocab.RESOURCES))
    rgpd_consent_date = col("rgpd_consent_date", "Consentement RGPD", DATE)

    class Meta:
        model = YoungPerson
        fields = (
            "last_name", "first_name", "birth_date", "gender", "email", "phone", "address",
            "postcode", "city", "registration_date", "site", "referent", "status", "exit_reason",
            "exit_date", "education_level", "rqth", "qpv_resident", "driving_licence",
            "has_vehicle", "housing_situation", "resources", "rgpd_consent_date",
        )  # fmt: skip
        import_id_fields = ("last_name", "first_name", "birth_date")
        use_bulk = True
        batch_size = 1000  # the library's default; the docs advise against None
        skip_diff = True  # no copy/diff per row (skip_unchanged is then inert: it needs the diff)
        skip_html_diff = True
        skip_unchanged = False
        report_skipped = False
        clean_model_instances = False  # the DB's NOT NULL / CHECK constraints do the checking
        force_init_instance = False  # we must match existing rows
        store_instance = False
        store_row_values = False
        use_transactions = True


class NaturalKeyCachedLoader(ModelInstanceLoader):
    """CachedInstanceLoader for a composite key: one query loads the existing rows, then a dict.

    (The stock CachedInstanceLoader refuses keys of more than one field; this is the same idea.)
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.key_fields = [resource.fields[name] for name in resource.get_import_id_fields()]
        attributes = [field.attribute for field in self.key_fields]
        self.instances = {
            tuple(getattr(obj, a) for a in attributes): obj
            for obj in self.get_queryset().iterator(chunk_size=5000)
        }

    def get_instance(self, row):
        if not self.instances:
            return None
        return self.instances.get(tuple(field.clean(row) for field in self.key_fields))


class CachedYoungPersonResource(YoungPersonResource):
    """Same Resource, existing rows matched in memory (one query instead of one per row)."""

    class Meta:
        instance_loader_class = NaturalKeyCachedLoader
