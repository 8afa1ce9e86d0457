"""In a real browser: can an admin check a spreadsheet before importing it (new rows, errors, what
the file hides), cancel it, and download a whole list, not a page of it?"""

from __future__ import annotations

import csv
import io

from backoffice.extensions import db
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo

FILE = (
    "Liste des jeunes à inscrire — novembre\r\n"
    "\r\n"
    "Nom;Prénom;Date naissance;Antenne;CP;Tél\r\n"
    "Martin;Léa;14/02/02;Antenne Lyon Centre;69001;0612345678\r\n"
    "Durand;Léo;31/02/2003;Antenne Lyon Centre;69002;\r\n"
    "Petit;Inès;01/03/2004;Antenne Lyon Centre;1000;612345679\r\n"
).encode()


def test_preview_then_cancel_then_export_every_row(live_app, page, shot, sign_in, tmp_path):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 60)
    base = live_app.config["LIVE_URL"]
    sign_in(page, "admin@demo.mission-locale.fr", DEMO_PASSWORD)

    page.goto(f"{base}/admin/import/")
    page.select_option("#entity", "youths")
    upload = tmp_path / "jeunes-novembre.csv"
    upload.write_bytes(FILE)
    page.set_input_files("#file", str(upload))
    page.click("button:has-text('Vérifier le fichier')")
    page.wait_for_url(f"{base}/admin/import/preview")
    body = page.locator("body").inner_text()
    assert "Liste des jeunes à inscrire" in page.locator("#notes").inner_text()
    assert "pas une date qui existe" in page.locator("#errors").inner_text()
    new_rows = page.locator("#new-rows tbody tr")
    assert new_rows.count() == 2 and "06 12 34 56 78" in new_rows.first.inner_text()
    assert "Importer seulement les lignes valides" in body
    shot(page, "import-apercu", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"the preview scrolls sideways at 375 px ({width} px)"
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("button:has-text('Annuler et supprimer le fichier envoyé')")
    page.wait_for_url(f"{base}/admin/import/")
    assert "Import annulé" in page.locator("body").inner_text()

    page.goto(f"{base}/admin/youngperson/?page_size=20")
    with page.expect_download() as download:  # as the list's export link does
        page.evaluate(
            "url => { window.location.href = url }", f"{base}/admin/youngperson/export/csv/"
        )
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) - 1 == 60  # every young person, not the 20 of the page
