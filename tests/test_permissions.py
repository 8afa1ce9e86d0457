"""Access control: can anyone read or change what their role and site do not allow, by any URL?"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import (
    AidType,
    DiagnosisDomain,
    DiagnosisSituation,
    Partner,
    Site,
    Theme,
    User,
    YoungPerson,
)
from backoffice.views.base import BackofficeModelView

from .factories import make_aid_type, make_partner, make_site, make_user, make_young_person

NEEDS_RECORD = {"details_view", "edit_view", "delete_view", "action_view", "ajax_update"}
OTHER_SITE_NAME = "Autresite"


@pytest.fixture
def world(app):
    """Two sites; on each a counsellor and a young person; one of everything in the catalogue."""
    site_a, site_b = make_site(name="Antenne A"), make_site(name="Antenne B")
    counsellor_a2 = make_user(role="counsellor", site=site_a, full_name="Collègue Même")
    counsellor_b = make_user(role="counsellor", site=site_b, full_name=f"{OTHER_SITE_NAME} Cons")
    youth_a = make_young_person(site=site_a, last_name="Mêmesite", referent=counsellor_a2)
    youth_b = make_young_person(site=site_b, last_name=OTHER_SITE_NAME, referent=counsellor_b)
    domain = DiagnosisDomain(code="logement", name="Logement")
    db.session.add_all([domain, Theme(code="emploi", name="Emploi")])
    db.session.add(DiagnosisSituation(domain=domain, label="Locataire"))
    db.session.commit()
    make_partner()
    make_aid_type()
    return {
        "site_a": site_a,
        "site_b": site_b,
        "records": {
            YoungPerson: (youth_a.id, youth_b.id),
            User: (counsellor_a2.id, counsellor_b.id),
            Site: (site_a.id, site_b.id),
        },
    }


def _sign_in(client, role, site):
    user = make_user(role=role, site=site, full_name=f"Moi {role}")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    return user


def _record_ids(model, world):
    if model in world["records"]:
        return world["records"][model]
    first = db.session.scalar(sa.select(model.id).order_by(model.id))
    return first, first


def _visible(view, record_id, user):
    clause = view.scope_clause() if hasattr(view, "scope_clause") else None
    stmt = sa.select(view.model.id).where(view.model.id == record_id)
    if clause is not None:
        stmt = stmt.where(clause)
    return db.session.scalar(stmt) is not None


ROLES = [("admin", None), ("counsellor", "site_a"), ("manager", "site_a"), ("manager", None)]


@pytest.mark.parametrize(
    ("role", "site_key"), ROLES, ids=["admin", "counsellor-A", "manager-A", "manager-all"]
)
def test_every_endpoint_obeys_role_and_site(app, client, world, role, site_key):
    user = _sign_in(client, role, world[site_key] if site_key else None)
    admin = app.extensions["admin"][0]
    views = {v.endpoint: v for v in admin._views if isinstance(v, BackofficeModelView)}
    checked = 0
    for rule in app.url_map.iter_rules():
        endpoint, _, function = rule.endpoint.partition(".")
        if endpoint not in views or function not in views[endpoint].operation_of:
            continue
        view = views[endpoint]
        operation = view.operation_of[function]
        allowed = role in view.permissions.get("list", ()) and role in view.permissions.get(
            operation, ()
        )
        own, other = _record_ids(view.model, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for record_id in (own, other):
                # a delete may have removed it: the request then tests a missing record
                path = rule.rule.replace("<export_type>", "csv")
                data = {
                    "id": record_id,
                    "action": "delete",
                    "rowid": record_id,
                    "list_form_pk": record_id,
                }
                with app.test_request_context():
                    visible = _visible_for(view, record_id, user)
                response = client.open(
                    path,
                    method=method,
                    query_string={"id": record_id},
                    data=data if method == "POST" else None,
                )
                body = response.get_data(as_text=True)
                where = (role, site_key, method, path, record_id)
                checked += 1
                if not allowed:
                    assert response.status_code == 403, where
                elif function in NEEDS_RECORD and not visible:
                    assert response.status_code in (302, 404), where  # as for a missing record
                else:
                    assert response.status_code not in (403, 500), where
                if site_key is not None:
                    assert OTHER_SITE_NAME not in body, where
    assert checked > 150


def _visible_for(view, record_id, user):
    from flask_login import login_user

    login_user(user)
    return _visible(view, record_id, user)


def test_other_site_records_are_unchanged_after_the_sweep(app, client, world):
    _sign_in(client, "counsellor", world["site_a"])
    other = world["records"][YoungPerson][1]
    client.post(f"/admin/youngperson/edit/?id={other}", data={"last_name": "Pirate"})
    client.post("/admin/youngperson/delete/", data={"id": other})
    client.post("/admin/youngperson/action/", data={"action": "delete", "rowid": other})
    client.post(
        "/admin/youngperson/ajax/update/", data={"list_form_pk": other, "last_name": "Pirate"}
    )
    db.session.expire_all()
    youth = db.session.get(YoungPerson, other)
    assert youth is not None and youth.last_name == OTHER_SITE_NAME


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("counsellor", "/admin/account/", 403),
        ("counsellor", "/admin/audit/", 403),
        ("counsellor", "/admin/partner/new/", 403),
        ("counsellor", "/admin/aidtype/new/", 403),
        ("counsellor", "/admin/theme/new/", 403),
        ("counsellor", "/admin/youngperson/new/", 200),
        ("counsellor", "/admin/myyoungperson/", 200),
        ("counsellor", "/admin/partner/", 200),
        ("counsellor", "/admin/aidtype/", 200),
        ("manager", "/admin/youngperson/new/", 403),
        ("manager", "/admin/youngperson/export/csv/", 200),
        ("manager", "/admin/account/", 403),
        ("manager", "/admin/myyoungperson/", 403),
        ("admin", "/admin/account/", 200),
        ("admin", "/admin/audit/", 200),
        ("admin", "/admin/audit/new/", 403),
        ("admin", "/admin/audit/edit/?id=1", 403),
        ("counsellor", "/admin/youngperson/export/csv/", 403),
    ],
)
def test_what_each_role_may_open(client, world, role, path, status):
    _sign_in(client, role, world["site_a"])
    assert client.get(path).status_code == status


def test_the_menu_shows_only_what_the_role_may_open(client, world):
    _sign_in(client, "counsellor", world["site_a"])
    page = client.get("/admin/").get_data(as_text=True)
    assert "Mes jeunes" in page and "Partenaires" in page
    assert "Comptes" not in page and "Journal" not in page


def test_a_counsellor_sees_only_their_site_in_lists_and_counts(client, world):
    _sign_in(client, "counsellor", world["site_a"])
    page = client.get("/admin/youngperson/").get_data(as_text=True)
    assert "Mêmesite" in page and OTHER_SITE_NAME not in page
    assert "Liste (1)" in page
    counsellors = client.get("/admin/counsellor/").get_data(as_text=True)
    assert "Collègue Même" in counsellors and OTHER_SITE_NAME not in counsellors


def test_my_young_people_is_the_caseload(client, world):
    me = _sign_in(client, "counsellor", world["site_a"])
    make_young_person(site=world["site_a"], last_name="Monsuivi", referent=me)
    page = client.get("/admin/myyoungperson/").get_data(as_text=True)
    assert "Monsuivi" in page and "Mêmesite" not in page


def test_a_counsellor_cannot_move_a_young_person_to_another_site(client, world):
    _sign_in(client, "counsellor", world["site_a"])
    own = world["records"][YoungPerson][0]
    response = client.post(
        f"/admin/youngperson/edit/?id={own}",
        data={
            "last_name": "Mêmesite",
            "first_name": "X",
            "birth_date": "2005-01-01",
            "site": str(world["site_b"].id),
            "status": "active",
            "registration_date": "2025-01-01",
        },
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(YoungPerson, own).site_id == world["site_a"].id


def test_a_counsellor_creates_a_young_person_on_their_site_as_referent(client, world):
    me = _sign_in(client, "counsellor", world["site_a"])
    form = client.get("/admin/youngperson/new/").get_data(as_text=True)
    assert "Antenne B" not in form
    assert f'<option selected value="{me.id}">' in form
    response = client.post(
        "/admin/youngperson/new/",
        data={
            "last_name": "Nouveau",
            "first_name": "Né",
            "birth_date": "2006-01-01",
            "site": str(world["site_a"].id),
            "referent": str(me.id),
            "status": "active",
            "registration_date": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 302
    created = db.session.scalar(sa.select(YoungPerson).where(YoungPerson.last_name == "Nouveau"))
    assert created.referent_id == me.id


def test_a_manager_reads_but_cannot_edit(client, world):
    _sign_in(client, "manager", world["site_a"])
    own = world["records"][YoungPerson][0]
    assert client.get(f"/admin/youngperson/details/?id={own}").status_code == 200
    assert client.get(f"/admin/youngperson/edit/?id={own}").status_code == 403
    assert client.post("/admin/partner/delete/", data={"id": 1}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Partner.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(AidType.id))) == 1
