"""Mirror of the back-office's Site, User (counsellor) and YoungPerson tables.

Same columns, types, NOT NULLs, indexes and CHECK constraints as ``young_person``; Site and the
counsellor table are reduced to the columns the import looks up (name, e-mail).
"""

import datetime as dt

from django.db import models
from django.db.models import Q

from . import vocab


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def in_list(column: str, pairs) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{column}__in": [code for code, _ in pairs]})
        | Q(**{f"{column}__isnull": True}),
        name=f"{column}_in_list",
    )


class Timestamped(models.Model):
    created_at = models.DateTimeField(default=utcnow)
    updated_at = models.DateTimeField(default=utcnow)
    version = models.IntegerField(default=1)

    class Meta:
        abstract = True


class Site(Timestamped):
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        db_table = "site"


class Counsellor(Timestamped):
    """Stands for the back-office's ``user_account`` (a counsellor is a user)."""

    email = models.CharField(max_length=254, unique=True)

    class Meta:
        db_table = "user_account"


class YoungPerson(Timestamped):
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100)
    birth_date = models.DateField(db_index=True)
    gender = models.CharField(max_length=1, null=True)
    email = models.CharField(max_length=254, null=True, db_index=True)
    phone = models.CharField(max_length=20, null=True)
    address = models.CharField(max_length=200, null=True)
    postcode = models.CharField(max_length=5, null=True)
    city = models.CharField(max_length=120, null=True, db_index=True)
    registration_date = models.DateField(default=dt.date.today, db_index=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT)  # indexed by Django
    referent = models.ForeignKey(Counsellor, null=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, default="active", db_index=True)
    exit_reason = models.CharField(max_length=16, null=True)
    exit_date = models.DateField(null=True)
    education_level = models.CharField(max_length=8, null=True)
    rqth = models.BooleanField(default=False)
    qpv_resident = models.BooleanField(default=False)
    driving_licence = models.BooleanField(default=False)
    has_vehicle = models.BooleanField(default=False)
    housing_situation = models.CharField(max_length=16, null=True)
    resources = models.CharField(max_length=16, null=True)
    rgpd_consent_date = models.DateField(null=True)

    class Meta:
        db_table = "young_person"
        indexes = [models.Index(fields=["last_name", "first_name"], name="ix_young_person_name")]
        constraints = [
            in_list("gender", vocab.GENDERS),
            in_list("status", vocab.YOUTH_STATUSES),
            in_list("exit_reason", vocab.EXIT_REASONS),
            in_list("education_level", vocab.EDUCATION_LEVELS),
            in_list("housing_situation", vocab.HOUSING_SITUATIONS),
            in_list("resources", vocab.RESOURCES),
            models.CheckConstraint(
                condition=~Q(status="exited") | Q(exit_date__isnull=False), name="exit_has_date"
            ),
        ]
