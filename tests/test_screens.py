"""Generated screens, as an admin: can staff list, search, filter, create, edit, open and delete?"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import (
    AidType,
    DiagnosisDomain,
    DiagnosisSituation,
    Partner,
    Site,
    Theme,
    User,
    YoungPerson,
)

from .factories import make_aid_type, make_partner, make_site, make_user, make_young_person


@dataclass
class Screen:
    endpoint: str
    title: str
    model: type
    make: Callable  # builds one record whose "needle" is searchable
    needle: str  # the text searched for and checked in the list
    form: Callable  # form data creating a record named by "created"
    created: str
    edit_field: str
    edit_value: str


def _domain(**kw):
    record = DiagnosisDomain(code=kw.get("code", "logement"), name=kw.get("name", "Logement"))
    db.session.add(record)
    db.session.commit()
    return record


def _situation():
    record = DiagnosisSituation(domain=_domain(), label="Hébergé chez un tiers", position=1)
    db.session.add(record)
    db.session.commit()
    return record


def _theme():
    record = Theme(code="emploi", name="Emploi", default_hours=3)
    db.session.add(record)
    db.session.commit()
    return record


SCREENS = [
    Screen(
        "youngperson",
        "Jeunes",
        YoungPerson,
        lambda: make_young_person(last_name="Zidane", first_name="Inès", city="Bron"),
        "Zidane",
        lambda: {
            "last_name": "Durand",
            "first_name": "Léa",
            "birth_date": "2006-04-02",
            "site": str(make_site().id),
            "status": "active",
            "registration_date": "2025-09-01",
            "email": "lea.durand@example.fr",
            "phone": "06 12 34 56 78",
            "postcode": "69003",
        },
        "Durand",
        "city",
        "Villeurbanne",
    ),
    Screen(
        "counsellor",
        "Conseillers",
        User,
        lambda: make_user(full_name="Jeanne Zola", role="counsellor"),
        "Zola",
        lambda: {
            "full_name": "Paul Conseiller",
            "email": "Paul@Example.org",
            "active": "y",
            "site": str(make_site().id),
        },
        "Paul Conseiller",
        "phone",
        "04 78 00 00 00",
    ),
    Screen(
        "partner",
        "Partenaires",
        Partner,
        lambda: make_partner(name="Atelier Zénith", city="Bron"),
        "Zénith",
        lambda: {
            "name": "Cabinet Dr Roux",
            "kind": "doctor",
            "siret": "732 829 320 00074",
            "active": "y",
            "themes": [str(_theme().id)],
        },
        "Cabinet Dr Roux",
        "city",
        "Lyon",
    ),
    Screen(
        "aidtype",
        "Catalogue des aides",
        AidType,
        lambda: make_aid_type(code="ZEBRE", name="Aide zèbre"),
        "ZEBRE",
        lambda: {
            "code": "tickets-bus",
            "name": "Tickets de bus",
            "category": "transport",
            "unit": "ticket",
            "default_amount": "10",
            "yearly_budget": "1500,50",
            "active": "y",
        },
        "TICKETS-BUS",
        "name",
        "Tickets de tram",
    ),
    Screen(
        "site",
        "Sites",
        Site,
        lambda: make_site(name="Antenne Zénith", city="Bron"),
        "Zénith",
        lambda: {"name": "Antenne Nord", "postcode": "69009", "city": "Lyon"},
        "Antenne Nord",
        "city",
        "Caluire",
    ),
    Screen(
        "account",
        "Comptes",
        User,
        lambda: make_user(full_name="Zoé Manager", role="manager"),
        "Zoé",
        lambda: {
            "full_name": "Nouvel Admin",
            "email": "nouvel@example.org",
            "role": "admin",
            "active": "y",
            "locale": "fr",
            "new_password": "un mot de passe long",
        },
        "Nouvel Admin",
        "phone",
        "04 78 00 00 01",
    ),
    Screen(
        "diagnosisdomain",
        "Domaines du diagnostic",
        DiagnosisDomain,
        lambda: _domain(code="zz", name="Zootechnie"),
        "Zootechnie",
        lambda: {"code": "mobilite", "name": "Mobilité", "position": "3"},
        "Mobilité",
        "description",
        "Se déplacer",
    ),
    Screen(
        "diagnosissituation",
        "Situations",
        DiagnosisSituation,
        _situation,
        "Hébergé chez un tiers",
        lambda: {
            "domain": str(_domain(code="sante", name="Santé").id),
            "label": "Dossier MDPH",
            "position": "1",
        },
        "Dossier MDPH",
        "label",
        "Dossier MDPH en cours",
    ),
    Screen(
        "theme",
        "Thématiques",
        Theme,
        _theme,
        "Emploi",
        lambda: {"code": "sante", "name": "Santé", "default_hours": "2"},
        "Santé",
        "name",
        "Santé et bien-être",
    ),
]
IDS = [s.endpoint for s in SCREENS]


def _url(screen, page, **args):
    return f"/admin/{screen.endpoint}/{page}", args


@pytest.mark.parametrize("screen", SCREENS, ids=IDS)
def test_list_shows_records_in_french(client, admin, screen):
    screen.make()
    page = client.get(f"/admin/{screen.endpoint}/").get_data(as_text=True)
    assert screen.title in page
    assert screen.needle in page
    assert "Liste" in page and "Chercher" in page


@pytest.mark.parametrize("screen", SCREENS, ids=IDS)
def test_search_finds_the_record_and_only_it(client, admin, screen):
    screen.make()
    response = client.get(f"/admin/{screen.endpoint}/", query_string={"search": screen.needle})
    page = response.get_data(as_text=True)
    assert screen.needle in page
    empty = client.get(
        f"/admin/{screen.endpoint}/", query_string={"search": "introuvable-xyz"}
    ).get_data(as_text=True)
    assert screen.needle not in empty.split("<tbody>")[-1]


@pytest.mark.parametrize("screen", SCREENS, ids=IDS)
def test_create_then_edit_then_delete(client, admin, screen):
    data = screen.form()
    response = client.post(f"/admin/{screen.endpoint}/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    created = db.session.scalars(sa.select(screen.model).order_by(screen.model.id.desc())).first()
    assert screen.created.lower() in f"{created} {getattr(created, 'code', '')}".lower()
    record_id = created.id

    edit_form = client.get(f"/admin/{screen.endpoint}/edit/?id={record_id}")
    assert edit_form.status_code == 200
    data = {**data, screen.edit_field: screen.edit_value}
    data.pop("new_password", None)
    response = client.post(f"/admin/{screen.endpoint}/edit/?id={record_id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    db.session.expire_all()
    assert getattr(db.session.get(screen.model, record_id), screen.edit_field) == (
        screen.edit_value
    )

    details = client.get(f"/admin/{screen.endpoint}/details/?id={record_id}")
    assert screen.edit_value in details.get_data(as_text=True)

    response = client.post(f"/admin/{screen.endpoint}/delete/", data={"id": record_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(screen.model, record_id) is None


def test_young_people_filter_by_status_and_site(client, admin):
    site_a, site_b = make_site(name="Antenne A"), make_site(name="Antenne B")
    make_young_person(last_name="Actif", site=site_a)
    make_young_person(
        last_name="Sorti",
        site=site_b,
        status="exited",
        exit_date=dt.date.today(),
        exit_reason="employment",
    )
    page = client.get(view_url := f"/admin/youngperson/?{_filter_arg(client, 'status', 'exited')}")
    body = page.get_data(as_text=True)
    assert "Sorti" in body and "Actif" not in body, view_url
    body = client.get(f"/admin/youngperson/?{_filter_arg(client, 'site_id', site_a.id)}").get_data(
        as_text=True
    )
    assert "Actif" in body and ">Sorti<" not in body


def _filter_arg(client, column, value):
    with client.application.test_request_context():
        admin = client.application.extensions["admin"][0]
        view = next(v for v in admin._views if getattr(v, "endpoint", "") == "youngperson")
        url = view.filtered_url(**{column: value})
    return url.split("?", 1)[1]


def test_age_band_and_programme_filters(client, admin):
    today = dt.date.today()
    minor = make_young_person(last_name="Mineur", birth_date=today.replace(year=today.year - 17))
    make_young_person(last_name="Majeur", birth_date=today.replace(year=today.year - 23))
    from .factories import make_programme

    make_programme(young_person=minor, kind="CEJ")
    admin_ext = client.application.extensions["admin"][0]
    view = next(v for v in admin_ext._views if getattr(v, "endpoint", "") == "youngperson")
    age_key = next(
        k for k, (_i, f) in view._filter_args.items() if type(f).__name__ == "AgeBandFilter"
    )
    prog_key = next(
        k
        for k, (_i, f) in view._filter_args.items()
        if type(f).__name__ == "CurrentProgrammeFilter"
    )
    body = client.get(f"/admin/youngperson/?flt0_{age_key}=16-17").get_data(as_text=True)
    assert "Mineur" in body and "Majeur" not in body
    body = client.get(f"/admin/youngperson/?flt0_{prog_key}=none").get_data(as_text=True)
    assert "Majeur" in body and "Mineur" not in body
    body = client.get(f"/admin/youngperson/?flt0_{prog_key}=CEJ").get_data(as_text=True)
    assert "Mineur" in body and "Majeur" not in body


def test_counsellors_screen_shows_the_caseload(client, admin):
    site = make_site()
    counsellor = make_user(full_name="Jeanne Suivi", role="counsellor", site=site)
    make_user(full_name="Pas Conseiller", role="manager")
    for _ in range(3):
        make_young_person(site=site, referent=counsellor)
    make_young_person(site=site, referent=counsellor, status="exited", exit_date=dt.date.today())
    body = client.get("/admin/counsellor/").get_data(as_text=True)
    assert "Jeanne Suivi" in body and "Pas Conseiller" not in body
    row = body.split("Jeanne Suivi")[1].split("</tr>")[0]
    assert ">3<" in row.replace(" ", "").replace("\n", "")


def test_young_person_list_exports_csv(client, admin):
    make_young_person(last_name="Exporté", first_name="Jules")
    response = client.get("/admin/youngperson/export/csv/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Nom" in text.splitlines()[0]
    assert "Exporté" in text


def test_page_size_choice(client, admin):
    site = make_site()
    for n in range(25):
        make_young_person(site=site, last_name=f"Jeune{n:02d}")
    assert "Jeune24" not in client.get("/admin/youngperson/").get_data(as_text=True)
    body = client.get("/admin/youngperson/?page_size=50").get_data(as_text=True)
    assert "Jeune24" in body


def test_bulk_delete_of_selected_rows(client, admin):
    first, second, kept = make_partner(), make_partner(), make_partner(name="Gardé")
    response = client.post(
        "/admin/partner/action/",
        data={"action": "delete", "rowid": [str(first.id), str(second.id), "pas-un-id"]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [p.name for p in db.session.scalars(sa.select(Partner))] == ["Gardé"]
    assert kept.id
