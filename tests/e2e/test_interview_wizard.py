"""In a real browser: can a counsellor run a follow-up interview through the six steps, print
the summary, and see in the file what changed?"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Interview, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo, seed_histories


def test_a_follow_up_interview_in_six_steps(live_app, page, shot, sign_in):
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 40)
        seed_histories(db.session, 40)
        # a young person of the demo counsellor's caseload with a completed interview
        youth_id = db.session.scalar(
            sa.select(YoungPerson.id)
            .join(Interview, Interview.young_person_id == YoungPerson.id)
            .where(
                YoungPerson.referent.has(email="conseiller@demo.mission-locale.fr"),
                Interview.status == "completed",
            )
            .where(
                ~YoungPerson.id.in_(
                    sa.select(Interview.young_person_id).where(Interview.status == "draft")
                )
            )
            .limit(1)
        )
    base = live_app.config["LIVE_URL"]
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)
    shot(page, "accueil-conseiller", full_page=True)

    page.goto(f"{base}/admin/interviews/file/{youth_id}")
    shot(page, "dossier-jeune", full_page=True)
    page.click("#new-interview")
    page.wait_for_url("**/step/1")
    shot(page, "entretien-1-depuis-la-derniere-fois", full_page=True)
    for radio in page.locator("input[type=radio][value=done]").all():
        radio.check()
    page.click("button[value=next]")

    page.wait_for_url("**/step/2")
    page.locator("select[name$=-assessment]").first.select_option("in_progress")
    page.locator("textarea[name$=-words]").first.fill("Je cherche toujours un logement")
    shot(page, "entretien-2-diagnostic", full_page=True)
    page.click("button[value=next]")

    page.wait_for_url("**/step/3")
    page.fill("#new-0-statement", "Travailler dans un restaurant")
    page.fill("#new-0-suggestion", "Formation commis de cuisine")
    shot(page, "entretien-3-objectifs", full_page=True)
    page.click("button[value=next]")

    page.wait_for_url("**/step/4")
    page.click("button[value=next]")  # nothing concrete yet: refused with a message
    assert "ajoutez une proposition" in page.locator(".field-error").first.inner_text()
    page.select_option("#new-0-kind", "workshop")
    page.fill("#new-0-description", "Atelier POP du 3 décembre")
    shot(page, "entretien-4-realisation", full_page=True)
    page.click("button[value=next]")

    page.wait_for_url("**/step/5")
    page.fill("#new-0-what", "Préparer trois questions pour l'atelier")
    page.select_option("#new-0-created_by", "young_person")
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    page.fill("#new-0-due", due)
    page.check("input[name=autonomy_level][value='3']")
    page.fill("#public_summary", "Tu participes à l'atelier POP et tu prépares tes questions.")
    shot(page, "entretien-5-prochaine-fois", full_page=True)
    page.click("button[value=next]")

    page.wait_for_url("**/step/6")
    recap = page.locator(".recap").inner_text()
    assert "Travailler dans un restaurant" in recap and "Atelier POP du 3 décembre" in recap
    shot(page, "entretien-6-recapitulatif", full_page=True)
    with page.expect_popup() as popup_info:
        page.click("text=Version imprimable pour le jeune")
    printable = popup_info.value
    printable.wait_for_load_state()
    assert "Préparer trois questions" in printable.locator("body").inner_text()
    shot(printable, "entretien-recapitulatif-imprimable", full_page=True)
    printable.close()

    page.click("#validate")
    page.wait_for_url(f"**/admin/interviews/file/{youth_id}")
    assert "Entretien validé." in page.locator(".alert").first.inner_text()
    actions = page.locator("#actions").inner_text()
    assert "Préparer trois questions pour l'atelier" in actions
    assert page.locator("#autonomy-chart").count() == 1
    shot(page, "dossier-jeune-apres-entretien", full_page=True)
