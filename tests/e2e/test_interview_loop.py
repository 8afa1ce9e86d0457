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


def test_the_week_and_a_situation_in_the_browser(live_app, page, shot, sign_in):
    """The agenda records a missed appointment and comes back to itself; step 1 records the
    situation a realised job led to, written to the file at validation."""
    from backoffice.domain import values
    from backoffice.models import Proposal, Situation

    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 10)
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        first, second = db.session.scalars(
            sa.select(YoungPerson)
            .where(YoungPerson.site_id == counsellor.site_id, YoungPerson.status == "active")
            .order_by(YoungPerson.id)
            .limit(2)
        ).all()
        first.referent_id = second.referent_id = counsellor.id
        now = values.local_now().replace(second=0)
        past = now - dt.timedelta(hours=2)
        for youth, appointment in ((first, past), (second, now + dt.timedelta(days=1))):
            held = Interview(
                young_person_id=youth.id,
                counsellor_id=counsellor.id,
                starts_at=now - dt.timedelta(days=14),
                status="completed",
                autonomy_level="2",
                next_appointment=appointment,
            )
            db.session.add(held)
            db.session.flush()
        db.session.add(
            Proposal(
                interview_id=held.id,
                young_person_id=second.id,
                kind="job",
                description="Préparateur de commandes",
                outcome="prescribed",
            )
        )
        db.session.commit()
        first_id, second_id = first.id, second.id
    base = live_app.config["LIVE_URL"]
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)

    page.goto(f"{base}/admin/")
    page.click("#agenda-link")
    page.wait_for_url("**/admin/interviews/agenda")
    row = page.locator(".appointment-to-record", has_text=str(past.strftime("%d/%m %H:%M")))
    row.locator("select[name=attendance]").select_option("cancelled_youth")
    shot(page, "agenda-semaine", full_page=True)
    row.locator("button:has-text('Pointer')").click()
    page.wait_for_url("**/admin/interviews/agenda?semaine=*")
    assert "pointé" in page.locator(".alert").first.inner_text()
    assert page.locator(".appointment-to-record").count() == 0
    with live_app.app_context():
        assert (
            db.session.scalar(
                sa.select(Interview.attendance).where(
                    Interview.young_person_id == first_id, Interview.starts_at == past
                )
            )
            == "cancelled_youth"
        )

    page.goto(f"{base}/admin/interviews/file/{second_id}")
    page.click("#new-interview")
    page.wait_for_url("**/step/1")
    review = page.locator("fieldset.proposal-review", has_text="Préparateur de commandes")
    review.locator("input[value=done]").check()
    review.locator("select[name$=situation_kind]").select_option("cdd_long")
    review.locator("input[name$=situation_start]").fill(now.date().isoformat())
    review.locator("input[name$=situation_organisation]").fill("Entrepôt Rhône")
    shot(page, "entretien-1-situation")
    page.click("button[value=next]")
    page.wait_for_url("**/step/2")
    with live_app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count(Situation.id))
        )  # not before validation
    page.goto(f"{base}/admin/interviews/file/{second_id}")
    assert "Aucune situation enregistrée." in page.locator("#situations").inner_text()
