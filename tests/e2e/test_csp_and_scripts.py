"""In a real browser under our CSP: do Flask-Admin's scripts still work, and nothing is blocked?"""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Partner, Programme, YoungPerson

from ..factories import PASSWORD, make_partner, make_site, make_user, make_young_person


def test_delete_asks_for_confirmation_and_inline_forms_work(live_app, page, shot, sign_in):
    with live_app.app_context():
        admin = make_user(role="admin", email="admin@example.org")
        make_partner(name="À supprimer")
        site = make_site(name="Antenne Test")
        youth = make_young_person(site=site, last_name="Programmé")
        ids = admin.id, youth.id
    base = live_app.config["LIVE_URL"]
    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, "admin@example.org", PASSWORD)

    page.goto(f"{base}/admin/partner/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form[action$='/delete/'] button")
    page.wait_for_load_state("networkidle")
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Partner.id))) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action$='/delete/'] button")
    page.wait_for_url(f"{base}/admin/partner/**")
    with live_app.app_context():
        db.session.remove()
        assert db.session.scalar(sa.select(sa.func.count(Partner.id))) == 0

    page.goto(f"{base}/admin/youngperson/edit/?id={ids[1]}")
    page.click("#programmes-button")
    page.select_option("select[name='programmes-0-kind']", "CEJ", force=True)  # select2 hides it
    page.fill("input[name='programmes-0-start_date']", "2025-09-01")
    page.keyboard.press("Escape")
    shot(page, "jeune-edition-programme", full_page=True)
    page.click("h1")  # closes the date picker, as a click elsewhere does
    with page.expect_navigation():  # the edit page's own address would match at once
        page.click("input[type=submit][value='Enregistrer']")
    with live_app.app_context():
        db.session.remove()
        programme = db.session.scalar(sa.select(Programme))
        assert programme is not None and programme.kind == "CEJ"
        assert db.session.get(YoungPerson, ids[1]).programmes[0].id == programme.id

    page.goto(f"{base}/admin/youngperson/details/?id={ids[1]}&tab=history")
    history = page.locator("#history").inner_text()
    assert "Programme" in history and "Type : CEJ" in history  # the programme is in the file
    shot(page, "jeune-historique", full_page=True)
    # No inline handler is left (the project's copies of Flask-Admin's templates carry data
    # attributes, bound by static/backoffice.js, as the confirmations above show) and no
    # "javascript:" link navigates: the console has no CSP error at all.
    assert violations == []


def test_filters_work_under_the_csp(live_app, page, sign_in):
    with live_app.app_context():
        make_user(role="admin", email="admin@example.org")
        make_young_person(last_name="Actif")
        make_young_person(last_name="Veille", status="on_hold")
    base = live_app.config["LIVE_URL"]
    violations = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, "admin@example.org", PASSWORD)
    page.goto(f"{base}/admin/youngperson/")
    page.click("text=Ajouter un filtre")
    page.click("a.filter:has-text('Statut')")
    page.locator("select.filter-val").first.select_option("on_hold", force=True)
    page.click("button:has-text('Appliquer')")
    page.wait_for_url("**flt**")
    body = page.locator("table.model-list").inner_text()
    assert "Veille" in body and "Actif" not in body
    # The bulk action menu runs under the CSP too: select a row, "Avec la sélection" → delete.
    page.locator("input.action-checkbox").first.check()
    page.click("text=Avec la sélection")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("[data-model-action=delete]")
    assert asked and violations == []
