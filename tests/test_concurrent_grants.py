"""Money never overspent: do eight managers granting at once, through the screens, keep the
yearly envelope and the ceiling per young person, on SQLite (the default engine) as on
PostgreSQL — each refused request getting a French message, never a 500 or "database is
locked"?"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backoffice.domain import referrals as flows
from backoffice.extensions import db
from backoffice.models import AidRequest

from .factories import PASSWORD, make_aid_type, make_user, make_young_person

MANAGERS = 8


@pytest.fixture
def served_app(shared_app):
    """The app on a database several threads really share (``conftest.shared_app``)."""
    shared_app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 must show as a 500, as in production
    return shared_app


def _grant_all_at_once(app, request_ids, amount):
    managers = [make_user(role="manager", site=None) for _ in request_ids]  # every site
    emails = [m.email for m in managers]
    barrier = threading.Barrier(len(request_ids))
    outcomes = []

    def grant(email, request_id):
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        with app.app_context():
            version = db.session.get(AidRequest, request_id).version
            db.session.remove()
        barrier.wait()
        response = client.post(
            f"/admin/aidrequest/workflow/?id={request_id}",
            data={"transition": "grant", "amount_granted": amount, "version": str(version)},
        )
        page = client.get(f"/admin/aidrequest/workflow/?id={request_id}").get_data(as_text=True)
        outcomes.append((response.status_code, page))

    threads = [
        threading.Thread(target=grant, args=(email, request_id))
        for email, request_id in zip(emails, request_ids, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _requests(aid, youths):
    ids = []
    for youth in youths:
        request = AidRequest(
            young_person_id=youth.id,
            aid_type_id=aid.id,
            amount_asked=Decimal("60"),
            budget_year=dt.date.today().year,
            status="under_review",
        )
        db.session.add(request)
        db.session.flush()
        ids.append(request.id)
    db.session.commit()
    return ids


def _granted(aid_id) -> Decimal:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(AidRequest.amount_granted), 0)).where(
            AidRequest.aid_type_id == aid_id, AidRequest.status == "granted"
        )
    )


def _check(outcomes):
    assert len(outcomes) == MANAGERS
    assert all(status == 302 for status, _page in outcomes), [s for s, _ in outcomes]
    refused = [page for _status, page in outcomes if "Accorder" in page and "reste" in page]
    for _status, page in outcomes:
        assert "database is locked" not in page and "Erreur inattendue" not in page
    return refused


def test_eight_grants_at_once_keep_the_envelope(served_app):
    aid = make_aid_type(yearly_budget=Decimal("100"), ceiling_per_youth=None)
    youths = [make_young_person() for _ in range(MANAGERS)]
    outcomes = _grant_all_at_once(served_app, _requests(aid, youths), "60")
    _check(outcomes)
    assert _granted(aid.id) == Decimal("60")  # one grant of 60 fits in 100, two do not
    refusals = [page for _s, page in outcomes if "Accord impossible : enveloppe" in page]
    assert len(refusals) == MANAGERS - 1


def test_eight_grants_at_once_keep_the_ceiling(served_app):
    aid = make_aid_type(yearly_budget=None, ceiling_per_youth=Decimal("100"))
    youth = make_young_person()
    outcomes = _grant_all_at_once(served_app, _requests(aid, [youth] * MANAGERS), "60")
    _check(outcomes)
    assert _granted(aid.id) == Decimal("60")
    assert flows.budget_of(db.session, aid.id, dt.date.today().year)["granted"] == Decimal("60")
    refusals = [page for _s, page in outcomes if "Accord impossible : plafond" in page]
    assert len(refusals) == MANAGERS - 1


def test_grant_amounts_are_bounded_and_positive(served_app):
    aid = make_aid_type(yearly_budget=None, ceiling_per_youth=None)
    [request_id] = _requests(aid, [make_young_person()])
    manager = make_user(role="manager")
    client = served_app.test_client()
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    for amount, message in (
        ("1e30", "pas un nombre"),
        ("0", "supérieur à 0"),
        ("-5", "négatif"),
        ("100000000000", "trop grand"),
    ):
        version = db.session.get(AidRequest, request_id).version
        response = client.post(
            f"/admin/aidrequest/workflow/?id={request_id}",
            data={"transition": "grant", "amount_granted": amount, "version": str(version)},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), amount
    assert _granted(aid.id) == 0
