"""A real spreadsheet: does a file exported, opened and saved by French LibreOffice Calc (as CSV
Windows-1252 and as .xlsx) import back with zero changes, do edits made in it come back as
exactly those edits, and are the .xlsx amounts numbers Calc can add up?

LibreOffice Calc runs headless (``tests/localc.py``) with a French profile: it writes what a
French office's Calc writes — ``14/02/02`` dates, ``12000,5`` decimals, ``VRAI``/``FAUX``,
Windows-1252 without BOM. ``test.sh`` and ``.ci/run`` install it (``libreoffice-calc-nogui``).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from backoffice.domain.csvio import ENTITIES, csv_stream, export_cells, run_import, spec_for
from backoffice.domain.csvio import xlsx_bytes as build_xlsx
from backoffice.extensions import db
from backoffice.models import AidType, Partner, Theme, YoungPerson

from . import localc
from .factories import make_partner

pytestmark = pytest.mark.skipif(
    localc.soffice_path() is None,
    reason="LibreOffice Calc is missing: apt-get install -y libreoffice-calc-nogui",
)


@pytest.fixture
def demo(app):
    from seed.catalogue import load_catalogue
    from seed.demo import seed_demo, seed_histories

    load_catalogue(db.session)
    seed_demo(db.session, 60)
    seed_histories(db.session, 60)  # realised proposals leave situations to export
    make_partner(  # what a spreadsheet would run, and a theme name holding commas
        name='=HYPERLINK("http://evil")',
        phone="+44 20 7946 0958",
        notes="Deux lignes\n« guillemets » ; point-virgule",
        themes=[db.session.scalar(sa.select(Theme).where(Theme.code == "loisirs"))],
    )
    return app


def _export_csv(entity: str) -> bytes:
    spec = spec_for(entity)
    fields = spec.fields(db.session)
    query = db.session.query(spec.model).order_by(spec.model.id)
    return "".join(csv_stream(fields, export_cells(spec, fields, query))).encode("utf-8")


def _export_xlsx(entity: str) -> bytes:
    spec = spec_for(entity)
    fields = spec.fields(db.session)
    query = db.session.query(spec.model).order_by(spec.model.id)
    return build_xlsx(fields, export_cells(spec, fields, query), spec.label)


def _export_all(tmp_path, extension, export):
    """Every declared entity exported to its own file, for one Calc run over all of them."""
    entities = sorted(ENTITIES)
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    sources = []
    for entity in entities:
        path = folder / f"{entity}.{extension}"
        path.write_bytes(export(entity))
        sources.append(path)
    return entities, sources


def _import(entity, data, filename, commit=False):
    return run_import(db.session, spec_for(entity), data, filename, commit=commit)


def _changes(report) -> str:
    lines = [f"ligne {e.line} [{e.column}] {e.message}" for e in report.errors[:5]]
    lines += [f"ligne {d.line} {d.label}: {d.changes}" for d in report.diffs[:5]]
    return "\n".join(lines)


def test_csv_saved_by_calc_in_windows_1252_imports_back_unchanged(demo, tmp_path):
    entities, sources = _export_all(tmp_path, "csv", _export_csv)
    saved = localc.convert_many(  # one Calc run opens each file as a French user would, saves it
        sources,
        tmp_path / "calc",
        "csv",
        infilter=f"{localc.CSV_FILTER}:{localc.csv_filter_options(charset=localc.CHARSET_UTF8)}",
        outfilter_options=localc.csv_filter_options(charset=localc.CHARSET_CP1252),
    )
    for entity, path in zip(entities, saved, strict=True):
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")  # Calc's Windows-1252: no BOM, no UTF-8
        report = _import(entity, data, path.name)
        assert report.errors == [] and report.created == 0 and report.updated == 0, (
            entity,
            _changes(report),
        )
        assert report.unchanged > 0


def test_xlsx_saved_by_calc_imports_back_unchanged(demo, tmp_path):
    entities, sources = _export_all(tmp_path, "xlsx", _export_xlsx)
    saved = localc.convert_many(sources, tmp_path / "calc", f"xlsx:{localc.XLSX_FILTER}")
    for entity, path in zip(entities, saved, strict=True):
        report = _import(entity, path.read_bytes(), path.name)
        assert report.errors == [] and report.created == 0 and report.updated == 0, (
            entity,
            _changes(report),
        )
        assert report.unchanged > 0


def test_ten_cells_edited_and_five_rows_added_come_back_as_exactly_that(demo, tmp_path):
    """The edits are typed into the exported file's cells, then Calc opens and saves it: the
    import sees those edits and nothing else that Calc might have changed."""
    rows = list(csv.reader(io.StringIO(_export_csv("youths").decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    city, phone = header.index("Ville"), header.index("Téléphone")
    edited = {}
    for n in range(10):
        row = body[n * 3]
        if n % 2:
            row[city] = f"Ville modifiée {n}"
        else:
            row[phone] = f"07 {40 + n} 00 00 0{n}"
        edited[(row[0], row[1])] = n
    template = body[0]
    for n in range(5):
        new = list(template)
        new[0], new[1], new[2] = f"Nouveau{n}", "Ajouté", f"0{n + 1}/03/2006"
        body.append(new)
    source = tmp_path / "jeunes.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *body])
    source.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    saved = localc.csv_resave_cp1252(source, tmp_path / "calc" / "jeunes.csv")
    report = _import("youths", saved.read_bytes(), "jeunes.csv", commit=True)
    assert report.errors == [] and report.created == 5 and report.updated == 10, _changes(report)
    assert all(len(diff.changes) == 1 for diff in report.diffs), _changes(report)
    assert set(report.diffs[0].changes) <= {"Ville", "Téléphone"}
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(YoungPerson.city.like("Ville modifiée%"))
        )
        == 5
    )


def test_calc_adds_up_the_exported_envelopes(demo, tmp_path):
    """The .xlsx amounts are numbers for Calc: a SUM over the column equals the database's."""
    workbook = load_workbook(io.BytesIO(_export_xlsx("aids")))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    column = header.index("Enveloppe annuelle") + 1
    letter = sheet.cell(row=1, column=column).column_letter
    last = sheet.max_row
    sheet.cell(row=last + 2, column=1, value="Total")
    sheet.cell(row=last + 2, column=column, value=f"=SUM({letter}2:{letter}{last})")
    source = tmp_path / "aides.xlsx"
    workbook.save(source)
    saved = localc.xlsx_to_csv(source, tmp_path / "calc" / "aides.csv")
    rows = localc.read_csv(saved)
    total_text = rows[-1][column - 1]
    total = Decimal(total_text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    expected = db.session.scalar(sa.select(sa.func.sum(AidType.yearly_budget)))
    assert expected and total == expected


def test_the_partner_holding_a_formula_survives_calc_as_text(demo, tmp_path):
    source = tmp_path / "partenaires.csv"
    source.write_bytes(_export_csv("partners"))
    saved = localc.csv_to_xlsx(source, tmp_path / "calc" / "partenaires.xlsx")
    sheet = load_workbook(saved).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in names or '=HYPERLINK("http://evil")' in names
    assert all(not isinstance(c.value, str) or c.data_type != "f" for c in sheet["A"])
    report = _import("partners", saved.read_bytes(), "partenaires.xlsx")
    assert report.errors == [] and report.updated == 0, _changes(report)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partner)) == report.unchanged
