"""Never a 500 from input: does every route of the app, for every role, answer a malformed URL,
query parameter or form value with a page or a refusal — never a server error?"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from backoffice.extensions import db
from backoffice.models import AidRequest, Interview, Partner, Referral

from .factories import make_aid_type, make_site, make_user, make_young_person

#: Values a tampered URL or form carries.
MALFORMED = [
    "99999999999999999999999",
    "-1",
    "0",
    "1e30",
    "abc\x00def",
    "\x00",
    "é’ 漢字 🙂",
    "' OR 1=1 --",
    '<script>alert("x")</script>',
    "",
    "%",
    "\x01\x1f",
]
#: The parameters lists, details and forms read.
QUERY_PARAMS = [
    "page",
    "page_size",
    "sort",
    "desc",
    "search",
    "id",
    "url",
    "flt0_0",
    "flt1_3",
    "flt2_12",
    "flt3_25",
    "step",
    "next",
    "token",
]
SKIPPED = {"static", "admin.static", "auth.logout", "healthz"}  # healthz reads no input


@pytest.fixture
def world(app):
    site = make_site(name="Antenne Nord")
    counsellor = make_user(role="counsellor", site=site, email="conseil@example.org")
    youth = make_young_person(site=site, referent=counsellor)
    partner = Partner(name="Atelier", kind="employer")
    aid = make_aid_type(yearly_budget=Decimal("1000"), ceiling_per_youth=Decimal("100"))
    db.session.add(partner)
    db.session.flush()
    db.session.add_all(
        [
            Referral(young_person_id=youth.id, partner_id=partner.id, reason="Motif"),
            AidRequest(
                young_person_id=youth.id,
                aid_type_id=aid.id,
                amount_asked=Decimal("60"),
                budget_year=dt.date.today().year,
            ),
            Interview(
                young_person_id=youth.id,
                counsellor_id=counsellor.id,
                starts_at=dt.datetime(2026, 1, 5, 9, 0),
            ),
        ]
    )
    db.session.commit()
    return {"site": site, "counsellor": counsellor}


def _paths(app, value: str) -> list[tuple[str, str, set[str]]]:
    """Every rule with its placeholders filled by ``value`` (and by 1, to reach the page)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        methods = rule.methods - {"HEAD", "OPTIONS"}
        fillers = (value, "1") if "<" in rule.rule else (value,)
        for filler in fillers:
            path = re.sub(
                r"<(?:int:)?([a-z_]+)>",
                lambda m, filler=filler: "1" if "int:" in m.group(0) else filler,
                rule.rule,
            )
            out.append((rule.endpoint, path, methods))
    return out


def _walk(client, app, value):
    failures = []
    for _endpoint, path, methods in _paths(app, value):
        query = {name: value for name in QUERY_PARAMS}
        if "GET" in methods:
            repeated = [(name, value) for name in ("page", "id", "search")] * 2
            for params in (query, repeated) if value == MALFORMED[0] else (query,):
                response = client.get(path, query_string=params)
                if response.status_code >= 500:
                    failures.append(("GET", path, repr(value), response.status_code))
        if "POST" in methods:
            form = {
                "id": value,
                "rowid": value,
                "amount_granted": value,
                "amount_asked": value,
                "appointment_at": value,
                "starts_at": value,
                "birth_date": value,
                "yearly_budget": value,
                "name": value,
                "token": value,
                "transition": value,
                "version": value,
                "list_form_pk": value,
                "value": value,
            }
            response = client.post(path, data=form, query_string={"id": value, "url": value})
            if response.status_code >= 500:
                failures.append(("POST", path, repr(value), response.status_code))
    return failures


@pytest.mark.parametrize("role", ["admin", "counsellor", "manager", None])
def test_no_route_answers_a_malformed_value_with_a_server_error(app, client, auth, world, role):
    if role == "counsellor":
        auth.login(world["counsellor"])
    elif role is not None:
        auth.login(role=role, site=world["site"] if role == "manager" else None)
    failures = []
    for value in MALFORMED:
        failures.extend(_walk(client, app, value))
    assert failures == []
