"""Situations (issues #13 and #14): what the young person is doing, dated — recorded from the
file, from a realised proposal in the wizard (at validation only), imported and exported — and
one rule for every door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backoffice.domain import situations
from backoffice.domain.csvio import run_import, spec_for
from backoffice.extensions import db
from backoffice.models import Situation

from .factories import make_site, make_young_person
from .test_csvio import _export
from .test_interview_loop import _earlier_work, _finish_steps
from .test_interviews import _start, _step


def _situations(youth_id=None):
    stmt = sa.select(Situation).order_by(Situation.id)
    if youth_id is not None:
        stmt = stmt.where(Situation.young_person_id == youth_id)
    return db.session.scalars(stmt).all()


def test_the_file_records_a_situation(client, youth):
    response = client.post(
        f"/admin/interviews/file/{youth.id}/situation",
        data={
            "kind": "apprenticeship",
            "start_date": "01/09/2026",
            "organisation": "Boulangerie du Centre",
            "hours_per_week": "35",
        },
    )
    assert response.status_code == 302
    [recorded] = _situations(youth.id)
    assert (recorded.kind, recorded.start_date, recorded.hours_per_week) == (
        "apprenticeship",
        dt.date(2026, 9, 1),
        Decimal("35.0"),
    )
    page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Contrat d'apprentissage" in page and "Boulangerie du Centre" in page
    assert "en cours" in page  # started, not ended


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"kind": "", "start_date": "2026-09-01"}, "kind", "Quelle situation ?"),
        ({"kind": "cdi", "start_date": ""}, "start", "date de début est obligatoire"),
        ({"kind": "cdi", "start_date": "31/02/2026"}, "start", "31/02/2026"),
        (
            {"kind": "cdi", "start_date": "2026-09-01", "end_date": "2026-08-01"},
            "end",
            "La fin précède le début.",
        ),
        ({"kind": "cdi", "start_date": "2026-09-01", "hours_per_week": "1.500"}, "hours", "1.500"),
        ({"kind": "cdi", "start_date": "2026-09-01", "hours_per_week": "80"}, "hours", "0 à 60"),
        ({"kind": "pilote", "start_date": "2026-09-01"}, "kind", "Quelle situation ?"),
    ],
)
def test_a_refused_situation_says_why_under_its_field_and_keeps_what_was_typed(
    client, youth, posted, field, message
):
    data = {"organisation": "Garage Moderne", **posted}
    response = client.post(f"/admin/interviews/file/{youth.id}/situation", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="erreur-situation-{field}"' in body and message in body.replace("&#39;", "'")
    assert 'value="Garage Moderne"' in body  # nothing lost
    assert _situations() == []


def test_a_realised_proposal_offers_the_situation_recorded_at_validation(client, youth):
    _previous, _actions, proposals, _objective = _earlier_work(youth)
    interview = _start(client, youth)
    job = proposals["job"].id
    page = client.get(f"/admin/interviews/{interview.id}/step/1").get_data(as_text=True)
    assert f'name="proposals-{job}-situation_kind"' in page
    assert "Contrat d'apprentissage" in page  # a job may be a work-study contract
    # A situation goes with a realised proposal only, and only a kind that proposal may lead to.
    body = _step(
        client,
        interview,
        1,
        **{
            f"proposals-{job}-outcome": "refused_youth",
            f"proposals-{job}-situation_kind": "cdi",
            f"proposals-{job}-situation_start": "2026-11-18",
        },
    ).get_data(as_text=True)
    assert "proposition réalisée" in body
    body = _step(
        client,
        interview,
        1,
        **{
            f"proposals-{job}-outcome": "done",
            f"proposals-{job}-situation_kind": "training_qualifying",
            f"proposals-{job}-situation_start": "2026-11-18",
        },
    ).get_data(as_text=True)
    assert "Quelle situation ?" in body
    body = _step(
        client,
        interview,
        1,
        **{f"proposals-{job}-outcome": "done", f"proposals-{job}-situation_kind": "cdi"},
    ).get_data(as_text=True)
    assert f'id="erreur-proposals-{job}-situation_start"' in body
    reviews = {
        f"proposals-{job}-outcome": "done",
        f"proposals-{job}-situation_kind": "cdi",
        f"proposals-{job}-situation_start": "18/11/2026",
        f"proposals-{job}-situation_organisation": "Entrepôt Logistique Rhône",
        f"proposals-{job}-situation_hours": "35",
        f"proposals-{proposals['training'].id}-outcome": "ongoing",
    }
    reviews.update({f"actions-{a.id}-choice": "done" for a in _actions.values()})
    assert _step(client, interview, 1, **reviews).status_code == 302
    # The draft keeps it, and shows it again.
    page = client.get(f"/admin/interviews/{interview.id}/step/1").get_data(as_text=True)
    assert 'value="Entrepôt Logistique Rhône"' in page
    assert _situations() == []  # nothing on the file before validation
    _finish_steps(client, interview)
    assert client.post(f"/admin/interviews/{interview.id}/complete").status_code == 302
    [recorded] = _situations(youth.id)
    assert (recorded.kind, recorded.start_date, recorded.proposal_id) == (
        "cdi",
        dt.date(2026, 11, 18),
        job,
    )
    assert recorded.organisation == "Entrepôt Logistique Rhône"


def test_a_discarded_draft_records_no_situation(client, youth):
    _previous, _actions, proposals, _objective = _earlier_work(youth)
    interview = _start(client, youth)
    job = proposals["job"].id
    _step(
        client,
        interview,
        1,
        go="stay",
        **{
            f"proposals-{job}-outcome": "done",
            f"proposals-{job}-situation_kind": "temping",
            f"proposals-{job}-situation_start": "2026-11-18",
        },
    )
    client.post(f"/admin/interviews/{interview.id}/discard")
    assert _situations() == []


def test_the_rule_is_the_same_at_every_door():
    """The file's form, the wizard, the import and the admin form call ``problems``."""
    assert situations.problems("cdi", dt.date(2026, 1, 1)) == []
    assert [
        f for f, _m in situations.problems("cdi", dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    ] == ["end"]
    assert [f for f, _m in situations.problems(None, None, None, Decimal(61))] == [
        "kind",
        "start",
        "hours",
    ]


def _csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_situations_import_and_export_round_trip(app):
    site = make_site(name="Antenne Nord")
    youth = make_young_person(site=site, last_name="Martin", first_name="Léa")
    data = _csv(
        "Jeune;Situation;Début;Fin;Employeur ou organisme;Heures par semaine",
        f"Martin Léa (n°{youth.id});Contrat d'apprentissage;01/09/2026;;Boulangerie;35",
        f"{youth.id};Intérim;02/03/2026;30/03/2026;Adecco;35,5",
    )
    report = run_import(db.session, spec_for("situations"), data, "situations.csv", commit=True)
    assert report.errors == [] and report.created == 2
    assert [s.kind for s in _situations()] == ["apprenticeship", "temping"]
    # Exported, then imported again: nothing changes.
    exported = _export("situations")
    assert (
        "Martin;Léa" not in exported.decode() and f"Martin Léa (n°{youth.id})" in exported.decode()
    )
    again = run_import(db.session, spec_for("situations"), exported, "situations.csv", commit=True)
    assert again.errors == [] and again.created == 0 and again.updated == 0


def test_a_bad_situation_line_is_refused_in_french(app):
    make_young_person()
    data = _csv(
        "Jeune;Situation;Début;Fin",
        "n°99999;CDI;01/09/2026;",
        "1;Emploi en CDI;01/09/2026;01/08/2026",
    )
    report = run_import(db.session, spec_for("situations"), data, "s.csv", commit=True)
    messages = {(e.line, e.column): e.message for e in report.errors}
    assert "inconnu" in messages[(2, "Jeune")]
    assert messages[(3, "Fin")] == "La fin précède le début."
    assert _situations() == []


def test_a_counsellor_imports_situations_of_their_site_only(app):
    mine = make_young_person(site=make_site(name="A"))
    other = make_young_person(site=make_site(name="B"))
    spec = spec_for("situations")
    spec.only_site_id = mine.site_id
    data = _csv("Jeune;Situation;Début", f"{other.id};Intérim;01/09/2026")
    report = run_import(db.session, spec, data, "s.csv", commit=True)
    assert report.errors and "inconnu" in report.errors[0].message


def test_the_situations_screen_lists_and_refuses_in_french(client, youth):
    client.post(
        f"/admin/interviews/file/{youth.id}/situation",
        data={"kind": "civic_service", "start_date": "2026-10-01"},
    )
    listed = client.get("/admin/situation/").get_data(as_text=True)
    assert "Service civique" in listed and f"/admin/interviews/file/{youth.id}" in listed
    response = client.post(
        "/admin/situation/new/",
        data={
            "young_person": str(youth.id),
            "kind": "cdi",
            "start_date": "2026-10-01",
            "end_date": "2026-09-01",
        },
    )
    assert "La fin précède le début." in response.get_data(as_text=True)
    assert len(_situations()) == 1


def test_an_exit_asks_for_the_situation_at_exit(client, admin):
    site = make_site(name="Antenne Sud")
    form = {
        "last_name": "Martin",
        "first_name": "Léo",
        "birth_date": "2005-03-04",
        "site": str(site.id),
        "registration_date": "2025-01-10",
        "status": "active",
        "exit_situation": "cdi",
    }
    refused = client.post("/admin/youngperson/new/", data=form).get_data(as_text=True)
    assert "va avec le statut « Sorti »" in refused
    assert _situations() == []
    form.update(status="exited", exit_reason="employment", exit_date="2026-10-01")
    assert "Situation à la sortie" in client.get("/admin/youngperson/new/").get_data(as_text=True)
    assert client.post("/admin/youngperson/new/", data=form).status_code == 302
    [recorded] = _situations()
    assert (recorded.kind, recorded.start_date) == ("cdi", dt.date(2026, 10, 1))


def test_an_unknown_situation_at_exit_is_refused_in_french(client, admin):
    form = {
        "last_name": "Martin",
        "first_name": "Léa",
        "birth_date": "2005-03-04",
        "site": str(make_site().id),
        "registration_date": "2025-01-10",
        "status": "exited",
        "exit_reason": "employment",
        "exit_date": "2026-10-01",
        "exit_situation": "pilote",
    }
    body = client.post("/admin/youngperson/new/", data=form).get_data(as_text=True)
    assert "Quelle situation ? Choisissez-la dans la liste." in body
    assert _situations() == []
