"""In Chromium: the director opens *Pilotage*, picks a year and a site, reads a figure with its
definition and downloads the whole report as one .xlsx (issue #14)."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

from backoffice.extensions import db
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo, seed_histories


def test_the_director_reads_and_downloads_the_report(live_app, page, shot, sign_in, tmp_path):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 40)
        seed_histories(db.session, 40)
    sign_in(page, "direction@demo.mission-locale.fr", DEMO_PASSWORD)
    page.click("nav >> text=Pilotage")
    page.wait_for_url("**/admin/pilotage/")
    this_year = str(dt.date.today().year)
    page.fill("#valeur", this_year)
    page.select_option("#antenne", index=1)  # the first site
    site = page.locator("#antenne option:checked").inner_text()
    page.click("#filters button")
    page.wait_for_url(f"**/admin/pilotage/?periode=year&valeur={this_year}*")
    assert f"{site}, année {this_year}" in page.locator("#report-scope").inner_text()
    section = page.locator("#young_people")
    section.locator("summary").click()
    assert "au moins un entretien individuel tenu" in section.locator(".definition").inner_text()
    accompanied = section.locator("tr", has_text="Accompagnés").locator("td").first.inner_text()
    assert int(accompanied.replace("\u00a0", "")) > 0
    assert page.locator("canvas.report-chart").count() >= 10  # the charts are drawn
    shot(page, "pilotage")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / "pilotage.xlsx"
    download.value.save_as(path)
    workbook = load_workbook(path)
    assert workbook.sheetnames[0] == "Définitions" and len(workbook.sheetnames) > 10
