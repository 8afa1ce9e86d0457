"""Messages that leave the building, against a real SMTP server (aiosmtpd on 127.0.0.1): the
outbox written with its cause, sent later, retried after a refusal, never sent twice; the
counsellor's notifications; the young person's space and the counsellor's calendar feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from backoffice.domain import notices, outbox
from backoffice.domain import referrals as flows
from backoffice.domain import youth_space as space
from backoffice.domain.workflow import Actor, fire
from backoffice.extensions import db
from backoffice.models import (
    Action,
    AidRequest,
    Consent,
    Consultation,
    Interview,
    Notification,
    Objective,
    OutboxMessage,
    Referral,
    utcnow,
)

from .factories import make_aid_type, make_partner, make_site, make_user, make_young_person

SYSTEM = Actor(None, "system", "système")
PARTNER = Actor(None, "partner", "partenaire (lien)")


class Inbox:
    """What the SMTP server received; it refuses the next ``refuse`` messages."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = 0
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        with self._lock:
            if self.refuse:
                self.refuse -= 1
                return "451 4.3.0 Service indisponible (test)"
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1, and the app pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def _send(runner, *args) -> str:
    result = runner.invoke(args=["outbox-send", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _counsellor_and_youth(**youth):
    site = make_site(address="1 place du Marché", city="Lyon")
    counsellor = make_user(role="counsellor", site=site, full_name="Camille Martin")
    person = make_young_person(site=site, referent=counsellor, **youth)
    return counsellor, person


def _email_consent(person, given=None):
    db.session.add(
        Consent(
            young_person_id=person.id,
            purpose="email",
            method="oral",
            given_on=given or dt.date.today() - dt.timedelta(days=1),
        )
    )
    db.session.commit()


def _referral(person, counsellor, partner, **values):
    referral = Referral(
        young_person_id=person.id,
        partner_id=partner.id,
        counsellor_id=counsellor.id,
        reason="Recherche d'un hébergement",
        consent_at=utcnow(),
        shared_fields=["contact"],
        **values,
    )
    db.session.add(referral)
    db.session.commit()
    return referral


# --- the partner --------------------------------------------------------------------------


def test_a_sent_referral_reaches_the_partner_with_a_working_link(client, auth, smtp, runner):
    counsellor, person = _counsellor_and_youth(
        phone="06 10 20 30 40", address="9 rue Privée", email="lea@example.org"
    )
    partner = make_partner(name="Foyer Soleil", email="accueil@foyer.example.org")
    referral = _referral(person, counsellor, partner)
    auth.login(counsellor)
    client.post(
        f"/admin/referral/workflow/?id={referral.id}",
        data={"transition": "send", "version": str(referral.version)},
    )
    # Written with the change, waiting: the referral's page says so.
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    page = client.get(f"/admin/referral/workflow/?id={referral.id}").get_data(as_text=True)
    assert "en attente d&#39;envoi" in page or "en attente d'envoi" in page
    assert 'id="answer-mailto"' in page and "mailto:accueil@foyer.example.org?" in page

    assert "1 message(s) envoyé(s)" in _send(runner)
    [message] = smtp.messages
    assert message["To"] == "accueil@foyer.example.org"
    assert "Foyer Soleil" in message["Subject"]
    text = _text(message)
    # The consented data only: the phone was agreed to, the address was not.
    assert "06 10 20 30 40" in text and "9 rue Privée" not in text
    assert "Recherche d'un hébergement" in text
    html = message.get_body(("html",)).get_content()
    assert 'lang="fr"' in html
    link = re.search(r"http://127\.0\.0\.1:5000(/partenaire/reponse/\S+)", text).group(1)
    auth.logout()
    answer = client.get(link)
    assert answer.status_code == 200 and 'id="accept"' in answer.get_data(as_text=True)
    # A second run sends nothing more.
    assert "0 message(s) envoyé(s)" in _send(runner)
    assert len(smtp.messages) == 1

    # The partner accepts: the counsellor is told on the home page and by e-mail.
    client.post(link, data={"transition": "accept", "appointment_at": "2030-12-05T09:30"})
    note = db.session.scalar(sa.select(Notification))
    assert note.user_id == counsellor.id and note.read_at is None
    assert "Foyer Soleil accepte" in note.text and "05/12/2030 à 09:30" in note.text
    _send(runner)
    [mail] = smtp.to(counsellor.email)
    assert "Foyer Soleil accepte" in _text(mail)
    assert f"/admin/referral/workflow/?id={referral.id}" in _text(mail)
    auth.login(counsellor)
    home = client.get("/admin/").get_data(as_text=True)
    assert 'id="notifications"' in home and "1 non lue" in home
    assert f"/admin/referral/workflow/?id={referral.id}" in home
    client.post("/admin/notifications/lues", data={"id": str(note.id)})
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert "non lue" not in client.get("/admin/").get_data(as_text=True)


def test_resending_sends_a_new_link_and_a_partner_without_address_is_said(app, smtp, runner):
    counsellor, person = _counsellor_and_youth()
    partner = make_partner(email="contact@partenaire.example.org")
    referral = _referral(person, counsellor, partner)
    actor = Actor(counsellor.id, "counsellor", counsellor.email)
    fire(db.session, flows.REFERRAL, referral, "send", actor)
    fire(db.session, flows.REFERRAL, referral, "resend", actor, {"comment": "lien perdu"})
    db.session.commit()
    _send(runner)
    first, second = smtp.messages
    assert "Nouveau lien" in second["Subject"] and "remplace le précédent" in _text(second)
    assert _text(first) != _text(second)
    # Without an e-mail address, the counsellor is told to pass the link on.
    mute = make_partner(name="Sans Courriel", email=None)
    other = _referral(person, counsellor, mute)
    fire(db.session, flows.REFERRAL, other, "send", actor)
    db.session.commit()
    note = db.session.scalar(sa.select(Notification).where(Notification.entity_id == other.id))
    assert "n'a pas d'adresse e-mail" in note.text
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


def test_a_rolled_back_change_leaves_no_message(app):
    counsellor, person = _counsellor_and_youth()
    referral = _referral(person, counsellor, make_partner(email="p@example.org"))
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "admin", "a"))
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_an_smtp_refusal_keeps_the_message_and_a_later_run_delivers_it(app, smtp, runner):
    counsellor, person = _counsellor_and_youth()
    referral = _referral(person, counsellor, make_partner(email="p@example.org"))
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "admin", "a"))
    db.session.commit()
    smtp.refuse = 1
    assert "1 à réessayer plus tard" in _send(runner)
    message = db.session.scalar(sa.select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == "pending" and message.attempts == 1
    assert "451" in message.last_error and message.next_attempt_at > utcnow()
    assert smtp.messages == []
    # Not due yet: a plain run waits; the admin's "now" (or the back-off's end) sends it.
    assert "0 message(s) envoyé(s)" in _send(runner)
    assert "1 message(s) envoyé(s)" in _send(runner, "--retry-now")
    db.session.refresh(message)
    assert message.status == "sent" and message.last_error is None
    assert len(smtp.messages) == 1


def test_an_unreachable_server_loses_nothing_and_repeated_failures_are_set_aside(app, runner):
    counsellor, person = _counsellor_and_youth()
    referral = _referral(person, counsellor, make_partner(email="p@example.org"))
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "admin", "a"))
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nobody listens
    _send(runner)
    message = db.session.scalar(sa.select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == "pending" and "injoignable" in message.last_error
    settings = outbox.SmtpSettings.from_config(app.config)
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.send_due(db.session, settings, retry_now=True)
    db.session.refresh(message)
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    # The back-off grows, and stops growing.
    assert outbox.backoff(1) == dt.timedelta(minutes=5)
    assert outbox.backoff(2) == dt.timedelta(minutes=10)
    assert outbox.backoff(30) == dt.timedelta(hours=12)


def test_without_a_mail_server_messages_wait_on_the_admins_screen(client, auth, runner):
    counsellor, person = _counsellor_and_youth()
    referral = _referral(person, counsellor, make_partner(email="p@example.org"))
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "admin", "a"))
    db.session.commit()
    assert "MAIL_SERVER n'est pas configuré : 1 message(s)" in _send(runner)
    auth.login(counsellor)
    assert client.get("/admin/outbox/").status_code == 403
    auth.logout()
    auth.login(role="admin")
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert 'id="no-mail-server"' in page and "p@example.org" in page
    message = db.session.scalar(sa.select(OutboxMessage))
    message.status, message.attempts = "failed", outbox.MAX_ATTEMPTS
    db.session.commit()
    details = client.get(f"/admin/outbox/details/?id={message.id}").get_data(as_text=True)
    assert "Recherche d&#39;un hébergement" in details or "Recherche d'un hébergement" in details
    response = client.post(
        "/admin/outbox/action/", data={"action": "retry", "rowid": [str(message.id)]}
    )
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.status == "pending" and message.attempts == 0


# --- two senders at once -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["tick", "outbox-send"])
def test_two_runs_at_once_send_each_message_once(shared_app, tmp_path, command):
    inbox = Inbox()
    inbox.delay = 0.02
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        counsellor, person = _counsellor_and_youth()
        for n in range(40):
            outbox.write(
                db.session,
                "referral_answered",
                f"conseiller{n}@example.org",
                "notification",
                user=counsellor,
                text=f"Message {n}",
                url="http://127.0.0.1:5000/admin/",
                app_name="Mission locale",
            )
        db.session.commit()
        env = {
            **os.environ,
            "DATABASE_URL": shared_app.config["SHARED_URL"],
            "SECRET_KEY": "test-secret-key",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(controller.port),
            "IMPORT_UPLOAD_FOLDER": str(tmp_path / "imports"),
        }
        flask = [sys.executable, "-m", "flask", "--app", "wsgi", command]
        root = Path(__file__).parents[1]
        runs = [
            subprocess.Popen(flask, env=env, cwd=root, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
    finally:
        controller.stop()
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 40 and len(set(ids)) == 40, outputs
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == "sent")) == 40


# --- the counsellor ------------------------------------------------------------------------


def test_chase_and_expiry_tell_the_counsellor_once(app):
    counsellor, person = _counsellor_and_youth()
    partner = make_partner(name="Mission Handicap", email="mh@example.org")
    referral = _referral(person, counsellor, partner)
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "admin", "a"))
    referral.sent_at = utcnow() - dt.timedelta(days=11)
    db.session.commit()
    today = dt.date.today()
    assert notices.chase_due(db.session, today) == 1
    assert notices.chase_due(db.session, today) == 0  # once
    [note] = db.session.scalars(sa.select(Notification)).all()
    assert note.kind == "referral_chase" and "relancez" in note.text
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.recipient == counsellor.email)
        )
        == 1
    )
    referral.sent_at = utcnow() - dt.timedelta(days=31)
    flows.expire_overdue(db.session, today)
    db.session.commit()
    kinds = db.session.scalars(sa.select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["referral_chase", "referral_expired"]


def test_an_aid_decision_tells_the_counsellor_unless_they_decided(app):
    counsellor, person = _counsellor_and_youth()
    aid = make_aid_type(name="Aide mobilité", yearly_budget=Decimal("1000"))
    request = AidRequest(
        young_person_id=person.id,
        aid_type_id=aid.id,
        counsellor_id=counsellor.id,
        amount_asked=Decimal("150"),
        budget_year=dt.date.today().year,
        status="under_review",
    )
    db.session.add(request)
    db.session.commit()
    fire(
        db.session,
        flows.AID_REQUEST,
        request,
        "grant",
        Actor(None, "manager", "direction"),
        {"amount_granted": "150"},
    )
    db.session.commit()
    note = db.session.scalar(sa.select(Notification))
    assert "« Aide mobilité »" in note.text and "accordée (150\xa0€)" in note.text
    # The counsellor granting directly is not told what they did.
    aid.delegation_threshold = Decimal("200")
    own = AidRequest(
        young_person_id=person.id,
        aid_type_id=aid.id,
        counsellor_id=counsellor.id,
        amount_asked=Decimal("50"),
        budget_year=dt.date.today().year,
    )
    db.session.add(own)
    db.session.commit()
    fire(
        db.session,
        flows.AID_REQUEST,
        own,
        "grant_direct",
        Actor(counsellor.id, "counsellor", counsellor.email),
        {"amount_granted": "50"},
    )
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


# --- the young person ----------------------------------------------------------------------


def _validated(person, counsellor, days_ago=0, next_in=None, **values):
    interview = Interview(
        young_person_id=person.id,
        counsellor_id=counsellor.id,
        starts_at=dt.datetime.combine(dt.date.today() - dt.timedelta(days=days_ago), dt.time(10)),
        status="completed",
        next_appointment=(
            dt.datetime.combine(dt.date.today() + dt.timedelta(days=next_in), dt.time(14, 30))
            if next_in is not None
            else None
        ),
        **values,
    )
    db.session.add(interview)
    db.session.flush()
    return interview


def test_the_young_person_gets_the_recap_and_the_appointment_only_with_consent(app):
    counsellor, person = _counsellor_and_youth(email="lea@example.org", first_name="Léa")
    interview = _validated(
        person,
        counsellor,
        next_in=7,
        public_summary="On avance sur le CV.",
        private_notes="Note privée : fragile en ce moment",
    )
    db.session.add(Objective(young_person_id=person.id, statement="Devenir cuisinière"))
    db.session.add(
        Action(
            young_person_id=person.id,
            set_at_id=interview.id,
            what="Refaire le CV",
            due_date=dt.date.today() + dt.timedelta(days=5),
        )
    )
    db.session.flush()
    notices.interview_validated(db.session, interview, dt.date.today())
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0  # no consent
    _email_consent(person)
    notices.interview_validated(db.session, interview, dt.date.today())
    db.session.commit()
    recap, appointment = db.session.scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id)
    ).all()
    assert recap.kind == "recap" and recap.recipient == "lea@example.org"
    assert "« Devenir cuisinière »" in recap.body_text and "Refaire le CV" in recap.body_text
    assert "On avance sur le CV." in recap.body_text
    assert "fragile" not in recap.body_text and "fragile" not in recap.body_html
    assert appointment.kind == "appointment" and appointment.attachment_name.endswith(".ics")
    event = icalendar.Calendar.from_ical(appointment.attachment).walk("VEVENT")[0]
    assert event.decoded("dtstart").astimezone(notices.calendar.PARIS).time() == dt.time(14, 30)
    assert "1 place du Marché" in str(event.get("location"))
    # Written once per interview, however often it is validated again.
    notices.interview_validated(db.session, interview, dt.date.today())
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    # A withdrawn consent stops the messages.
    consent = db.session.scalar(sa.select(Consent))
    consent.withdrawn_on = dt.date.today()
    assert not notices.contactable(db.session, person)


def test_tomorrows_appointments_are_reminded_once_and_a_superseded_one_never(app):
    counsellor, person = _counsellor_and_youth(email="lea@example.org")
    _email_consent(person)
    _validated(person, counsellor, days_ago=7, next_in=1)
    other_counsellor, moved = _counsellor_and_youth(email="sam@example.org")
    _email_consent(moved)
    _validated(moved, other_counsellor, days_ago=7, next_in=1)
    _validated(moved, other_counsellor, days_ago=1, next_in=9)  # the appointment was moved
    _, silent = _counsellor_and_youth(email="sans.accord@example.org")
    _validated(silent, counsellor, days_ago=3, next_in=1)
    db.session.commit()
    assert notices.reminders_due(db.session, dt.date.today()) == 1
    assert notices.reminders_due(db.session, dt.date.today()) == 0
    [reminder] = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder")
    ).all()
    assert reminder.recipient == "lea@example.org" and reminder.subject.startswith("Rappel")


def test_the_tick_reminds_chases_and_sends(app, smtp, runner):
    counsellor, person = _counsellor_and_youth(email="lea@example.org")
    _email_consent(person)
    _validated(person, counsellor, days_ago=7, next_in=1)
    db.session.commit()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 rappel(s) de rendez-vous, 1 message(s) envoyé(s)" in result.output
    [message] = smtp.messages
    assert message["To"] == "lea@example.org"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    result = runner.invoke(args=["tick"])
    assert "0 rappel(s) de rendez-vous, 0 message(s) envoyé(s)" in result.output


# --- the young person's space --------------------------------------------------------------


def _space(person):
    space.issue(person, utcnow(), 60)
    db.session.commit()
    return "/mon-espace/" + space.token("test-secret-key", person)


def test_the_space_shows_their_words_and_actions_and_nothing_else(client, app):
    counsellor, person = _counsellor_and_youth(first_name="Léa")
    interview = _validated(person, counsellor, days_ago=3, next_in=4, private_notes="PRIVÉ")
    db.session.add(Objective(young_person_id=person.id, statement="Passer le permis"))
    mine = Action(young_person_id=person.id, set_at_id=interview.id, what="Appeler l'auto-école")
    db.session.add(mine)
    db.session.commit()
    url = _space(person)
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bonjour Léa" in text and "« Passer le permis »" in text
    assert "Appeler l&#39;auto-école" in text and "Camille Martin" in text
    assert "PRIVÉ" not in text
    assert page.headers["Cache-Control"] == "no-store"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Consultation.young_person_id == person.id, Consultation.kind == "space"
            )
        )
        == 1
    )
    ics = client.get(url + "/rendez-vous.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in ics.data

    # Ticked done: their word, kept for the next interview; the referent is told.
    response = client.post(f"{url}/actions/{mine.id}", data={"done": "1"})
    assert response.status_code == 303
    db.session.refresh(mine)
    assert mine.youth_done_at is not None and mine.status == "planned"
    assert "a fait « Appeler l'auto-école »" in db.session.scalar(sa.select(Notification.text))
    # An action they add is theirs, proposed by them.
    response = client.post(f"{url}/actions", data={"what": "Réviser le code", "due": ""})
    assert response.status_code == 303
    added = db.session.scalar(sa.select(Action).where(Action.what == "Réviser le code"))
    assert added.created_by == "young_person" and added.who == "young_person"
    # Bad input: a French message, nothing written.
    for data, message in (
        ({"what": "  "}, "Écrivez ce que vous allez faire."),
        ({"what": "Hier", "due": "01/01/2020"}, "ne peut pas être déjà passée"),
        ({"what": "Plus tard", "due": "31/02/2030"}, "date"),
        ({"what": "x" * 301}, "300 caractères"),
    ):
        response = client.post(f"{url}/actions", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    other = Action(young_person_id=make_young_person().id, what="Pas à elle")
    db.session.add(other)
    db.session.commit()
    response = client.post(f"{url}/actions/{other.id}", data={"done": "1"})
    assert response.status_code == 400 and "existe pas" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 3


def test_a_revoked_expired_or_replaced_link_answers_410_a_forged_one_404(client, app):
    _, person = _counsellor_and_youth()
    url = _space(person)
    assert client.get(url).status_code == 200
    assert client.get(url + "x").status_code == 404
    assert client.get("/mon-espace/n%27importe-quoi").status_code == 404
    person.space_expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    gone = client.get(url)
    assert gone.status_code == 410 and "ne fonctionne plus" in gone.get_data(as_text=True)
    new_url = _space(person)
    assert client.get(url).status_code == 410 and client.get(new_url).status_code == 200
    space.revoke(person)
    db.session.commit()
    assert client.get(new_url).status_code == 410
    assert client.post(new_url + "/actions", data={"what": "x"}).status_code == 410


def test_the_counsellor_creates_sends_and_revokes_the_link_from_the_file(client, auth, smtp):
    site = make_site()
    me = auth.login(role="counsellor", site=site)
    person = make_young_person(site=site, referent=me, email="lea@example.org")
    file_url = f"/admin/interviews/file/{person.id}"
    page = client.get(file_url).get_data(as_text=True)
    assert "Pas de lien actif" in page and "Envoyer le lien par e-mail" not in page
    client.post(file_url + "/espace", data={"op": "issue"})
    page = client.get(file_url).get_data(as_text=True)
    assert 'id="space-link"' in page and "<svg" in page  # the QR code
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0  # no consent
    _email_consent(person)
    client.post(file_url + "/espace", data={"op": "send"})
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.kind == "space_link" and "/mon-espace/" in message.body_text
    link = re.search(r"http://localhost(/mon-espace/\S+)", message.body_text).group(1)
    assert client.get(link).status_code == 200
    client.post(file_url + "/espace", data={"op": "revoke"})
    assert client.get(link).status_code == 410
    assert client.post(file_url + "/espace", data={"op": "n'importe"}).status_code == 400


def test_the_counsellors_calendar_feed_is_private_and_revocable(client, auth):
    site = make_site()
    me = auth.login(role="counsellor", site=site)
    person = make_young_person(site=site, referent=me, first_name="Léa", last_name="Durand")
    _validated(person, me, days_ago=2, next_in=3)
    db.session.commit()
    client.post("/admin/interviews/agenda/abonnement", data={"op": "create"})
    page = client.get("/admin/interviews/agenda").get_data(as_text=True)
    feed = re.search(r'id="feed-url" readonly value="http://localhost(/agenda/[^"]+)"', page)
    auth.logout()
    response = client.get(feed.group(1))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Entretien — Léa D."  # no full name in a third party
    assert "Durand" not in response.get_data(as_text=True)
    auth.login(me)
    client.post("/admin/interviews/agenda/abonnement", data={"op": "revoke"})
    auth.logout()
    assert client.get(feed.group(1)).status_code == 404
    assert client.get("/agenda/nimporte.ics").status_code == 404


def test_an_action_ticked_in_the_space_shows_at_the_next_interview(client, youth, counsellor):
    earlier = _validated(youth, counsellor, days_ago=7, next_in=0)
    action = Action(young_person_id=youth.id, set_at_id=earlier.id, what="Aller au forum")
    db.session.add(action)
    db.session.commit()
    url = _space(youth)
    client.post(f"{url}/actions/{action.id}", data={"done": "1"})
    client.post(f"{url}/actions", data={"what": "Écrire à l'entreprise"})
    response = client.post(f"/admin/interviews/new/{youth.id}")
    step = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "faite, selon le jeune" in step and "Aller au forum" in step
    assert "Écrire à l&#39;entreprise" in step and "depuis son espace" in step


def test_anonymisation_takes_the_messages_and_closes_the_space(app):
    from backoffice.domain import gdpr

    counsellor, person = _counsellor_and_youth(email="lea@example.org", last_name="Durand")
    _email_consent(person)
    interview = _validated(person, counsellor, next_in=3, public_summary="Bilan")
    notices.interview_validated(db.session, interview, dt.date.today())
    notices.youth_action(
        db.session, person, Action(young_person_id=person.id, what="CV"), added=True
    )
    space.issue(person, utcnow())
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    gdpr.anonymise(db.session, person.id, "demande du jeune", "le jeune", None)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert "Durand" not in db.session.scalar(sa.select(Notification.text))
    assert person.space_nonce is None
    assert not notices.contactable(db.session, person)


def test_the_reminders_read_a_fixed_number_of_queries_whatever_the_appointments(app):
    counsellor, person = _counsellor_and_youth(email="lea@example.org")
    _email_consent(person)
    _validated(person, counsellor, days_ago=7, next_in=1)
    for _ in range(30):  # tomorrow's appointments of young people who did not agree
        other = make_young_person(site=person.site, email="x@example.org")
        _validated(other, counsellor, days_ago=7, next_in=1)
    db.session.commit()
    statements = []

    def count(*args):
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert notices.reminders_due(db.session, dt.date.today()) == 1
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 5, statements
