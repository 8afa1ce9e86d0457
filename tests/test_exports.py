"""Exports: does every screen's CSV and .xlsx export hold every row it lists — more than a page —
typed for a spreadsheet, with nothing a spreadsheet would run as a formula?"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from backoffice.extensions import db
from backoffice.models import (
    AidRequest,
    AidType,
    AuditEvent,
    DiagnosisDomain,
    DiagnosisSituation,
    Partner,
    Referral,
    Site,
    Theme,
    User,
    YoungPerson,
)

from .factories import make_site, make_user

ROWS = 65  # more than the largest page (50) and the default one (20)
FORMULA = "=2+3"


@pytest.fixture
def crowd(app):
    """More than a page of every kind of record, one of each holding a formula-like text."""
    site = make_site(name="Antenne Centre")
    counsellor = make_user(role="counsellor", site=site, email="referente@example.org")
    db.session.add_all(
        [Site(name=f"Antenne {n:03d}", city="Lyon") for n in range(ROWS)]
        + [
            User(
                email=f"conseiller{n:03d}@example.org",
                full_name=FORMULA if n == 0 else f"Conseiller {n:03d}",
                role="counsellor",
                site=site,
                active=True,
            )
            for n in range(ROWS)
        ]
        + [
            Theme(code=f"theme-{n}", name=FORMULA if n == 0 else f"Thème {n:03d}")
            for n in range(ROWS)
        ]
        + [
            Partner(name=FORMULA if n == 0 else f"Partenaire {n:03d}", kind="employer", city="Lyon")
            for n in range(ROWS)
        ]
        + [
            AidType(
                code=f"AIDE-{n:03d}",
                name=FORMULA if n == 0 else f"Aide {n:03d}",
                category="financial",
                unit="euro",
                yearly_budget=Decimal("12000.50"),
            )
            for n in range(ROWS)
        ]
    )
    domains = [DiagnosisDomain(code=f"d{n}", name=f"Domaine {n:03d}") for n in range(ROWS)]
    db.session.add_all(domains)
    db.session.flush()
    db.session.add_all(
        DiagnosisSituation(domain_id=domains[n].id, label=f"Situation {n}") for n in range(ROWS)
    )
    people = [
        YoungPerson(
            last_name=FORMULA if n == 0 else f"Nom{n:03d}",
            first_name="Léa",
            birth_date=dt.date(2005, 1, 1) + dt.timedelta(days=n),
            site=site,
            referent=counsellor,
            registration_date=dt.date(2025, 9, 1),
        )
        for n in range(ROWS)
    ]
    db.session.add_all(people)
    db.session.flush()
    partner = db.session.scalar(sa.select(Partner).where(Partner.name == FORMULA))
    aid = db.session.scalar(sa.select(AidType).where(AidType.name == FORMULA))
    db.session.add_all(
        Referral(
            young_person_id=p.id,
            partner_id=partner.id,
            reason=f"Motif {n}",
        )
        for n, p in enumerate(people)
    )
    db.session.add_all(
        AidRequest(
            young_person_id=p.id,
            aid_type_id=aid.id,
            amount_asked=Decimal("60.00"),
            budget_year=2026,
        )
        for n, p in enumerate(people)
    )
    db.session.commit()
    return {"site": site, "counsellor": counsellor}


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


SCREENS = {
    "youngperson": lambda: _count(YoungPerson),
    "counsellor": lambda: _count(User, User.role == "counsellor"),
    "partner": lambda: _count(Partner),
    "aidtype": lambda: _count(AidType),
    "site": lambda: _count(Site),
    "account": lambda: _count(User),
    "diagnosisdomain": lambda: _count(DiagnosisDomain),
    "diagnosissituation": lambda: _count(DiagnosisSituation),
    "theme": lambda: _count(Theme),
    "referral": lambda: _count(Referral),
    "aidrequest": lambda: _count(AidRequest),
    "audit": lambda: _count(AuditEvent),
}


def _csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _xlsx_rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.parametrize("endpoint", sorted(SCREENS))
def test_every_screen_exports_every_row(client, admin, crowd, endpoint):
    expected = SCREENS[endpoint]()
    assert expected > 60
    for export_type, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        response = client.get(f"/admin/{endpoint}/export/{export_type}/")
        assert response.status_code == 200, (endpoint, export_type)
        assert response.headers["Cache-Control"] == "no-store"
        rows = read(response)
        assert len(rows) - 1 == expected, (endpoint, export_type)


def test_my_young_people_export_is_the_counsellor_caseload(client, auth, crowd):
    auth.login(crowd["counsellor"])
    # a counsellor may not export (a manager or admin exports), the list says so
    assert client.get("/admin/myyoungperson/export/csv/").status_code == 403


def test_export_follows_search_filters_and_sort_beyond_a_page(client, admin, crowd):
    response = client.get("/admin/partner/export/csv/?search=Partenaire+0&sort=0&desc=1")
    names = [row[0] for row in _csv_rows(response)[1:]]
    assert len(names) == ROWS - 1 and names == sorted(names, reverse=True)


@pytest.mark.parametrize("endpoint", ["counsellor", "theme", "aidrequest", "referral"])
def test_exports_outside_the_import_engine_neutralise_formulas(client, admin, crowd, endpoint):
    rows = _csv_rows(client.get(f"/admin/{endpoint}/export/csv/"))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith("=")]
    assert [c for c in cells if c.startswith(f"'{FORMULA}")]
    sheet_cells = [
        c for row in _xlsx_rows(client.get(f"/admin/{endpoint}/export/xlsx/")) for c in row
    ]
    # a text cell, typed as text: never a formula, and no apostrophe in the cell's value
    assert [c for c in sheet_cells if isinstance(c, str) and c.startswith(FORMULA)]


def test_xlsx_cells_are_typed(client, admin, crowd):
    """SUM and COUNT work in the spreadsheet: amounts are numbers, dates are dates."""
    response = client.get("/admin/aidtype/export/xlsx/")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    budget = header.index("Enveloppe annuelle") + 1
    active = header.index("Active") + 1
    budget_cells = [row[budget - 1] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" for c in budget_cells if c.value is not None)
    total = sum(Decimal(str(c.value)) for c in budget_cells if c.value is not None)
    assert total == db.session.scalar(sa.select(sa.func.sum(AidType.yearly_budget)))
    assert {row[active - 1].data_type for row in sheet.iter_rows(min_row=2)} == {"b"}
    people = load_workbook(io.BytesIO(client.get("/admin/youngperson/export/xlsx/").get_data()))
    sheet = people.active
    header = [c.value for c in sheet[1]]
    birth = sheet.cell(row=2, column=header.index("Date de naissance") + 1)
    assert birth.is_date and birth.number_format == "DD/MM/YYYY"
    phone_column = header.index("Téléphone") + 1
    assert sheet.cell(row=1, column=phone_column).data_type == "s"


def test_diagnosis_domains_export(client, admin, crowd):
    """It answered 200 then aborted on the domains' situations (DetachedInstanceError)."""
    rows = _csv_rows(client.get("/admin/diagnosisdomain/export/csv/"))
    assert len(rows) - 1 == _count(DiagnosisDomain)


def test_export_of_an_unknown_type_is_not_found(client, admin, crowd):
    assert client.get("/admin/partner/export/pdf/").status_code == 404
