"""In a real browser: a counsellor refers a young person to a partner, prints the fiche de
liaison, the partner answers through the link, the counsellor sees the appointment in the file."""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Partner, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo


def test_refer_send_answer_and_see_it(live_app, page, browser, shot, sign_in):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 30)
        youth_id = db.session.scalar(
            sa.select(YoungPerson.id)
            .where(
                YoungPerson.referent.has(email="conseiller@demo.mission-locale.fr"),
                YoungPerson.status == "active",
            )
            .limit(1)
        )
        partner_id = db.session.scalar(
            sa.select(Partner.id).where(Partner.name == "Point accueil écoute jeunes")
        )
    base = live_app.config["LIVE_URL"]
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)

    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    page.click("text=Orienter vers un partenaire")
    page.wait_for_url("**/admin/referral/new/**")
    page.select_option("#partner", str(partner_id), force=True)
    page.fill("#reason", "Se sent seul et découragé depuis plusieurs semaines")
    page.select_option("#shared_fields", ["contact"])
    page.select_option("#consent_method", "oral")
    page.click("input[type=submit][value='Enregistrer']")
    page.wait_for_url("**/admin/referral/workflow/**")
    page.click("form[data-transition=send] button")
    page.wait_for_url("**/admin/referral/workflow/**")
    assert "Envoyée" in page.locator("#state").inner_text()
    link = page.locator("#answer-link").input_value()
    shot(page, "orientation-suivi", full_page=True)

    partner_context = browser.new_context(locale="fr-FR")
    partner = partner_context.new_page()
    partner.goto(link)
    body = partner.locator("body").inner_text()
    assert "Se sent seul" in body
    shot(partner, "orientation-reponse-partenaire", full_page=True)
    partner.fill("#appointment_at", "2026-12-10T14:30")
    partner.click("#accept button")
    assert "réponse est enregistrée" in partner.locator("#done").inner_text()
    partner.goto(link)
    assert "déjà servi" in partner.locator("#link-error").inner_text()
    partner_context.close()

    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    referrals = page.locator("#referrals").inner_text()
    assert "Acceptée" in referrals and "10/12/2026 à 14:30" in referrals

    page.goto(f"{base}/admin/referral/stats/")
    page.wait_for_selector("#referral-diagram svg")
    shot(page, "orientations-statistiques", full_page=True)
