"""Referrals and aid requests: does every transition obey its state, role, fields, guard and
version; does the partner's link work once; can anything overspend an envelope?"""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from backoffice.domain import referrals as flows
from backoffice.domain.workflow import Actor, TransitionRefused, events_of, fire
from backoffice.extensions import db
from backoffice.models import AidRequest, Referral, WorkflowEvent, utcnow

from .conftest import TEST_DATABASE_URL
from .factories import make_aid_type, make_partner, make_site, make_young_person

COUNSELLOR = Actor(None, "counsellor", "c@example.org")  # module-level: no account needed
ADMIN = Actor(None, "admin", "a@example.org")
MANAGER = Actor(None, "manager", "m@example.org")
PARTNER = Actor(None, "partner", "partenaire (lien)")


def _referral(**kw):
    values = {
        "reason": "Souffrance exprimée, à évaluer",
        "consent_at": utcnow(),
        "shared_fields": ["contact"],
        **kw,
    }
    referral = Referral(
        young_person_id=values.pop("young_person_id", None) or make_young_person().id,
        partner_id=make_partner(name="Psy du quartier").id,
        **values,
    )
    db.session.add(referral)
    db.session.commit()
    return referral


def _aid_request(aid, amount="100", youth=None, status="under_review"):
    request = AidRequest(
        young_person_id=(youth or make_young_person()).id,
        aid_type_id=aid.id,
        amount_asked=Decimal(amount),
        budget_year=dt.date.today().year,
        status=status,
    )
    db.session.add(request)
    db.session.commit()
    return request


# --- the referral workflow, without HTTP -------------------------------------------------------


def test_the_legal_path_to_completion(app):
    referral = _referral()
    for name, actor, values in [
        ("send", COUNSELLOR, {}),
        ("accept", PARTNER, {"appointment_at": "2026-12-03T10:00"}),
        ("enter", COUNSELLOR, {}),
        ("complete", PARTNER, {"comment": "Suivi engagé"}),
    ]:
        fire(db.session, flows.REFERRAL, referral, name, actor, values)
    db.session.commit()
    assert referral.status == "completed"
    assert referral.appointment_at == dt.datetime(2026, 12, 3, 10, 0)
    log = [
        (e.from_state, e.to_state, e.actor_label)
        for e in events_of(db.session, "referral", referral.id)
    ]
    assert log[0] == ("draft", "sent", "c@example.org")
    assert log[1][2] == "partenaire (lien)" and len(log) == 4


@pytest.mark.parametrize(
    ("setup", "name", "actor", "values", "message"),
    [
        (
            {"status": "draft"},
            "accept",
            PARTNER,
            {"appointment_at": "2026-12-03T10:00"},
            "impossible depuis l'état « Brouillon »",
        ),
        ({"status": "sent"}, "send", COUNSELLOR, {}, "impossible depuis l'état « Envoyée »"),
        ({"status": "draft"}, "send", MANAGER, {}, "Votre rôle ne permet pas"),
        ({"status": "sent"}, "expire", COUNSELLOR, {}, "Votre rôle ne permet pas"),
        ({"status": "draft", "consent_at": None}, "send", COUNSELLOR, {}, "consentement"),
        ({"status": "sent"}, "refuse", PARTNER, {}, "« Motif » est obligatoire"),
        (
            {"status": "sent"},
            "refuse",
            PARTNER,
            {"refusal_reason": "other"},
            "un message est obligatoire",
        ),
        ({"status": "sent"}, "refuse", PARTNER, {"refusal_reason": "nope"}, "dans la liste"),
        ({"status": "sent"}, "accept", PARTNER, {}, "« Date du rendez-vous » est obligatoire"),
        ({"status": "sent"}, "accept", PARTNER, {"appointment_at": "demain"}, "n'est pas une date"),
        ({"status": "draft"}, "teleport", COUNSELLOR, {}, "Transition inconnue"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    app, setup, name, actor, values, message
):
    referral = _referral()
    for key, value in setup.items():
        setattr(referral, key, value)
    db.session.commit()
    before = referral.status
    with pytest.raises(TransitionRefused, match=re.escape(message)):
        fire(db.session, flows.REFERRAL, referral, name, actor, values)
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status == before
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEvent.id))) == 0


def test_a_stale_version_is_refused(app):
    referral = _referral()
    with pytest.raises(TransitionRefused, match="a changé"):
        fire(
            db.session,
            flows.REFERRAL,
            referral,
            "send",
            COUNSELLOR,
            expected_version=referral.version - 1,
        )


def test_refusal_with_other_and_a_message(app):
    referral = _referral(status="sent")
    fire(
        db.session,
        flows.REFERRAL,
        referral,
        "refuse",
        PARTNER,
        {"refusal_reason": "other", "comment": "Le jeune a déménagé"},
    )
    assert referral.refusal_message == "Le jeune a déménagé" and referral.status == "refused"


def test_reminder_after_10_days_and_expiry_after_30(app):
    today = dt.date(2026, 11, 27)
    fresh = _referral(status="sent", sent_at=dt.datetime(2026, 11, 20, 9))
    late = _referral(status="sent", sent_at=dt.datetime(2026, 11, 10, 9))
    old = _referral(status="sent", sent_at=dt.datetime(2026, 10, 20, 9))
    assert not flows.needs_reminder(fresh, today) and flows.needs_reminder(late, today)
    assert flows.expire_overdue(db.session, today) == 1
    assert flows.expire_overdue(db.session, today) == 0  # idempotent
    assert (fresh.status, late.status, old.status) == ("sent", "sent", "expired")
    [event] = events_of(db.session, "referral", old.id)
    assert event.actor_label == "système"


def test_cli_expires(app, runner):
    _referral(status="sent", sent_at=utcnow() - dt.timedelta(days=40))
    result = runner.invoke(args=["referrals-expire"])
    assert "1 orientation(s) expirée(s)." in result.output
    assert runner.invoke(args=["referrals-expire"]).output.startswith("0 ")


# --- the partner's link ------------------------------------------------------------------------

SECRET = "test-secret-key"


def _sent_referral():
    referral = _referral()
    fire(db.session, flows.REFERRAL, referral, "send", COUNSELLOR)
    db.session.commit()
    return referral


def test_the_link_works_once_and_shows_only_consented_data(client):
    referral = _sent_referral()
    referral.young_person.phone, referral.young_person.address = "06 11 22 33 44", "1 rue Secrète"
    db.session.commit()
    token = flows.answer_token(SECRET, referral)
    page = client.get(f"/partenaire/reponse/{token}").get_data(as_text=True)
    assert "06 11 22 33 44" in page and "1 rue Secrète" not in page  # contact shared, not address
    response = client.post(
        f"/partenaire/reponse/{token}",
        data={"transition": "accept", "appointment_at": "2026-12-03T10:00"},
    )
    assert response.status_code == 200 and "réponse est enregistrée" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "accepted"
    replay = client.post(
        f"/partenaire/reponse/{token}", data={"transition": "refuse", "refusal_reason": "full"}
    )
    assert replay.status_code == 410 and "déjà servi" in replay.get_data(as_text=True)
    assert db.session.get(Referral, referral.id).status == "accepted"


def test_tampered_expired_and_wrong_referral_links(client):
    referral = _sent_referral()
    token = flows.answer_token(SECRET, referral)
    assert client.get(f"/partenaire/reponse/{token[:-3]}abc").status_code == 410
    forged = URLSafeSerializer("another-key", salt="referral-answer").dumps(
        {"r": referral.id, "n": referral.answer_nonce}
    )
    assert "n&#39;est pas valide" in client.get(f"/partenaire/reponse/{forged}").get_data(
        as_text=True
    )
    other = _sent_referral()
    swapped = URLSafeSerializer(SECRET, salt="referral-answer").dumps(
        {"r": other.id, "n": referral.answer_nonce}
    )  # another referral's id, this nonce
    assert "déjà servi" in client.get(f"/partenaire/reponse/{swapped}").get_data(as_text=True)
    huge = URLSafeSerializer(SECRET, salt="referral-answer").dumps({"r": 10**30, "n": "x"})
    assert client.get(f"/partenaire/reponse/{huge}").status_code == 410
    referral.answer_expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    assert "a expiré" in client.get(f"/partenaire/reponse/{token}").get_data(as_text=True)


def test_the_link_expires_8_days_after_sending_however_often_it_is_shown(client, auth):
    referral = _sent_referral()
    sent_at = referral.sent_at
    auth.login(role="admin")
    links = set()
    for _ in range(3):
        page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
        links.add(re.search(r"/partenaire/reponse/([^\"'<\s]+)", page).group(1))
    assert len(links) == 1  # the same link each time: it is not signed again
    db.session.expire_all()
    expires = db.session.get(Referral, referral.id).answer_expires_at
    assert expires == sent_at + dt.timedelta(days=8)
    assert flows.referral_for_token(db.session, SECRET, links.pop(), now=sent_at)
    with pytest.raises(TransitionRefused, match="a expiré"):
        flows.referral_for_token(
            db.session, SECRET, flows.answer_token(SECRET, referral), now=expires + dt.timedelta(1)
        )


def test_resending_revokes_the_previous_link(client):
    referral = _sent_referral()
    old = flows.answer_token(SECRET, referral)
    fire(db.session, flows.REFERRAL, referral, "resend", COUNSELLOR, {"comment": "lien perdu"})
    db.session.commit()
    new = flows.answer_token(SECRET, referral)
    assert new != old and referral.status == "sent"
    assert "remplacé" in client.get(f"/partenaire/reponse/{old}").get_data(as_text=True)
    assert client.get(f"/partenaire/reponse/{new}").status_code == 200


def test_bad_tries_from_an_address_never_block_a_valid_link(client):
    referral = _sent_referral()
    valid = flows.answer_token(SECRET, referral)
    for n in range(30):
        assert client.get(f"/partenaire/reponse/bad{n}").status_code == 410
    assert client.get("/partenaire/reponse/bad-again").status_code == 429  # the address
    assert client.get(f"/partenaire/reponse/{valid}").status_code == 200  # but not this link


def test_a_link_is_limited_whatever_the_address(app):
    referral = _sent_referral()
    valid = flows.answer_token(SECRET, referral)
    codes = [
        app.test_client()
        .get(f"/partenaire/reponse/{valid}", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        .status_code
        for n in range(31)
    ]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_a_partner_refusal_through_the_link_needs_a_reason(client):
    referral = _sent_referral()
    token = flows.answer_token(SECRET, referral)
    response = client.post(f"/partenaire/reponse/{token}", data={"transition": "refuse"})
    assert response.status_code == 400 and "Motif" in response.get_data(as_text=True)
    response = client.post(
        f"/partenaire/reponse/{token}", data={"transition": "refuse", "refusal_reason": "full"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).refusal_reason == "full"


# --- aid requests and budgets ------------------------------------------------------------------


def test_the_aid_request_path_and_the_budget(app):
    aid = make_aid_type(yearly_budget=Decimal("1000"), ceiling_per_youth=Decimal("500"))
    request = _aid_request(aid, status="draft")
    fire(db.session, flows.AID_REQUEST, request, "submit", COUNSELLOR)
    fire(db.session, flows.AID_REQUEST, request, "review", COUNSELLOR)
    fire(db.session, flows.AID_REQUEST, request, "grant", MANAGER, {"amount_granted": "300"})
    budget = flows.budget_of(db.session, aid.id, request.budget_year)
    assert (budget["granted"], budget["paid"], budget["remaining"]) == (300, 0, 700)
    with pytest.raises(TransitionRefused, match="mode de paiement"):
        fire(db.session, flows.AID_REQUEST, request, "pay", MANAGER, {"payment_method": "bitcoin"})
    fire(db.session, flows.AID_REQUEST, request, "pay", MANAGER, {"payment_method": "transfer"})
    db.session.commit()
    assert flows.budget_of(db.session, aid.id, request.budget_year)["paid"] == 300


def test_a_counsellor_cannot_decide(app):
    request = _aid_request(make_aid_type())
    with pytest.raises(TransitionRefused, match="rôle"):
        fire(db.session, flows.AID_REQUEST, request, "grant", COUNSELLOR, {"amount_granted": "1"})


@pytest.mark.parametrize(("amount", "passes"), [("200.00", True), ("200.01", False)])
def test_exactly_the_remaining_envelope_passes_one_cent_more_fails(app, amount, passes):
    aid = make_aid_type(yearly_budget=Decimal("500"), ceiling_per_youth=None)
    first = _aid_request(aid)
    fire(db.session, flows.AID_REQUEST, first, "grant", ADMIN, {"amount_granted": "300"})
    second = _aid_request(aid)
    if passes:
        fire(db.session, flows.AID_REQUEST, second, "grant", MANAGER, {"amount_granted": amount})
        assert flows.budget_of(db.session, aid.id, second.budget_year)["remaining"] == 0
    else:
        with pytest.raises(TransitionRefused, match="reste 200\u00a0€, demandé 200,01\u00a0€"):
            fire(
                db.session, flows.AID_REQUEST, second, "grant", MANAGER, {"amount_granted": amount}
            )


@pytest.mark.parametrize(("amount", "passes"), [("150", True), ("150.01", False)])
def test_the_ceiling_per_young_person_per_year(app, amount, passes):
    aid = make_aid_type(yearly_budget=None, ceiling_per_youth=Decimal("250"))
    youth = make_young_person()
    fire(
        db.session,
        flows.AID_REQUEST,
        _aid_request(aid, youth=youth),
        "grant",
        ADMIN,
        {"amount_granted": "100"},
    )
    second = _aid_request(aid, youth=youth)
    if passes:
        fire(db.session, flows.AID_REQUEST, second, "grant", MANAGER, {"amount_granted": amount})
    else:
        with pytest.raises(
            TransitionRefused,
            match="plafond par jeune et par an 250\u00a0€ : déjà accordé 100\u00a0€",
        ):
            fire(
                db.session, flows.AID_REQUEST, second, "grant", MANAGER, {"amount_granted": amount}
            )


def test_an_admin_overrides_with_a_justification_kept_in_the_log(app):
    aid = make_aid_type(yearly_budget=Decimal("100"))
    request = _aid_request(aid)
    with pytest.raises(TransitionRefused):
        fire(
            db.session,
            flows.AID_REQUEST,
            request,
            "grant",
            MANAGER,
            {"amount_granted": "150", "override": "Urgence logement"},
        )
    event = fire(
        db.session,
        flows.AID_REQUEST,
        request,
        "grant",
        ADMIN,
        {"amount_granted": "150", "override": "Urgence logement validée en comité"},
    )
    assert "Dépassement autorisé" in event.comment and "comité" in event.comment


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="threads need a shared database (the in-memory one is a single connection); "
    "test_concurrent_grants.py runs this on a SQLite file too",
)
def test_two_concurrent_grants_on_the_last_budget(app):
    aid = make_aid_type(yearly_budget=Decimal("100"), ceiling_per_youth=None)
    ids = [_aid_request(aid).id, _aid_request(aid).id]
    results = []
    barrier = threading.Barrier(2)

    def grant(request_id):
        with app.app_context():
            session = db.session
            request = session.get(AidRequest, request_id)
            barrier.wait()
            try:
                fire(session, flows.AID_REQUEST, request, "grant", ADMIN, {"amount_granted": "100"})
                session.commit()
                results.append("granted")
            except TransitionRefused:
                session.rollback()
                results.append("refused")
            finally:
                session.remove()

    threads = [threading.Thread(target=grant, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["granted", "refused"]
    db.session.expire_all()
    assert flows.budget_of(db.session, aid.id, dt.date.today().year)["remaining"] == 0


# --- through the screens -----------------------------------------------------------------------


def test_a_counsellor_refers_prints_the_fiche_and_sees_the_answer(client, auth):
    site = make_site()
    me = auth.login(role="counsellor", site=site)
    youth = make_young_person(
        site=site, referent=me, phone="06 10 20 30 40", address="9 rue Privée"
    )
    partner = make_partner(name="CMP Jeunes")
    response = client.post(
        "/admin/referral/new/",
        data={
            "young_person": str(youth.id),
            "partner": str(partner.id),
            "reason": "Mal-être",
            "contact_preference": "direct",
            "shared_fields": ["contact"],
            "consent_method": "oral",
        },
    )
    assert response.status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    assert 'data-transition="send"' in page and 'data-transition="accept"' not in page
    client.post(
        f"/admin/referral/workflow/?id={referral.id}",
        data={"transition": "send", "version": str(referral.version)},
    )
    db.session.expire_all()
    fiche = client.get(f"/admin/referral/fiche/?id={referral.id}").get_data(as_text=True)
    assert "06 10 20 30 40" in fiche and "9 rue Privée" not in fiche
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    link = re.search(r'id="answer-link"[^>]*|value="(http[^"]+)"', page)
    token = re.search(r"/partenaire/reponse/([^\"]+)\"", page).group(1)
    assert link
    client.post(
        f"/partenaire/reponse/{token}",
        data={"transition": "accept", "appointment_at": "2026-12-05T09:00"},
    )
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    assert "05/12/2026 09:00" in page and "CMP Jeunes (lien)" in page


def test_the_screen_refuses_an_illegal_transition_with_a_message(client, auth):
    site = make_site()
    me = auth.login(role="counsellor", site=site)
    referral = _referral(
        young_person_id=make_young_person(site=site, referent=me).id, consent_at=None
    )
    response = client.post(
        f"/admin/referral/workflow/?id={referral.id}",
        data={"transition": "send", "version": str(referral.version)},
        follow_redirects=True,
    )
    assert "consentement" in response.get_data(as_text=True)
    assert db.session.get(Referral, referral.id).status == "draft"


def test_another_sites_referral_does_not_exist(client, auth):
    auth.login(role="counsellor", site=make_site())
    referral = _referral()
    assert client.get(f"/admin/referral/workflow/?id={referral.id}").status_code == 404
    assert client.get(f"/admin/referral/fiche/?id={referral.id}").status_code == 404
    assert (
        client.post(
            f"/admin/referral/workflow/?id={referral.id}", data={"transition": "cancel"}
        ).status_code
        == 404
    )


def test_aid_catalogue_shows_the_budget_of_the_year(client, admin):
    aid = make_aid_type(name="FAJ urgence", yearly_budget=Decimal("1000"))
    request = _aid_request(aid)
    fire(db.session, flows.AID_REQUEST, request, "grant", ADMIN, {"amount_granted": "250"})
    db.session.commit()
    page = client.get("/admin/aidtype/").get_data(as_text=True)
    assert "accordé : 250" in page and "reste : 750" in page


def test_stats_and_diagram(client, admin):
    referral = _sent_referral()
    fire(
        db.session,
        flows.REFERRAL,
        referral,
        "accept",
        PARTNER,
        {"appointment_at": "2026-12-01T10:00"},
    )
    db.session.commit()
    page = client.get("/admin/referral/stats/").get_data(as_text=True)
    assert "Psy du quartier" in page and "100 %" in page
    assert "stateDiagram-v2" in page and "draft --&gt; sent" in page


def test_the_referral_list_links_to_the_statistics(client, admin):
    page = client.get("/admin/referral/").get_data(as_text=True)
    assert 'href="/admin/referral/stats/"' in page and "Orientations et aides" in page


def test_opening_the_referral_list_writes_nothing(client, auth):
    """The list used to expire referrals (and commit) inside a GET; it now says which ones the
    next daily run will expire, and the run does it."""
    from backoffice.models import AuditEvent

    old = _referral(status="sent", sent_at=utcnow() - dt.timedelta(days=40), answer_nonce="n")
    auth.login(role="admin")
    before = (db.session.query(AuditEvent).count(), db.session.query(WorkflowEvent).count())
    page = client.get("/admin/referral/").get_data(as_text=True)
    assert "expire cette nuit" in page
    db.session.expire_all()
    assert db.session.get(Referral, old.id).status == "sent"
    assert (db.session.query(AuditEvent).count(), db.session.query(WorkflowEvent).count()) == before


def test_tick_expires_and_purges_idempotently(app, runner):
    old = _referral(status="sent", sent_at=utcnow() - dt.timedelta(days=40), answer_nonce="n")
    first = runner.invoke(args=["tick"])
    assert first.exit_code == 0 and first.output.startswith("1 orientation(s) expirée(s)")
    assert runner.invoke(args=["tick"]).output.startswith("0 orientation(s)")
    db.session.expire_all()
    assert db.session.get(Referral, old.id).status == "expired"


def test_consent_is_recorded_on_the_referral_page_then_it_can_be_sent(client, auth):
    """The page that refuses to send for lack of consent is the page that records it: how it was
    given, when, and what may be shared (issue #13)."""
    site = make_site(name="Antenne Test")
    counsellor = auth.login(role="counsellor", site=site)
    youth = make_young_person(site=site, referent=counsellor)
    referral = _referral(consent_at=None, young_person_id=youth.id, counsellor_id=counsellor.id)
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    assert 'id="consent"' in page and "non recueilli" in page
    url = f"/admin/referral/consent/?id={referral.id}"
    for data, message in [
        ({"consent_day": "2026-11-20"}, "Comment le jeune a-t-il donné son accord"),
        ({"consent_method": "oral", "consent_day": ""}, "À quelle date"),
        ({"consent_method": "oral", "consent_day": "31/02/2026"}, "pas une date"),
        (
            {
                "consent_method": "oral",
                "consent_day": (dt.date.today() + dt.timedelta(days=1)).isoformat(),
            },
            "daté de demain",
        ),
        ({"consent_method": "télépathie", "consent_day": "2026-11-20"}, "Choisissez"),
    ]:
        body = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
        assert message in body.replace("&#39;", "'"), data
        db.session.expire_all()
        assert db.session.get(Referral, referral.id).consent_at is None
    client.post(
        url,
        data={
            "consent_method": "signed",
            "consent_day": "20/11/2026",
            "shared_fields": ["contact", "birth_date", "pas-un-champ"],
        },
    )
    db.session.expire_all()
    recorded = db.session.get(Referral, referral.id)
    assert recorded.consent_at == dt.datetime(2026, 11, 20)
    assert recorded.consent_method == "signed"
    assert recorded.shared_fields == ["contact", "birth_date"]
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    assert "donné le 20/11/2026 — document signé" in page
    # Now "Envoyer au partenaire" goes through, and the consent can no longer be changed.
    client.post(
        f"/admin/referral/workflow/?id={referral.id}",
        data={"transition": "send", "version": str(recorded.version)},
    )
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "sent"
    body = client.post(
        url, data={"consent_method": "oral", "consent_day": "2026-11-21"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "avant l&#39;envoi" in body or "avant l'envoi" in body
    assert db.session.get(Referral, referral.id).consent_method == "signed"


def test_aid_amounts_show_in_french_with_their_unit_on_every_screen(client, auth):
    auth.login(role="admin")
    tickets = make_aid_type(
        code="TICKETS", name="Tickets de bus", unit="ticket", yearly_budget=Decimal("400000")
    )
    request = _aid_request(tickets, amount="10", status="draft")
    listing = client.get("/admin/aidrequest/").get_data(as_text=True)
    assert "10\u00a0tickets" in listing and "10.00" not in listing
    page = client.get(f"/admin/aidrequest/workflow/?id={request.id}").get_data(as_text=True)
    assert "10\u00a0tickets" in page and "400\u00a0000\u00a0tickets" in page
    catalogue = client.get("/admin/aidtype/").get_data(as_text=True)
    assert "400\u00a0000\u00a0tickets" in catalogue and "400000.00" not in catalogue
    file = client.get(f"/admin/interviews/file/{request.young_person_id}").get_data(as_text=True)
    assert "10\u00a0tickets" in file


def test_the_aid_page_and_the_wizard_show_what_the_young_person_already_received(client, auth):
    site = make_site(name="Antenne Test")
    counsellor = auth.login(role="counsellor", site=site)
    youth = make_young_person(site=site, referent=counsellor)
    aid = make_aid_type(
        name="Tickets de bus", unit="ticket", ceiling_per_youth=Decimal("20"), yearly_budget=None
    )
    _aid_request(aid, amount="8", youth=youth, status="paid").amount_granted = Decimal("8")
    db.session.commit()
    second = _aid_request(aid, amount="10", youth=youth, status="under_review")
    page = client.get(f"/admin/aidrequest/workflow/?id={second.id}").get_data(as_text=True)
    assert "8\u00a0tickets sur un plafond de 20\u00a0tickets" in page
    client.post(f"/admin/interviews/new/{youth.id}")
    from backoffice.models import Interview

    draft = db.session.scalar(sa.select(Interview).where(Interview.status == "draft"))
    step = client.get(f"/admin/interviews/{draft.id}/step/4").get_data(as_text=True)
    assert "plafond 20\u00a0tickets / jeune / an (déjà accordé : 8\u00a0tickets)" in step


# --- delegation: a counsellor grants small aids directly (issue #13) --------------------------


def test_a_counsellor_grants_directly_up_to_the_delegation_threshold(app):
    aid = make_aid_type(unit="ticket", delegation_threshold=Decimal("20"), ceiling_per_youth=None)
    request = _aid_request(aid, amount="10", status="draft")
    assert "grant_direct" in [t.name for t in flows.AID_REQUEST.available(request, COUNSELLOR)]
    fire(
        db.session, flows.AID_REQUEST, request, "grant_direct", COUNSELLOR, {"amount_granted": "10"}
    )
    db.session.commit()
    assert (request.status, request.amount_granted) == ("granted", Decimal("10"))
    [event] = events_of(db.session, "aid_request", request.id)
    assert (event.transition, event.from_state, event.to_state) == (
        "grant_direct",
        "draft",
        "granted",
    )
    # One ticket more than the threshold goes through the instruction path.
    above = _aid_request(aid, amount="21", status="draft")
    with pytest.raises(TransitionRefused, match="Au-delà de 20\u00a0tickets, l.accord revient"):
        fire(
            db.session,
            flows.AID_REQUEST,
            above,
            "grant_direct",
            COUNSELLOR,
            {"amount_granted": "21"},
        )


def test_without_a_threshold_direct_grant_is_neither_offered_nor_possible(app):
    request = _aid_request(make_aid_type(delegation_threshold=None), status="draft")
    assert "grant_direct" not in [t.name for t in flows.AID_REQUEST.available(request, COUNSELLOR)]
    with pytest.raises(TransitionRefused, match="pas de seuil de délégation"):
        fire(
            db.session,
            flows.AID_REQUEST,
            request,
            "grant_direct",
            COUNSELLOR,
            {"amount_granted": "1"},
        )


def test_a_direct_grant_still_meets_the_ceiling_and_cannot_be_overridden(app):
    aid = make_aid_type(delegation_threshold=Decimal("100"), ceiling_per_youth=Decimal("150"))
    youth = make_young_person()
    first = _aid_request(aid, youth=youth, status="draft")
    fire(
        db.session, flows.AID_REQUEST, first, "grant_direct", COUNSELLOR, {"amount_granted": "100"}
    )
    second = _aid_request(aid, youth=youth, status="draft")
    with pytest.raises(TransitionRefused, match="plafond par jeune"):
        fire(
            db.session,
            flows.AID_REQUEST,
            second,
            "grant_direct",
            ADMIN,
            {"amount_granted": "60", "override": "urgence"},
        )


def test_the_aid_page_offers_the_direct_grant_and_says_the_threshold(client, auth):
    site = make_site(name="Antenne Test")
    counsellor = auth.login(role="counsellor", site=site)
    youth = make_young_person(site=site, referent=counsellor)
    aid = make_aid_type(unit="ticket", delegation_threshold=Decimal("20"))
    request = _aid_request(aid, amount="10", youth=youth, status="draft")
    page = client.get(f"/admin/aidrequest/workflow/?id={request.id}").get_data(as_text=True)
    assert "Accorder directement (délégation)" in page and "jusqu'à 20\u00a0tickets" in page
    response = client.post(
        f"/admin/aidrequest/workflow/?id={request.id}",
        data={"transition": "grant_direct", "version": request.version, "amount_granted": "10"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AidRequest, request.id).status == "granted"


def test_the_referral_form_records_consent_by_the_same_rule_as_its_page(client, auth):
    site = make_site()
    me = auth.login(role="counsellor", site=site)
    youth = make_young_person(site=site, referent=me)
    partner = make_partner(name="Mission handicap")
    data = {
        "young_person": str(youth.id),
        "partner": str(partner.id),
        "reason": "Reconnaissance RQTH",
        "contact_preference": "direct",
        "shared_fields": ["contact"],
        "consent_method": "signed",
        "consent_day": (dt.date.today() + dt.timedelta(days=1)).isoformat(),
    }
    refused = client.post("/admin/referral/new/", data=data)
    assert "L'accord ne peut pas être daté de demain." in refused.get_data(as_text=True).replace(
        "&#39;", "'"
    )
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 0
    data["consent_day"] = ""
    assert client.post("/admin/referral/new/", data=data).status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    assert (referral.consent_method, referral.consent_at.date()) == ("signed", dt.date.today())
    assert referral.shared_fields == ["contact"]
