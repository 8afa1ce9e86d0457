"""Situations: the young people's jobs, trainings, work-study contracts… — a generated screen with
its CSV/Excel import and export; most are recorded from the file or the wizard."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, InputRequired, ValidationError

from ..domain import situations
from .base import ACCOMPANIMENT_RECORDS, BackofficeModelView
from .referrals import scoped_young_people


def _young_person_cell(view, context, model, name):
    from flask import url_for
    from markupsafe import Markup, escape

    youth = model.young_person
    url = url_for("interviews.file", young_person_id=youth.id)
    return Markup(f'<a href="{url}">{escape(youth)}</a>')


class SituationView(BackofficeModelView):
    """Situations des jeunes: what each young person is doing, dated (the outcomes reported)."""

    csv_entity = "situations"
    permissions = ACCOMPANIMENT_RECORDS
    column_list = form_columns = [
        "young_person",
        "kind",
        "start_date",
        "end_date",
        "organisation",
        "hours_per_week",
    ]
    column_labels = {
        "young_person": _l("Jeune"),
        "kind": _l("Situation"),
        "start_date": _l("Début"),
        "end_date": _l("Fin"),
        "organisation": _l("Employeur ou organisme"),
        "hours_per_week": _l("Heures par semaine"),
        "proposal": _l("Proposition d'origine"),
    }
    column_sortable_list = ["kind", "start_date", "end_date", "organisation"]
    column_default_sort = ("start_date", True)
    column_searchable_list = ["organisation"]
    column_filters = [
        "kind",
        "start_date",
        "end_date",
    ]
    column_formatters = {"young_person": _young_person_cell}
    form_args = {
        "young_person": {"query_factory": scoped_young_people, "validators": [DataRequired()]},
        "kind": {"validators": [DataRequired()]},
        "start_date": {"validators": [InputRequired()]},
    }

    def on_model_change(self, form, model, is_created):
        """The one rule of every door (``domain.situations.problems``)."""
        found = situations.problems(
            model.kind, model.start_date, model.end_date, model.hours_per_week
        )
        if found:
            raise ValidationError(str(found[0][1]))

    def create_form(self, obj=None):
        """``?young_person=<id>`` (from the file) pre-selects them."""
        form = super().create_form(obj)
        wanted = request.args.get("young_person", type=int)
        if request.method == "GET" and wanted:
            form.young_person.data = next(
                (y for y in scoped_young_people() if y.id == wanted), None
            )
        return form
