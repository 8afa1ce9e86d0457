"""Accessibility in Chromium (issue #12, first part): axe-core on the pages each role reaches.

axe-core 4 (bundled by ``axe-playwright-python``) runs the WCAG 2.0 / 2.1 A and AA rules — what
RGAA 4.1 checks automatically — on the sign-in page, the error page, every page of each role's
menu, and, for a counsellor, a young person's file, details, edit and creation forms, every step
of a draft interview, an interview's printable summary and the password page. Any critical or
serious violation fails the test, with the page, the rule and the first element.
"""

from __future__ import annotations

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from backoffice.extensions import db
from backoffice.models import Interview, User, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo, seed_histories, seed_workflows

AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
ROLES = ("admin", "conseiller", "direction")


def _violations(page, url: str) -> list[str]:
    result = AXE.run(page, options=WCAG_AA)
    return [
        f"{url}: {v['id']} ({v['impact']}, {len(v['nodes'])}) {v['nodes'][0]['target']}"
        for v in result.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def _world(app) -> dict:
    with app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 60)
        seed_histories(db.session, 60)
        seed_workflows(db.session, 30)
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        youth_id, interview_id = db.session.execute(
            sa.select(Interview.young_person_id, Interview.id)
            .join(YoungPerson, YoungPerson.id == Interview.young_person_id)
            .where(YoungPerson.referent_id == counsellor.id, Interview.status == "completed")
            .order_by(Interview.id)
            .limit(1)
        ).one()
        db.session.execute(  # the wizard is opened on a young person without a draft
            sa.delete(Interview).where(
                Interview.young_person_id == youth_id, Interview.status == "draft"
            )
        )
        db.session.commit()
        return {"youth": youth_id, "interview": interview_id}


def test_no_page_has_a_critical_or_serious_violation(live_app, browser):
    world = _world(live_app)
    base = live_app.config["LIVE_URL"]
    failures: list[str] = []
    scanned = 0
    for role in ROLES:
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        for url in ("/login", "/page-qui-n-existe-pas", "/accessibilite"):
            page.goto(base + url)
            failures += _violations(page, url)
            scanned += 1
        page.goto(f"{base}/login")
        page.fill("#email", f"{role}@demo.mission-locale.fr")
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        menu = page.eval_on_selector_all(
            "nav a[href^='/admin']", "links => links.map(a => a.getAttribute('href'))"
        )
        urls = ["/admin/", *sorted({u for u in menu if "#" not in u}), "/account/password"]
        if role == "conseiller":
            youth, interview = world["youth"], world["interview"]
            urls += [
                f"/admin/interviews/file/{youth}",
                f"/admin/youngperson/details/?id={youth}",
                f"/admin/youngperson/edit/?id={youth}",
                "/admin/youngperson/new/",
                f"/admin/interviews/{interview}/summary",
            ]
        for url in urls:
            page.goto(base + url)
            page.wait_for_load_state("networkidle")
            failures += _violations(page, f"{role} {url}")
            scanned += 1
        if role == "conseiller":  # a draft interview, step by step
            page.goto(f"{base}/admin/interviews/file/{world['youth']}")
            page.click("form[action$='/admin/interviews/new/{}'] button".format(world["youth"]))
            page.wait_for_load_state("networkidle")
            draft = page.url.split("/admin/interviews/")[1].split("/")[0]
            for step in range(1, 7):
                url = f"/admin/interviews/{draft}/step/{step}"
                page.goto(base + url)
                page.wait_for_load_state("networkidle")
                failures += _violations(page, f"{role} {url}")
                scanned += 1
        context.close()
    assert scanned > 40
    assert not failures, "\n".join(failures)


def test_the_skip_link_comes_first_and_leads_to_the_content(live_app, page, sign_in):
    """Keyboard: the first Tab stop is "Aller au contenu", and Enter moves the focus to the
    page's <main>, past the menu."""
    with live_app.app_context():
        load_catalogue(db.session)
        seed_demo(db.session, 5)
    sign_in(page, "conseiller@demo.mission-locale.fr", DEMO_PASSWORD)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Aller au contenu"
    assert page.is_visible(".skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.evaluate("document.querySelectorAll('main').length") == 1
    assert page.evaluate("document.querySelectorAll('h1').length") == 1
