"""CSV / Excel import and export: can staff round-trip their files, and does a bad file write
nothing while naming its faulty lines?"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.domain.csvio import csv_stream, export_cells, run_import, spec_for
from backoffice.extensions import db
from backoffice.models import (
    AidType,
    AuditEvent,
    ImportRun,
    Partner,
    Site,
    Theme,
    User,
    YoungPerson,
)

from .factories import make_aid_type, make_partner, make_site, make_user, make_young_person

PARTNER_HEADER = "Nom;Type;Code postal;Ville;SIRET;E-mail"


def _csv(*lines: str, bom=False, encoding="utf-8") -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode(encoding)


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _import(entity, data, **kw):
    return run_import(db.session, spec_for(entity), data, "fichier.csv", **kw)


def _export(entity) -> bytes:
    spec = spec_for(entity)
    fields = spec.fields(db.session)
    query = db.session.query(spec.model).order_by(spec.model.id)
    return "".join(csv_stream(fields, export_cells(spec, fields, query))).encode("utf-8")


# --- files as they really come ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("cp1252", False)]
)  # a byte-order mark only exists in UTF-8
@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_encodings_and_separators(app, encoding, separator, bom):
    data = _csv(
        separator.join(["Nom", "Type", "Ville"]),
        separator.join(["Maison de l'Emploi", "Employeur", "Vénissieux"]),
        bom=bom,
        encoding=encoding,
    )
    report = _import("partners", data, commit=True)
    assert report.errors == [] and report.created == 1
    assert db.session.scalar(sa.select(Partner.city)) == "Vénissieux"


def test_french_values_headers_and_empty_lines(app):
    make_partner(name="Porteur")
    data = _csv(
        "  code ;NOM;categorie;Unité;Montant par défaut;Enveloppe annuelle;Partenaire;ACTIVE",
        "tickets-bus;Tickets de bus;Tickets de transport;ticket;1,60;1 500,50;porteur;x",
        ";;;;;;;",
        "FAJ;Fonds d'aide;aide financière;euro;150;;;non",
    )
    report = _import("aids", data, commit=True)
    assert report.errors == [] and report.created == 2
    aid = db.session.scalar(sa.select(AidType).where(AidType.code == "TICKETS-BUS"))
    assert aid.default_amount == Decimal("1.60") and aid.yearly_budget == Decimal("1500.50")
    assert aid.partner.name == "Porteur" and aid.active is True
    assert db.session.scalar(sa.select(AidType.active).where(AidType.code == "FAJ")) is False


def test_french_and_iso_dates_and_excel_dropped_zeros(app):
    site = make_site(name="Antenne Nord")
    data = _csv(
        "Nom;Prénom;Date de naissance;Antenne;Date d'inscription;Code postal;Téléphone",
        "Martin;Léa;14/03/2006;Antenne Nord;2025-09-02;1000;612345678",
    )
    report = _import("youths", data, commit=True)
    assert report.errors == []
    youth = db.session.scalar(sa.select(YoungPerson))
    assert youth.birth_date == dt.date(2006, 3, 14)
    assert youth.registration_date == dt.date(2025, 9, 2)
    assert youth.postcode == "01000" and youth.phone == "06 12 34 56 78"
    assert youth.site_id == site.id


# --- bad input: a clear message, nothing written ---------------------------------------------

BAD_FILES = [
    (b"", 1, "Le fichier est vide."),
    (_csv(PARTNER_HEADER), 1, "ne contient que la ligne d'en-tête"),
    (_csv("Type;Ville", "Employeur;Lyon"), 1, "Colonne obligatoire « Nom » absente."),
    (bytes(range(256)) * 40, 1, "contenu binaire"),
    (b"Nom;Type\r\n\x81\x8d\x8f\x90;Employeur\r\n", 1, "Encodage du fichier non reconnu"),
    (_csv(PARTNER_HEADER, "A;Employeur;69001;Lyon;;a@b.fr;en trop"), 2, "7 cellules pour 6"),
    (_csv(PARTNER_HEADER, "A;Inconnu;69001;Lyon;;"), 2, "« Inconnu » n'est pas dans la liste"),
    (
        _csv(PARTNER_HEADER, "A;Employeur;69001;Lyon;;pas-une-adresse"),
        2,
        "n'est pas une adresse e-mail",
    ),
    (_csv(PARTNER_HEADER, "A;Employeur;69001;Lyon;123;"), 2, "n'est pas un SIRET valide"),
    (
        _csv(PARTNER_HEADER, "A;Employeur;69001;Lyon;;", "a ;employeur;69001;Lyon;;"),
        3,
        "que la ligne 2",
    ),
    (
        _csv(PARTNER_HEADER + ";Commentaire", "A;Employeur;69001;Lyon;;;x"),
        1,
        "Colonne inconnue « Commentaire »",
    ),
]


@pytest.mark.parametrize(("data", "line", "message"), BAD_FILES)
def test_bad_partner_files_are_refused_whole(app, data, line, message):
    make_partner(name="Existant")
    report = _import("partners", data, commit=True)
    assert report.refused and not report.written
    assert any(e.line == line and message in e.message for e in report.errors), report.errors
    assert [p.name for p in db.session.scalars(sa.select(Partner))] == ["Existant"]


def test_impossible_date_and_unknown_aid_category(app):
    make_site(name="Antenne Nord")
    report = _import(
        "youths",
        _csv("Nom;Prénom;Date de naissance;Antenne", "Martin;Léa;31/02/2006;Antenne Nord"),
        commit=True,
    )
    assert report.errors[0].column == "Date de naissance"
    assert "n'est pas une date qui existe" in report.errors[0].message
    report = _import("aids", _csv("Code;Nom;Catégorie;Unité", "X1;Aide;Bonbons;euro"), commit=True)
    assert report.errors[0].column == "Catégorie"
    assert _count(YoungPerson) == 0 and _count(AidType) == 0


def test_a_file_over_the_size_limit(app):
    data = _csv(PARTNER_HEADER, *["A;Employeur;69001;Lyon;;"] * 10)
    report = _import("partners", data, commit=True, max_bytes=100)
    assert "la limite est de" in report.errors[0].message
    assert _count(Partner) == 0


def test_one_bad_line_writes_nothing_even_after_good_chunks(app, monkeypatch):
    from backoffice.domain.csvio import engine

    monkeypatch.setattr(engine, "CHUNK", 3)  # the good lines are written before the bad one
    lines = [f"Partenaire {n};Employeur;69001;Lyon;;" for n in range(10)]
    data = _csv(PARTNER_HEADER, *lines, "Mauvais;???;69001;Lyon;;")
    report = _import("partners", data, commit=True)
    assert report.refused and _count(Partner) == 0
    assert _count(AuditEvent) == 0


def test_valid_only_skips_what_it_says(app):
    data = _csv(PARTNER_HEADER, "Bon;Employeur;69001;Lyon;;", "Mauvais;???;69001;Lyon;;")
    report = _import("partners", data, commit=True, valid_only=True)
    assert report.written and report.created == 1 and report.skipped == 1
    assert [p.name for p in db.session.scalars(sa.select(Partner))] == ["Bon"]


# --- matching, diffs, audit, round trip ------------------------------------------------------


def test_natural_keys_update_instead_of_duplicating(app):
    make_partner(name="Avec siret", siret="73282932000074", city="Lyon")
    make_partner(name="Sans siret", postcode="69003", city="Lyon")
    data = _csv(
        PARTNER_HEADER,
        "Avec SIRET renommé;Employeur;69001;Bron;732 829 320 00074;",
        "sans siret;Organisme de formation;69003;Lyon;;",
    )
    report = _import("partners", data, commit=False)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    changes = {d.label: d.changes for d in report.diffs}
    assert changes["Avec SIRET renommé 69001 73282932000074"]["Ville"] == ("Lyon", "Bron")
    assert (
        _count(Partner) == 2
        and db.session.scalar(sa.select(Partner.city).where(Partner.siret == "73282932000074"))
        == "Lyon"
    )  # dry run


def test_import_writes_the_audit_trail_and_the_import_log(app, runner, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(_csv("Nom;Ville", "Antenne Est;Bron"))
    result = runner.invoke(args=["import-csv", "sites", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "errors": [],
    }
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "site")).all()
    assert event.action == "insert" and event.actor_label == "cli:import-csv"
    assert event.changes["name"] == "Antenne Est"
    [run] = db.session.scalars(sa.select(ImportRun)).all()
    assert (run.entity, run.filename, run.created, run.written) == ("sites", "sites.csv", 1, True)


def test_cli_refusal_exit_code_and_json_errors(app, runner, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(_csv(PARTNER_HEADER, "A;Inconnu;69001;Lyon;;"))
    result = runner.invoke(args=["import-csv", "partners", str(path), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.output.splitlines()[0])
    assert (
        payload["errors"]
        == [{"line": 2, "column": "Type", "message": payload["errors"][0]["message"]}]
        and "Inconnu" in payload["errors"][0]["message"]
    )
    result = runner.invoke(args=["import-csv", "partners", str(path), "--dry-run"])
    assert result.exit_code == 1 and _count(Partner) == 0


@pytest.mark.parametrize(
    "entity", ["partners", "aids", "youths", "counsellors", "sites", "diagnosis", "situations"]
)
def test_export_then_import_changes_nothing(app, entity):
    from seed.catalogue import load_catalogue
    from seed.demo import seed_demo

    load_catalogue(db.session)
    seed_demo(db.session, 40)
    if entity == "situations":  # recorded from realised proposals in the histories
        from seed.demo import seed_histories

        seed_histories(db.session, 40)
    make_partner(
        name='=HYPERLINK("http://evil")',
        phone="+44 20 7946 0958",  # a phone starting with "+", a formula for a spreadsheet
        themes=[db.session.scalar(sa.select(Theme).where(Theme.code == "loisirs"))],
    )
    exported = _export(entity)
    before = _count(AuditEvent)
    report = _import(entity, exported, commit=True)
    assert report.errors == [] and report.created == 0 and report.updated == 0
    assert report.unchanged > 0
    assert _count(AuditEvent) == before


def test_export_is_excel_proof(app):
    make_partner(name="=1+1", phone="+33 6 12 34 56 78", notes="@SUM(A1)")
    exported = _export("partners").decode("utf-8")
    assert exported.startswith("\ufeffNom;Type;")
    assert "'=1+1" in exported and "'+33 6 12 34 56 78" in exported and "'@SUM(A1)" in exported
    assert "\r\n" in exported


def test_xlsx_round_trip(app):
    from openpyxl import load_workbook

    from backoffice.domain.csvio import xlsx_bytes

    make_aid_type(
        code="POP", name="Atelier POP", category="workshop", unit="session", default_amount=None
    )
    spec = spec_for("aids")
    fields = spec.fields(db.session)
    data = xlsx_bytes(fields, export_cells(spec, fields, db.session.query(AidType)), "Aides")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A1"].value == "Code" and sheet["A2"].value == "POP"
    report = run_import(db.session, spec_for("aids"), data, "aides.xlsx", commit=True)
    assert report.errors == [] and report.unchanged == 1


def test_accounts_import_without_passwords(app):
    site = make_site(name="Antenne Sud")
    data = _csv(
        "E-mail;Nom complet;Rôle;Antenne",
        "Nouvelle@Example.org;Anne Neuve;Conseiller·ère;Antenne Sud",
    )
    report = _import("counsellors", data, commit=True)
    assert report.errors == []
    user = db.session.scalar(sa.select(User).where(User.email == "nouvelle@example.org"))
    assert user.role == "counsellor" and user.site_id == site.id and user.password_hash is None
    assert not user.check_password("")


# --- robustness ------------------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.lists(
                st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                max_size=8,
            ),
            max_size=6,
        ).map(
            lambda rows: "\n".join(";".join(r) for r in [PARTNER_HEADER.split(";"), *rows]).encode(
                "utf-8"
            )
        ),
    )
)
def test_random_input_never_raises_nor_half_writes(app, data):
    before = _count(Partner)
    report = _import("partners", data, commit=True)
    after = _count(Partner)
    if report.refused:
        assert after == before
    else:
        assert after == before + report.created
    db.session.execute(sa.delete(Partner))
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()


# --- screens ---------------------------------------------------------------------------------


def _upload(client, entity, data, name="fichier.csv"):
    return client.post(
        "/admin/import/preview",
        data={"entity": entity, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_preview_confirm(client, admin):
    make_partner(name="Ancien", city="Lyon", postcode="69001")
    data = _csv(PARTNER_HEADER, "Ancien;Employeur;69001;Bron;;", "Nouveau;Employeur;69002;Lyon;;")
    page = _upload(client, "partners", data).get_data(as_text=True)
    assert "Nouveaux" in page and "Confirmer l'import" in page
    assert "<del>Lyon</del> → Bron" in page
    assert _count(Partner) == 1
    token = page.split('name="token" value="')[1].split('"')[0]
    response = client.post("/admin/import/confirm", data={"token": token})
    assert response.headers["Location"].endswith("/admin/partner/")
    assert _count(Partner) == 2
    assert db.session.scalar(sa.select(Partner.city).where(Partner.name == "Ancien")) == "Bron"
    assert client.post("/admin/import/confirm", data={"token": token}).status_code == 404


def test_preview_with_errors_offers_valid_only_and_an_error_report(client, admin):
    data = _csv(PARTNER_HEADER, "Bon;Employeur;69001;Lyon;;", "Mauvais;???;69001;Lyon;;")
    page = _upload(client, "partners", data).get_data(as_text=True)
    assert "Importer seulement les lignes valides" in page and "« ??? »" in page
    token = page.split('name="token" value="')[1].split('"')[0]
    report = client.get(f"/admin/import/errors/{token}.csv").get_data(as_text=True)
    assert report.startswith("\ufeffLigne;Nom;Type")
    assert "3;Mauvais;???" in report and "Bon" not in report
    client.post("/admin/import/confirm", data={"token": token, "valid_only": "1"})
    assert [p.name for p in db.session.scalars(sa.select(Partner))] == ["Bon"]


def test_another_users_token_is_not_found(app, client, admin):
    page = _upload(client, "sites", _csv("Nom", "Antenne X")).get_data(as_text=True)
    token = page.split('name="token" value="')[1].split('"')[0]
    other = app.test_client()
    user = make_user(role="admin")
    other.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert other.post("/admin/import/confirm", data={"token": token}).status_code == 404
    assert client.get("/admin/import/errors/../../etc.csv").status_code == 404


def test_templates_and_permissions(client, auth):
    site = make_site()
    auth.login(role="counsellor", site=site)
    assert client.get("/admin/import/template/youths.csv").status_code == 200
    assert client.get("/admin/import/template/partners.csv").status_code == 404
    data = _csv("Nom;Prénom;Date de naissance;Antenne", f"Autre;Site;01/01/2006;{make_site().name}")
    page = _upload(client, "youths", data).get_data(as_text=True)
    assert "que des jeunes de votre antenne" in page
    assert _upload(client, "partners", _csv("Nom", "X")).status_code == 404


def test_list_export_follows_search_and_filters(client, admin):
    make_partner(name="Atelier Bois", city="Lyon")
    make_partner(name="Garage Solidaire", city="Bron")
    body = client.get("/admin/partner/export/csv/?search=Bois").get_data(as_text=True)
    assert "Atelier Bois" in body and "Garage" not in body
    response = client.get("/admin/partner/export/xlsx/")
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")


def test_counsellor_export_scope(client, auth):
    site = make_site()
    make_young_person(site=site, last_name="Mien")
    make_young_person(site=make_site(), last_name="Ailleurs")
    auth.login(role="manager", site=site)
    body = client.get("/admin/youngperson/export/csv/").get_data(as_text=True)
    assert "Mien" in body and "Ailleurs" not in body


# --- what LibreOffice and staff really produce (issue: data in and out you can trust) ---------

YOUTH_HEADER = "Nom;Prénom;Date de naissance;Antenne"


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1.500", "ambigu"),  # stored as 1,50 € before
        ("1,500.50", "mêle virgule et point"),  # stored as 1,50 before
        ("1500,505", "trop de décimales"),  # rounded silently before
    ],
)
def test_ambiguous_amounts_are_refused_with_the_way_to_write_them(app, cell, message):
    data = _csv(
        "Code;Nom;Catégorie;Unité;Enveloppe annuelle", f"X1;Aide;Aide financière;euro;{cell}"
    )
    report = _import("aids", data, commit=True)
    assert report.refused and _count(AidType) == 0
    assert report.errors[0].column == "Enveloppe annuelle" and message in report.errors[0].message


def test_a_windows_1252_byte_in_a_utf8_file_is_refused_not_turned_to_mojibake(app):
    make_site(name="Antenne Nord")
    data = _csv(
        YOUTH_HEADER, "Lefèvre;Zoé;14/02/2002;Antenne Nord"
    ) + "Vénissieux;Léo;01/01/2003;Antenne Nord\r\n".encode("cp1252")
    report = _import("youths", data, commit=True)
    assert report.refused and _count(YoungPerson) == 0
    assert "Encodage mélangé" in report.errors[0].message
    assert "ligne fautive : 3" in report.errors[0].message


def test_pure_windows_1252_is_still_read(app):
    make_site(name="Antenne Nord")
    data = _csv(YOUTH_HEADER, "Lefèvre;Zoé;14/02/2002;Antenne Nord", encoding="cp1252")
    report = _import("youths", data, commit=True)
    assert report.errors == []
    assert db.session.scalar(sa.select(YoungPerson.last_name)) == "Lefèvre"


def test_libreoffice_dates_and_midnight_times(app):
    make_site(name="Antenne Nord")
    data = _csv(
        YOUTH_HEADER + ";Date d'inscription",
        "Martin;Léa;14/02/02;Antenne Nord;02/09/25",  # French Calc's CSV
        "Durand;Léo;01/02/2005 00:00;Antenne Nord;2025-09-02T00:00:00",
    )
    report = _import("youths", data, commit=True)
    assert report.errors == []
    dates = dict(db.session.execute(sa.select(YoungPerson.last_name, YoungPerson.birth_date)).all())
    assert dates == {"Martin": dt.date(2002, 2, 14), "Durand": dt.date(2005, 2, 1)}


def test_xlsx_dates_holding_a_time_and_excel_serials(app):
    from openpyxl import Workbook

    make_site(name="Antenne Nord")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "Prénom", "Date de naissance", "Antenne"])
    sheet.append(["Martin", "Léa", dt.datetime(2002, 2, 14, 0, 0), "Antenne Nord"])
    sheet.append(["Durand", "Léo", 37301, "Antenne Nord"])  # a typed serial: 14/02/2002
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(db.session, spec_for("youths"), buffer.getvalue(), "j.xlsx", commit=True)
    assert report.errors == []
    assert set(db.session.scalars(sa.select(YoungPerson.birth_date))) == {dt.date(2002, 2, 14)}


def test_sirets_that_lost_their_leading_zeros(app):
    from backoffice.domain.people import siret_is_valid

    siret = next(f"00{n:012d}" for n in range(10**8, 10**9) if siret_is_valid(f"00{n:012d}"))
    data = _csv("Nom;Type;SIRET", f"Atelier;Employeur;{int(siret)}")
    report = _import("partners", data, commit=True)
    assert report.errors == []
    assert db.session.scalar(sa.select(Partner.siret)) == siret


def test_an_empty_defaulted_cell_takes_the_default_then_keeps_the_current_value(app):
    make_site(name="Antenne Nord")
    header = YOUTH_HEADER + ";Date d'inscription;Statut"
    data = _csv(header, "Martin;Léa;14/02/2002;Antenne Nord;;")
    preview = _import("youths", data)
    assert preview.errors == [] and preview.created == 1
    report = _import("youths", data, commit=True)
    assert report.errors == [] and report.written  # failed with "valeur en double" before
    youth = db.session.scalar(sa.select(YoungPerson))
    assert youth.registration_date == dt.date.today() and youth.status == "active"
    youth.registration_date = dt.date(2024, 1, 15)
    db.session.commit()
    again = _import("youths", data, commit=True)
    assert again.unchanged == 1  # an empty cell does not erase the recorded date
    assert db.session.scalar(sa.select(YoungPerson.registration_date)) == dt.date(2024, 1, 15)


def test_valid_only_with_empty_defaulted_cells(app):
    make_site(name="Antenne Nord")
    data = _csv(
        YOUTH_HEADER + ";Date d'inscription",
        "Martin;Léa;14/02/2002;Antenne Nord;",
        "Durand;Léo;31/02/2002;Antenne Nord;",
    )
    report = _import("youths", data, commit=True, valid_only=True)
    assert report.written and report.created == 1 and report.skipped == 1


def test_the_preview_runs_what_the_commit_runs(app, monkeypatch):
    """A write the database refuses shows in the preview, in French, never raw."""
    from backoffice.domain.csvio import engine

    make_site(name="Antenne Nord")
    original = engine.bulk_insert

    def refusing(connection, table, rows):  # a NOT NULL the parsers did not foresee
        if table.name == "young_person":
            rows = [{**row, "last_name": None} for row in rows]
        original(connection, table, rows)

    monkeypatch.setattr(engine, "bulk_insert", refusing)
    report = _import("youths", _csv(YOUTH_HEADER, "Martin;Léa;14/02/2002;Antenne Nord"))
    assert report.refused
    message = report.errors[0].message
    assert "La base de données refuse le fichier" in message and "obligatoire" in message
    assert "Failing row" not in message and "constraint failed" not in message
    assert report.errors[0].column == "Nom"
    assert _count(YoungPerson) == 0


def test_the_dry_run_writes_nothing(app):
    make_site(name="Antenne Nord")
    audit_rows = _count(AuditEvent)
    report = _import("youths", _csv(YOUTH_HEADER, "Martin;Léa;14/02/2002;Antenne Nord"))
    assert report.created == 1 and not report.written
    assert _count(YoungPerson) == 0 and _count(AuditEvent) == audit_rows


def test_the_preview_lists_new_rows(app):
    make_site(name="Antenne Nord")
    report = _import("youths", _csv(YOUTH_HEADER, "Martin;Léa;14/02/2002;Antenne Nord"))
    [row] = report.new_rows
    assert row.line == 2 and row.label == "Martin Léa 14/02/2002"
    assert row.changes["Antenne"] == "Antenne Nord"


def test_header_synonyms(app):
    make_site(name="Antenne Nord")
    data = _csv(
        "Nom;Prénom;Date naissance;Antenne;CP;Tél;Mail",
        "Martin;Léa;14/02/2002;Antenne Nord;69001;0612345678;lea@example.fr",
    )
    report = _import("youths", data, commit=True)
    assert report.errors == []
    youth = db.session.scalar(sa.select(YoungPerson))
    assert (youth.postcode, youth.phone, youth.email) == (
        "69001",
        "06 12 34 56 78",
        "lea@example.fr",
    )


def test_a_title_row_above_the_header_is_reported(app):
    make_site(name="Antenne Nord")
    data = _csv(
        "Liste des jeunes — novembre", "", YOUTH_HEADER, "Martin;Léa;14/02/2002;Antenne Nord"
    )
    report = _import("youths", data, commit=True)
    assert report.errors == [] and report.created == 1
    assert any("Liste des jeunes" in note and "ligne 1" in note for note in report.notes)


def test_the_active_sheet_is_read_and_hidden_rows_are_reported(app):
    from openpyxl import Workbook

    make_site(name="Antenne Nord")
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["rien à importer ici"])
    sheet = workbook.create_sheet("Jeunes")
    sheet.append(["Nom", "Prénom", "Date de naissance", "Antenne"])
    sheet.append(["Martin", "Léa", "14/02/2002", "Antenne Nord"])
    sheet.append(["Caché", "Léo", "01/01/2003", "Antenne Nord"])
    sheet.row_dimensions[3].hidden = True
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(db.session, spec_for("youths"), buffer.getvalue(), "j.xlsx")
    assert report.errors == [] and report.created == 2
    assert report.hidden_lines == [3]
    assert any("masquée" in note and "(3)" in note for note in report.notes)
    assert any("« Jeunes »" in note for note in report.notes)


def test_the_corrected_error_report_reimports_as_is(app):
    from backoffice.domain.csvio import error_report_csv

    make_site(name="Antenne Nord")
    data = _csv(
        YOUTH_HEADER, "Martin;Léa;14/02/2002;Antenne Nord", "Durand;Léo;31/02/2002;Antenne Nord"
    )
    text = error_report_csv(db.session, spec_for("youths"), data, "j.csv")
    assert text.splitlines()[0] == "\ufeffLigne;Nom;Prénom;Date de naissance;Antenne;Erreurs"
    corrected = text.replace("31/02/2002", "28/02/2002").encode("utf-8")
    report = _import("youths", corrected, commit=True)
    assert report.errors == [] and report.created == 1


def test_the_cli_has_no_size_limit_of_its_own(app, runner, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 200  # the uploads' limit
    path = tmp_path / "partenaires.csv"
    path.write_bytes(_csv(PARTNER_HEADER, *[f"P{n};Employeur;69001;Lyon;;" for n in range(30)]))
    assert path.stat().st_size > 200
    result = runner.invoke(args=["import-csv", "partners", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 30


def test_every_declared_entity_has_a_complete_declaration_and_a_template(app):
    from backoffice.domain.csvio import ENTITIES

    assert set(ENTITIES) >= {"partners", "aids", "youths", "counsellors", "sites", "diagnosis"}
    for name, spec in ENTITIES.items():
        assert spec.check_declaration() == []
        fields = spec().fields(db.session)
        assert len(spec.example) == len(fields), name


def test_a_declaration_without_a_screen_stops_the_app_clearly(app):
    from backoffice.domain.csvio import ENTITIES, EntitySpec
    from backoffice.views.imports import check_declarations

    class OrphanSpec(EntitySpec):
        name, label, model, key_label = "orphans", "Orphelins", Site, "nom"
        example = ["x"]

        def fields(self, session):
            return []

        def key(self, values):
            return None

        def existing_keys(self, session):
            return {}

    try:
        with pytest.raises(RuntimeError, match="'orphans': 0 screens import it"):
            check_declarations(app.extensions["admin"][0])
    finally:
        del ENTITIES["orphans"]


# --- uploads hold personal data: they live no longer than their use -------------------------


def _uploads(app):
    from pathlib import Path

    folder = Path(app.config["IMPORT_UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []


def _token(page: str) -> str:
    return page.split('name="token" value="')[1].split('"')[0]


def test_an_upload_is_deleted_when_confirmed(app, client, admin):
    page = _upload(client, "sites", _csv("Nom", "Antenne X")).get_data(as_text=True)
    assert len(_uploads(app)) == 2  # the bytes and their meta, waiting for the confirmation
    client.post("/admin/import/confirm", data={"token": _token(page)})
    assert _uploads(app) == []


def test_an_upload_is_deleted_when_cancelled(app, client, admin):
    page = _upload(client, "sites", _csv("Nom", "Antenne X")).get_data(as_text=True)
    assert "Annuler et supprimer le fichier envoyé" in page
    response = client.post("/admin/import/cancel", data={"token": _token(page)})
    assert response.headers["Location"].endswith("/admin/import/")
    assert _uploads(app) == [] and _count(Site) == 0


def test_a_refused_file_is_not_kept(app, client, admin):
    page = _upload(client, "sites", _csv("Inconnue", "x")).get_data(as_text=True)
    assert "Colonne inconnue" in page and 'name="token"' not in page
    assert _uploads(app) == []


def test_a_file_refused_at_confirm_is_deleted(app, client, admin, monkeypatch):
    page = _upload(client, "sites", _csv("Nom", "Antenne X")).get_data(as_text=True)

    from backoffice.domain.csvio import spec_for

    monkeypatch.setattr(
        type(spec_for("sites")), "check", lambda self, values, present: [("Nom", "non")]
    )
    client.post("/admin/import/confirm", data={"token": _token(page)})
    assert _uploads(app) == []


def test_abandoned_uploads_are_purged_after_an_hour(app, client, admin, runner):
    import os
    import time

    _upload(client, "sites", _csv("Nom", "Antenne X"))
    assert runner.invoke(args=["imports-purge"]).output.startswith("0 fichier")
    old = time.time() - 3700
    for name in _uploads(app):
        os.utime(os.path.join(app.config["IMPORT_UPLOAD_FOLDER"], name), (old, old))
    assert runner.invoke(args=["imports-purge"]).output.startswith("1 fichier")
    assert _uploads(app) == []
    _upload(client, "sites", _csv("Nom", "Antenne Y"))  # each upload purges too
    for name in _uploads(app):
        os.utime(os.path.join(app.config["IMPORT_UPLOAD_FOLDER"], name), (old, old))
    _upload(client, "sites", _csv("Nom", "Antenne Z"))
    assert len(_uploads(app)) == 2


def test_recent_imports_show_each_user_what_they_may_see(app, client, auth):
    north, south = make_site(name="Nord"), make_site(name="Sud")
    mine = make_user(role="counsellor", site=north, full_name="Moi Conseillère")
    colleague = make_user(role="counsellor", site=north, full_name="Collègue Nord")
    other = make_user(role="counsellor", site=south, full_name="Conseiller Sud")
    for user, name in ((mine, "mes-jeunes.csv"), (colleague, "nord.csv"), (other, "sud.csv")):
        db.session.add(
            ImportRun(
                user_id=user.id,
                actor_label=user.email,
                entity="youths",
                filename=name,
                mode="commit",
            )
        )
    db.session.commit()
    auth.login(mine)
    page = client.get("/admin/import/").get_data(as_text=True)
    assert "mes-jeunes.csv" in page and "nord.csv" not in page and "sud.csv" not in page
    auth.logout()
    auth.login(role="admin")
    page = client.get("/admin/import/").get_data(as_text=True)
    assert "mes-jeunes.csv" in page and "nord.csv" in page and "sud.csv" in page


def test_a_large_committed_import_refreshes_the_planner_statistics(app):
    """After a committed import of 1,000 rows or more the table's statistics are fresh (the
    planner would take the table for empty until autovacuum came by)."""
    from backoffice.domain.csvio.engine import ANALYZE_AFTER_ROWS

    lines = ["Nom;Ville"] + [f"Antenne {n};Lyon" for n in range(ANALYZE_AFTER_ROWS)]
    report = _import("sites", "\n".join(lines).encode(), commit=True)
    assert report.written and report.created == ANALYZE_AFTER_ROWS
    if db.engine.dialect.name == "sqlite":
        analysed = db.session.execute(
            sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'site'")
        ).scalar()
    else:
        analysed = db.session.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'site' "
                "AND last_analyze IS NOT NULL"
            )
        ).scalar()
    assert analysed
