"""Bad input: does every mistake get a clear French message, never a 500, and nothing saved?"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import AidType, Partner, Programme, Site, YoungPerson

from .factories import make_aid_type, make_partner, make_site, make_young_person


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _youth_form(**overrides):
    data = {
        "last_name": "Martin",
        "first_name": "Léo",
        "birth_date": "2005-03-04",
        "site": str(make_site().id),
        "status": "active",
        "registration_date": "2025-01-10",
    }
    return {**data, **overrides}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "pas-une-adresse"}, "Adresse e-mail invalide."),
        ({"phone": "123"}, "pas un numéro de téléphone (06 12 34 56 78)"),
        ({"postcode": "690"}, "pas un code postal (5 chiffres)"),
        ({"birth_date": "2999-01-01"}, "La date de naissance est dans le futur."),
        ({"birth_date": "31/02/2005"}, "pas une date qui existe"),
        ({"birth_date": "2005"}, "pas une date : écrivez-la JJ/MM/AAAA"),
        ({"last_name": ""}, "Ce champ est requis."),
        (
            {"status": "exited"},
            "Pour un jeune sorti, indiquez aussi la date et le motif de sortie.",
        ),
        (
            {"status": "exited", "exit_reason": "employment", "exit_date": "2024-01-01"},
            "La sortie précède l&#39;inscription.",
        ),
        ({"status": "bogus"}, "N&#39;est pas un choix valide"),
        ({"site": "999999"}, "Ce champ est requis."),
    ],
)
def test_young_person_form_errors(client, admin, overrides, message):
    response = client.post("/admin/youngperson/new/", data=_youth_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(YoungPerson) == 0


def test_overlapping_programmes_are_refused(client, admin):
    data = _youth_form(
        **{
            "programmes-0-kind": "PACEA",
            "programmes-0-start_date": "2025-01-15",
            "programmes-1-kind": "CEJ",
            "programmes-1-start_date": "2025-06-01",
        }
    )
    body = client.post("/admin/youngperson/new/", data=data).get_data(as_text=True)
    assert "Deux programmes se chevauchent" in body
    assert _count(YoungPerson) == 0 and _count(Programme) == 0


def test_consecutive_programmes_are_accepted(client, admin):
    data = _youth_form(
        **{
            "programmes-0-kind": "PACEA",
            "programmes-0-start_date": "2025-01-15",
            "programmes-0-actual_end_date": "2025-05-31",
            "programmes-0-end_reason": "term",
            "programmes-1-kind": "CEJ",
            "programmes-1-start_date": "2025-06-01",
        }
    )
    assert client.post("/admin/youngperson/new/", data=data).status_code == 302
    assert _count(Programme) == 2


def test_registration_outside_16_25_warns_but_keeps_the_record(client, admin):
    data = _youth_form(birth_date="1990-01-01")
    response = client.post("/admin/youngperson/new/", data=data, follow_redirects=True)
    assert "accompagnement s&#39;adresse aux 16-25 ans" in response.get_data(as_text=True)
    assert _count(YoungPerson) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"siret": "123 456 789 00012"}, "pas un SIRET valide"),
        ({"website": "pas un site"}, "Adresse web attendue"),
        ({"kind": "inconnu"}, "N&#39;est pas un choix valide"),
        ({"name": ""}, "Ce champ est requis."),
    ],
)
def test_partner_form_errors(client, admin, data, message):
    form = {"name": "Atelier", "kind": "training_body", **data}
    body = client.post("/admin/partner/new/", data=form).get_data(as_text=True)
    assert message in body
    assert _count(Partner) == 0


def test_duplicate_siret_is_refused_clearly(client, admin):
    make_partner(siret="73282932000074")
    body = client.post(
        "/admin/partner/new/", data={"name": "Autre", "kind": "other", "siret": "73282932000074"}
    ).get_data(as_text=True)
    assert "Existe déjà." in body
    assert _count(Partner) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"yearly_budget": "beaucoup"}, "pas un nombre (ex. 1 500,50)"),
        ({"default_amount": "-5"}, "Montant positif."),
        ({"code": "é"}, "Code en majuscules"),
        ({"category": "nope"}, "N&#39;est pas un choix valide"),
    ],
)
def test_aid_type_form_errors(client, admin, data, message):
    form = {"code": "NEW", "name": "Nouvelle aide", "category": "financial", "unit": "euro", **data}
    body = client.post("/admin/aidtype/new/", data=form).get_data(as_text=True)
    assert message in body
    assert _count(AidType) == 0


def test_duplicate_aid_code_is_refused(client, admin):
    make_aid_type(code="POP")
    body = client.post(
        "/admin/aidtype/new/",
        data={"code": "pop", "name": "Doublon", "category": "workshop", "unit": "session"},
    ).get_data(as_text=True)
    assert "Existe déjà." in body
    assert _count(AidType) == 1


def test_short_password_is_refused_on_the_accounts_screen(client, admin):
    body = client.post(
        "/admin/account/new/",
        data={
            "full_name": "X",
            "email": "x@example.org",
            "role": "admin",
            "new_password": "court",
        },
    ).get_data(as_text=True)
    assert "au moins 12 caractères" in body


def test_deleting_a_site_that_still_has_young_people_is_refused(client, admin):
    site = make_site()
    make_young_person(site=site)
    response = client.post("/admin/site/delete/", data={"id": site.id}, follow_redirects=True)
    assert response.status_code == 200
    assert "Enregistrement refusé" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _count(YoungPerson) == 1


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-3",
        "?page_size=abc",
        "?page_size=100000",
        "?sort=99",
        "?sort=abc&desc=x",
        "?flt0_99=1",
        "?flt0_xyz=1",
        "?search=%27%3B--",
        "?flt1_0=not-a-number",
    ],
)
@pytest.mark.parametrize("endpoint", ["youngperson", "partner", "aidtype", "counsellor"])
def test_malformed_list_parameters_never_fail(client, admin, endpoint, query):
    response = client.get(f"/admin/{endpoint}/{query}")
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("page", ["details", "edit"])
@pytest.mark.parametrize("record_id", ["abc", "999999", "", "1.5", "99999999999999999999"])
def test_malformed_or_missing_ids_say_the_record_does_not_exist(client, admin, page, record_id):
    make_young_person()
    response = client.get(f"/admin/youngperson/{page}/?id={record_id}", follow_redirects=True)
    assert response.status_code == 200
    assert "n&#39;existe pas" in response.get_data(as_text=True) or "Jeunes" in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    "query",
    ["details/?id=%00", "?search=a%00b", "?flt0_0=%00", "?search=%01", "export/csv/?search=%00"],
)
def test_control_characters_are_refused_with_a_french_page(client, admin, query):
    response = client.get(f"/admin/youngperson/{query}")
    assert response.status_code == 400
    assert "caractères invalides" in response.get_data(as_text=True)


def test_control_characters_in_a_form_are_refused_and_nothing_is_saved(client, admin):
    response = client.post("/admin/site/new/", data={"name": "Antenne\x00Nord"})
    assert response.status_code == 400
    assert _count(Site) == 0


def test_unknown_page_is_a_french_404(client, admin):
    response = client.get("/admin/nope/")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_date_filter_with_garbage_is_ignored_with_a_message(client, admin):
    make_young_person(last_name="Visible", registration_date=dt.date(2025, 1, 1))
    view = next(
        v
        for v in client.application.extensions["admin"][0]._views
        if getattr(v, "endpoint", "") == "youngperson"
    )
    key = next(
        k
        for k, (_i, f) in view._filter_args.items()
        if getattr(f.column, "key", "") == "registration_date"
    )
    response = client.get(f"/admin/youngperson/?flt0_{key}=pas-une-date")
    assert response.status_code == 200
    assert "Visible" in response.get_data(as_text=True)
