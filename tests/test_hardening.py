"""Hardening: are date-times shown with their time, in Paris time, on generated screens?"""

from __future__ import annotations

import datetime as dt

from backoffice.extensions import db
from backoffice.models import Partner, Referral

from .factories import make_young_person


def test_lists_and_details_show_datetimes_with_their_time(client, admin):
    youth = make_young_person()
    partner = Partner(name="Atelier", kind="employer")
    db.session.add(partner)
    db.session.flush()
    referral = Referral(
        young_person_id=youth.id,
        partner_id=partner.id,
        reason="Motif",
        status="sent",
        sent_at=dt.datetime(2026, 3, 4, 13, 5),  # stored in UTC
    )
    db.session.add(referral)
    db.session.commit()
    listing = client.get("/admin/referral/").get_data(as_text=True)
    assert "04/03/2026 14:05" in listing  # Paris time, with the time (the date alone before)
    details = client.get(f"/admin/referral/details/?id={referral.id}").get_data(as_text=True)
    assert "04/03/2026 14:05" in details


# --- a journal staff can read, discreet by design --------------------------------------------


def test_the_journal_is_in_french_and_never_shows_private_content(client, auth):
    from backoffice.domain import audit
    from backoffice.models import AuditEvent, Interview

    from .factories import make_user

    counsellor = make_user(role="counsellor", full_name="Claire Conseillère")
    youth = make_young_person(last_name="Durand", first_name="Léa")
    audit.set_actor(db.session, counsellor.id, counsellor.email)
    interview = Interview(
        young_person_id=youth.id,
        counsellor_id=counsellor.id,
        starts_at=dt.datetime(2026, 3, 4, 13, 5),
        channel="phone",
        private_notes="troubles du sommeil, suivi psy",
    )
    db.session.add(interview)
    db.session.commit()
    interview.private_notes = "idées noires évoquées"
    db.session.commit()
    stored = [e.changes for e in db.session.query(AuditEvent).filter_by(entity="interview")]
    assert "troubles" not in str(stored) and "idées" not in str(stored)  # never recorded
    auth.login(role="admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "troubles" not in page and "idées noires" not in page
    assert "Entretien" in page and "Notes privées du conseiller" in page
    assert "modifié (contenu non conservé)" in page and "renseigné" in page
    assert "Téléphone" in page and ">phone<" not in page  # the channel's word, not its code
    assert "DURAND Léa" in page  # the young person's name, not "Jeune = 1"
    assert "Claire Conseillère" in page
    assert "04/03/2026 14:05" in page  # the interview's time, in Paris time
    assert "None" not in page and "True" not in page


def test_a_partners_answer_is_logged_as_the_partner_by_link(client):
    from backoffice.domain import referrals as flows
    from backoffice.domain.workflow import Actor, fire
    from backoffice.models import AuditEvent, utcnow

    youth = make_young_person()
    partner = Partner(name="CMP Jeunes", kind="employer")
    db.session.add(partner)
    db.session.flush()
    referral = Referral(
        young_person_id=youth.id, partner_id=partner.id, reason="Motif", consent_at=utcnow()
    )
    db.session.add(referral)
    db.session.commit()
    fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "counsellor", "c@x.org"))
    db.session.commit()
    token = flows.answer_token("test-secret-key", referral)
    client.post(
        f"/partenaire/reponse/{token}",
        data={"transition": "accept", "appointment_at": "03/12/2026 10:00"},
    )
    last = db.session.query(AuditEvent).filter_by(entity="referral").order_by(AuditEvent.id.desc())
    event = last.first()
    assert event.actor_label == "partenaire (lien) : CMP Jeunes"
    assert "answer_nonce" not in event.changes or event.changes["answer_nonce"][1] in (
        None,
        "(contenu non conservé)",
    )
