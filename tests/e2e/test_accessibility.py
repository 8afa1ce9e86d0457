"""Accessibility in Chromium (issue #12): axe-core, reflow and the keyboard.

axe-core 4 (bundled by ``axe-playwright-python``) runs the WCAG 2.0 / 2.1 A and AA rules — what
RGAA 4.1 checks automatically — on every page of a tour: the anonymous pages (sign-in, error,
statement, a partner's answer page, valid, in error and with a bad link), every page of the
admin's, the counsellor's and the manager's menus, a young person's file, details, history, edit
and creation forms, every step of a draft interview, the printable summary, the referral and aid
request pages in each state the demo reaches, the statistics, an import's preview, and forms
sent in error (sign-in, password, creation, a wizard step). Any critical or serious violation
fails. The same tour at 320 px checks that no page scrolls sideways, and two keyboard-only walks
check the skip link, the sign-in and a wizard step.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from flask import url_for

from backoffice.domain import interviews as rules
from backoffice.domain import referrals as flows
from backoffice.domain import youth_space as space
from backoffice.extensions import db
from backoffice.models import (
    Action,
    AidRequest,
    Interview,
    Referral,
    User,
    YoungPerson,
    utcnow,
)
from seed.catalogue import load_catalogue
from seed.demo import DEMO_PASSWORD, seed_demo, seed_histories, seed_workflows

AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
ROLES = ("admin", "conseiller", "direction")
IMPORT_FILE = (
    "Nom;Prénom;Date naissance;Antenne;CP\r\n"
    "Martin;Léa;14/02/2002;Antenne Lyon Centre;69001\r\n"
    "Durand;Léo;31/02/2003;Antenne Lyon Centre;69002\r\n"
).encode()


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
        # One referral and one aid request in each state the demo reached.
        referrals = dict(
            db.session.execute(
                sa.select(Referral.status, sa.func.min(Referral.id)).group_by(Referral.status)
            ).all()
        )
        aids = dict(
            db.session.execute(
                sa.select(AidRequest.status, sa.func.min(AidRequest.id)).group_by(AidRequest.status)
            ).all()
        )
        sent = db.session.get(Referral, referrals["sent"])
        youth = db.session.get(YoungPerson, youth_id)
        space.issue(youth, utcnow())
        gone = db.session.scalar(sa.select(YoungPerson).where(YoungPerson.id != youth_id).limit(1))
        space.issue(gone, utcnow() - dt.timedelta(days=90), days=1)
        with app.test_request_context():
            answer = url_for(
                "partner_answer.answer",
                token=flows.answer_token(app.config["SECRET_KEY"], sent),
            )
            own = url_for("youth_space.index", token=space.token(app.config["SECRET_KEY"], youth))
            expired = url_for(
                "youth_space.index", token=space.token(app.config["SECRET_KEY"], gone)
            )
        db.session.commit()
        assert len(referrals) >= 5 and len(aids) >= 4, (referrals, aids)
        return {
            "youth": youth_id,
            "interview": interview_id,
            "referrals": sorted(referrals.values()),
            "aids": sorted(aids.values()),
            "answer": answer,
            "space": own,
            "space_gone": expired,
        }


#: The element that sticks out furthest on the right, outside any scrolling region.
WIDEST = """() => {
  let widest = null, right = 0;
  for (const e of document.querySelectorAll("body *")) {
    const box = e.getBoundingClientRect();
    if (box.right <= right || !box.width) continue;
    let p = e.parentElement, scrolls = false;
    for (; p && !scrolls; p = p.parentElement) scrolls = getComputedStyle(p).overflowX !== "visible";
    if (!scrolls) { widest = e; right = box.right; }
  }
  return widest ? `${widest.tagName}.${widest.className} « ${widest.textContent.slice(0, 40)} »` : "";
}"""


MEANT_TO_BE_MISSING = ("/page-qui-n-existe-pas", "/partenaire/reponse/lien-invalide")


def _sign_in(page, base: str, role: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", f"{role}@demo.mission-locale.fr")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _tour(browser, app, world: dict, width: int, check) -> int:
    """Visit every page each role reaches, in each state worth seeing (forms in error, an
    import's preview, a partner's answer page), calling ``check(page, label)`` on each.
    Returns the number of pages checked."""
    base = app.config["LIVE_URL"]
    checked = 0
    # A server error, or a page not found that was not meant to be, fails the tour whatever the
    # page looks like (a counsellor sent to another's referral would only see "Page introuvable").
    broken: list[str] = []

    def watch(page) -> None:
        page.on(
            "response",
            lambda r: (
                broken.append(f"{r.status} {r.url}")
                if r.request.resource_type == "document"
                and (
                    r.status >= 500 or (r.status == 404 and not r.url.endswith(MEANT_TO_BE_MISSING))
                )
                else None
            ),
        )

    def visit(page, label: str) -> None:
        nonlocal checked
        page.wait_for_load_state("networkidle")
        check(page, label)
        checked += 1

    anonymous = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = anonymous.new_page()
    page.set_default_timeout(15000)
    watch(page)
    for url in ("/login", "/page-qui-n-existe-pas", "/accessibilite", world["answer"]):
        page.goto(base + url)
        visit(page, url)
    page.goto(f"{base}/login")  # the sign-in form in error
    page.click("button[type=submit]")
    visit(page, "/login (champs vides)")
    page.goto(base + world["answer"])  # accepting without a date
    page.click("#accept button")
    visit(page, "réponse du partenaire (sans date)")
    page.goto(f"{base}/partenaire/reponse/lien-invalide")
    visit(page, "réponse du partenaire (lien invalide)")
    page.goto(base + world["space"])  # the young person's space, and in error
    visit(page, "espace du jeune")
    page.click("#add-action button")
    visit(page, "espace du jeune (action sans texte)")
    page.goto(base + world["space_gone"])
    visit(page, "espace du jeune (lien expiré)")
    anonymous.close()

    for role in ROLES:
        context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        watch(page)
        _sign_in(page, base, role)
        menu = page.eval_on_selector_all(
            "nav a[href^='/admin']", "links => links.map(a => a.getAttribute('href'))"
        )
        urls = ["/admin/", *sorted({u for u in menu if "#" not in u}), "/account/password"]
        if role == "conseiller":
            youth, interview = world["youth"], world["interview"]
            urls += [
                f"/admin/interviews/file/{youth}",
                f"/admin/youngperson/details/?id={youth}",
                f"/admin/youngperson/details/?id={youth}&tab=history",
                f"/admin/youngperson/edit/?id={youth}",
                "/admin/youngperson/new/",
                f"/admin/interviews/{interview}/summary",
                "/admin/referral/stats/",
                "/admin/referral/new/",
                "/admin/aidrequest/new/",
                "/admin/interviews/agenda",
                f"/admin/interviews/file/{youth}/notice",
                f"/admin/situation/new/?young_person={youth}",
            ]
        if role == "admin":  # every referral and aid request is in the admin's scope
            urls += [
                *(f"/admin/referral/workflow/?id={n}" for n in world["referrals"]),
                *(f"/admin/referral/fiche/?id={n}" for n in world["referrals"][:1]),
                *(f"/admin/aidrequest/workflow/?id={n}" for n in world["aids"]),
                f"/admin/interviews/file/{world['youth']}/donnees",
            ]
        for url in urls:
            page.goto(base + url)
            visit(page, f"{role} {url}")
        if role == "admin":
            page.goto(f"{base}/admin/import/")
            page.select_option("#entity", "youths")
            page.set_input_files(
                "#file",
                files=[{"name": "jeunes.csv", "mimeType": "text/csv", "buffer": IMPORT_FILE}],
            )
            page.click("button:has-text('Vérifier le fichier')")
            page.wait_for_url(f"{base}/admin/import/preview")
            visit(page, "admin aperçu d'import (avec erreurs)")
            page.goto(f"{base}/account/password")
            page.fill("#current_password", "pas-le-bon")
            page.click("main button[type=submit]")
            visit(page, "admin mot de passe (en erreur)")
        if role == "conseiller":
            page.goto(f"{base}/admin/youngperson/new/")
            page.click("form.admin-form input[type=submit]")
            visit(page, "conseiller création d'un jeune (champs vides)")
            page.goto(f"{base}/admin/interviews/file/{world['youth']}")
            page.click(f"form[action$='/admin/interviews/new/{world['youth']}'] button")
            page.wait_for_load_state("networkidle")
            draft = page.url.split("/admin/interviews/")[1].split("/")[0]
            for step in range(1, 7):
                url = f"/admin/interviews/{draft}/step/{step}"
                page.goto(base + url)
                visit(page, f"{role} {url}")
            page.goto(f"{base}/admin/interviews/{draft}/step/2")
            page.fill("#duration_minutes", "mille")
            page.click("button[value=stay]")
            visit(page, f"{role} étape 2 (durée invalide)")
            page.goto(f"{base}/admin/interviews/file/{world['youth']}")
            page.click("#situations summary")
            page.select_option("#situation-kind", "cdi")
            page.click("#situations form button")
            visit(page, f"{role} dossier, situation sans date (en erreur)")
            # Leave no draft behind: the next tour opens the wizard again.
            with app.app_context():
                db.session.execute(sa.delete(Interview).where(Interview.id == int(draft)))
                db.session.commit()
        context.close()
    assert not broken, broken
    return checked


def test_no_page_has_a_critical_or_serious_violation(live_app, browser):
    """axe on every page of the tour; and each address has its own title (RGAA 8.6)."""
    world = _world(live_app)
    failures: list[str] = []
    titles: dict[str, set[str]] = {}

    def axe(page, label):
        failures.extend(_violations(page, label))
        if " /" in label and "(" not in label:  # an address, not a state of it
            address = label.split(" ", 1)[1].rstrip("/")
            titles.setdefault(page.title(), set()).add(address)

    scanned = _tour(browser, live_app, world, 1280, axe)
    assert scanned > 70
    assert not failures, "\n".join(failures)
    shared = {title: sorted(urls) for title, urls in titles.items() if len(urls) > 1}
    assert not shared, "\n".join(f"{t}: {u}" for t, u in shared.items())


def test_no_page_scrolls_sideways_at_320_px(live_app, browser):
    """Reflow (WCAG 1.4.10, RGAA 10.11): at 320 CSS px — a 1280 px screen at 400 % zoom — no
    page scrolls sideways; a wide table scrolls inside its own region."""
    world = _world(live_app)
    failures: list[str] = []

    def reflow(page, label):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            failures.append(f"{label}: {width} px, {page.evaluate(WIDEST)}")

    assert _tour(browser, live_app, world, 320, reflow) > 70
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


def test_sign_in_and_one_wizard_step_with_the_keyboard_only(live_app, page):
    """No mouse: Tab to the fields, type, Enter to sign in; in the wizard, Tab to the first
    action under review, Space to tick "Fait", Enter to save and go on to step 2."""
    world = _world(live_app)
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        draft = Interview(
            young_person_id=world["youth"],
            counsellor_id=db.session.scalar(
                sa.select(User.id).where(User.email == "conseiller@demo.mission-locale.fr")
            ),
            starts_at=dt.datetime.now().replace(microsecond=0),
            status="draft",
            step=1,
        )
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id

    page.goto(f"{base}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("conseiller@demo.mission-locale.fr")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/")

    page.goto(f"{base}/admin/interviews/{draft_id}/step/1")
    first_review = page.locator("input[type=radio][name^='actions-']").first
    name = first_review.get_attribute("name")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == name:
            break
    else:
        raise AssertionError("the first action under review cannot be reached with Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/admin/interviews/{draft_id}/step/2")
    action_id = int(name.split("-")[1])
    with live_app.app_context():  # kept on the draft until the interview is validated
        draft = db.session.get(Interview, draft_id)
        assert rules.pending(draft, "actions")[str(action_id)]["choice"] == "done"
        assert db.session.get(Action, action_id).status != "done"
