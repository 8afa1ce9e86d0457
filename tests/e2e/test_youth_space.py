"""In Chromium (issue #15): the counsellor creates the young person's link from the file; the
young person opens their space on a 375 px phone, ticks an action and adds one; the
counsellor's next interview shows both; a revoked link answers 410."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backoffice.domain import values
from backoffice.extensions import db
from backoffice.models import Action, Interview, Objective, User, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo


def test_the_young_person_ticks_an_action_from_their_phone(live_app, browser, page, shot, sign_in):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 10)
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        youth = db.session.scalar(
            sa.select(YoungPerson).where(YoungPerson.referent_id == counsellor.id).limit(1)
        )
        now = values.local_now().replace(second=0, microsecond=0)
        held = Interview(
            young_person_id=youth.id,
            counsellor_id=counsellor.id,
            starts_at=now - dt.timedelta(days=7),
            status="completed",
            autonomy_level="2",
            next_appointment=(now + dt.timedelta(days=2)).replace(hour=14, minute=30),
        )
        db.session.add(held)
        db.session.flush()
        db.session.add(
            Objective(
                young_person_id=youth.id,
                statement="Trouver un apprentissage en cuisine",
                agreed_at_id=held.id,
            )
        )
        db.session.add(
            Action(
                young_person_id=youth.id,
                set_at_id=held.id,
                what="Aller au forum de l'alternance",
                due_date=now.date() + dt.timedelta(days=1),
            )
        )
        db.session.commit()
        youth_id, first_name = youth.id, youth.first_name
    base = live_app.config["LIVE_URL"]
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)
    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    page.click("#space button:has-text('Créer son lien')")
    page.wait_for_url(f"**/admin/interviews/file/{youth_id}#space")
    link = page.input_value("#space-link")
    assert "/mon-espace/" in link
    assert page.locator("#space svg").count() == 1  # the QR code
    shot(page, "dossier-espace-du-jeune")

    # The young person, on a phone.
    phone = browser.new_context(viewport={"width": 375, "height": 800}, locale="fr-FR")
    mobile = phone.new_page()
    mobile.set_default_timeout(15000)
    mobile.goto(link)
    assert f"Bonjour {first_name}" in mobile.locator("h1").inner_text()
    assert "« Trouver un apprentissage en cuisine »" in mobile.inner_text("main")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 375
    shot(mobile, "espace-du-jeune-375", full_page=True)
    mobile.click('button:has-text("C\'est fait")')
    mobile.wait_for_load_state("networkidle")
    assert "Fait le" in mobile.locator(".action.done").inner_text()
    mobile.fill("#what", "Appeler le CFA de Lyon")
    mobile.click("#add-action button")
    mobile.wait_for_load_state("networkidle")
    assert "Appeler le CFA de Lyon" in mobile.inner_text("main")
    assert "proposée par vous" in mobile.inner_text("main")
    shot(mobile, "espace-du-jeune-375-apres", full_page=True)

    # The counsellor's next interview shows what the young person did and added.
    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    page.click("#new-interview")
    page.wait_for_url("**/step/1")
    since = page.inner_text("main")
    assert "faite, selon le jeune" in since and "Aller au forum de l'alternance" in since
    assert "Appeler le CFA de Lyon" in since and "depuis son espace" in since
    shot(page, "etape-1-action-cochee-par-le-jeune", full_page=True)

    # Revoked: the link answers 410 with a French page.
    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#space button:has-text('Révoquer le lien')")
    page.wait_for_url(f"**/admin/interviews/file/{youth_id}#space")
    response = mobile.goto(link)
    assert response.status == 410
    assert "Ce lien ne fonctionne plus" in mobile.inner_text("main")
    phone.close()
