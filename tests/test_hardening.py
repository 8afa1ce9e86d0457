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
