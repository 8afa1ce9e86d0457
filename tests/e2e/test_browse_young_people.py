"""In a real browser: can a counsellor sign in, find a young person by name and open the file?"""

from __future__ import annotations

from backoffice.extensions import db
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo

from ..factories import make_young_person


def test_sign_in_search_and_open_a_file(live_app, page, shot):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 60)
        youth = make_young_person(last_name="Benali", first_name="Yasmine", city="Villeurbanne")
        youth_id = youth.id
    base = live_app.config["LIVE_URL"]

    page.goto(f"{base}/admin/youngperson/")
    assert "/login" in page.url  # behind the login
    page.fill("#email", "admin@demo.mission-locale.fr")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/youngperson/")
    assert page.locator("h1", has_text="Jeunes").count() == 1
    shot(page, "jeunes-liste", full_page=False)

    page.fill("input[name=search]", "Benali")
    page.keyboard.press("Enter")
    page.wait_for_url("**search=Benali**")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 1
    assert "Yasmine" in rows.first.inner_text()

    rows.first.locator("a[title='Voir l’enregistrement'], a[href*='details']").first.click()
    page.wait_for_url(f"**/admin/youngperson/details/?id={youth_id}**")
    body = page.locator("body").inner_text()
    assert "BENALI Yasmine" in body or "Benali" in body
    assert "Villeurbanne" in body
    shot(page, "jeune-fiche", full_page=True)


def test_wrong_password_then_home_page(live_app, page, shot):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 30)
    base = live_app.config["LIVE_URL"]
    page.goto(f"{base}/login")
    page.fill("#email", "conseiller@demo.mission-locale.fr")
    page.fill("#password", "mauvais mot de passe")
    page.click("button[type=submit]")
    assert "E-mail ou mot de passe incorrect" in page.locator(".alert").inner_text()
    shot(page, "connexion")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    assert "Bonjour Camille Conseillère" in page.locator("h1").inner_text()
    shot(page, "accueil")
