"""In Chromium: what became of an appointment, a draft thrown away, a consent recorded on the
referral's page and the referral sent (issue #13)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Interview, Referral, User, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo


def test_appointment_draft_and_consent_in_the_browser(live_app, page, shot, sign_in):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 10)
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        youth = db.session.scalar(
            sa.select(YoungPerson).where(YoungPerson.referent_id == counsellor.id).limit(1)
        )
        appointment = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=2)
        db.session.add(
            Interview(
                young_person_id=youth.id,
                counsellor_id=counsellor.id,
                starts_at=appointment - dt.timedelta(days=14),
                status="completed",
                autonomy_level="2",
                next_appointment=appointment,
            )
        )
        partner_id = db.session.scalar(sa.text("SELECT min(id) FROM partner"))
        referral = Referral(
            young_person_id=youth.id,
            partner_id=partner_id,
            counsellor_id=counsellor.id,
            reason="Recherche d'un hébergement",
        )
        db.session.add(referral)
        db.session.commit()
        youth_id, referral_id = youth.id, referral.id
    base = live_app.config["LIVE_URL"]
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)

    # The appointment is past: the file asks what became of it.
    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    assert "qu'est-il devenu" in page.locator("#next-appointment").inner_text()
    page.select_option("#attendance", "absent")
    shot(page, "dossier-rendez-vous-a-pointer")
    page.click("#attendance-form button")
    page.wait_for_url(f"**/admin/interviews/file/{youth_id}")
    assert "Absent non excusé" in page.locator("#interviews").inner_text()

    # A draft started by mistake is thrown away; the file is as it was.
    page.click("#new-interview")
    page.wait_for_url("**/step/*")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Abandonner le brouillon")
    page.wait_for_url(f"**/admin/interviews/file/{youth_id}")
    assert "Brouillon abandonné" in page.locator(".alert").first.inner_text()
    with live_app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count(Interview.id)).where(Interview.status == "draft")
        )

    # Sending without consent is refused; the same page records it, then sends.
    page.goto(f"{base}/admin/referral/workflow/?id={referral_id}")
    page.click("form[data-transition=send] button")
    assert "consentement" in page.locator(".alert-danger").first.inner_text()
    page.check("#consent input[value=contact]")
    page.select_option("#consent_method", "oral")
    page.click("#consent button")
    assert "donné le" in page.locator("#consent-status").inner_text()
    shot(page, "orientation-consentement", full_page=True)
    page.click("form[data-transition=send] button")
    assert page.locator("#state").inner_text() == "Envoyée"
