"""Security: CSRF on every POST, stale edits, login limits, own passwords, consultation log."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Consultation, Partner, User, YoungPerson

from .factories import PASSWORD, make_partner, make_site, make_user, make_young_person


def _token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def csrf_client(csrf_app):
    return csrf_app.test_client()


def _login_with_token(client, user):
    token = _token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/partner/new/", {"name": "Sans jeton", "kind": "other"}),
        ("/admin/partner/edit/?id={id}", {"name": "Sans jeton", "kind": "other"}),
        ("/admin/partner/delete/", {"id": "{id}"}),
        ("/admin/partner/action/", {"action": "delete", "rowid": "{id}"}),
        ("/admin/partner/ajax/update/", {"list_form_pk": "{id}", "name": "Sans jeton"}),
        (
            "/account/password",
            {"current_password": PASSWORD, "new_password": "x" * 14, "confirm": "x" * 14},
        ),
        ("/logout", {}),
    ],
)
def test_a_post_without_token_is_refused_and_changes_nothing(csrf_client, path, data):
    user = make_user(role="admin")
    partner = make_partner(name="Intact")
    _login_with_token(csrf_client, user)
    url = path.replace("{id}", str(partner.id))
    form = {k: v.replace("{id}", str(partner.id)) for k, v in data.items()}
    response = csrf_client.post(url, data=form)
    assert response.status_code == 400
    assert "Formulaire expiré" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [p.name for p in db.session.scalars(sa.select(Partner))] == ["Intact"]
    assert db.session.get(User, user.id).check_password(PASSWORD)
    assert csrf_client.get("/admin/").status_code == 200  # still signed in: logout was refused


def test_a_post_with_the_token_goes_through(csrf_client):
    _login_with_token(csrf_client, make_user(role="admin"))
    token = _token(csrf_client, "/admin/partner/new/")
    response = csrf_client.post(
        "/admin/partner/new/", data={"name": "Avec jeton", "kind": "other", "csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Partner.name)) == "Avec jeton"


def test_login_without_token_is_refused(csrf_client):
    user = make_user()
    response = csrf_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_a_stale_edit_is_refused_and_shows_what_changed(client, auth):
    editor = auth.login(role="admin", full_name="Bob Éditeur")
    partner = make_partner(name="Mission Emploi", city="Lyon")
    form_a = client.get(f"/admin/partner/edit/?id={partner.id}").get_data(as_text=True)
    loaded = re.search(r'name="loaded_version"[^>]*value="(\d+)"', form_a)
    loaded = loaded or re.search(r'value="(\d+)"[^>]*name="loaded_version"', form_a)
    assert loaded.group(1) == "1"
    # someone else saves first
    partner.city = "Villeurbanne"
    db.session.commit()
    response = client.post(
        f"/admin/partner/edit/?id={partner.id}",
        data={
            "name": "Mission Emploi",
            "kind": "training_body",
            "city": "Bron",
            "loaded_version": "1",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "modifiée par quelqu&#39;un d&#39;autre" in page or "modifiée par quelqu'un" in page
    assert "Villeurbanne" in page
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).city == "Villeurbanne"
    # reloading gives the current version, and saving then works
    response = client.post(
        f"/admin/partner/edit/?id={partner.id}",
        data={
            "name": "Mission Emploi",
            "kind": "training_body",
            "city": "Bron",
            "loaded_version": "2",
        },
    )
    assert response.status_code == 302
    assert editor.full_name == "Bob Éditeur"


def test_a_tampered_version_is_refused(client, admin):
    partner = make_partner(city="Lyon")
    response = client.post(
        f"/admin/partner/edit/?id={partner.id}",
        data={"name": partner.name, "kind": "other", "city": "Bron", "loaded_version": "abc"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).city == "Lyon"


def test_failed_logins_are_limited_per_account(client, app):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    user = make_user()
    for _ in range(3):
        assert (
            client.post("/login", data={"email": user.email, "password": "nope"}).status_code == 200
        )
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    other = make_user()  # another account from the same address is not blocked
    assert (
        client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302
    )


def test_failed_logins_are_limited_per_address(client, app):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per 15 minutes"
    for n in range(4):
        client.post("/login", data={"email": f"inconnu{n}@example.org", "password": "nope"})
    user = make_user()
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    )


def test_successful_logins_do_not_count(client, app):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 15 minutes"
    user = make_user()
    for _ in range(4):
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        client.post("/logout")


def test_login_renews_the_session(client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_session_cookie_flags(client):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_users_change_their_own_password(client, auth):
    user = auth.login(role="counsellor")
    response = client.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "une phrase assez longue",
            "confirm": "une phrase assez longue",
        },
    )
    assert "Mot de passe actuel incorrect." in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "court", "confirm": "court"},
    )
    assert "au moins 12 caractères" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "une phrase assez longue",
            "confirm": "une phrase assez longue",
        },
    )
    assert response.headers["Location"] == "/admin/"
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("une phrase assez longue")


def test_an_admin_deactivating_an_account_cuts_its_session(app, client, auth):
    counsellor = make_user(role="counsellor", site=make_site())
    auth.login(counsellor)
    assert client.get("/admin/").status_code == 200
    admin_client = app.test_client()
    admin_user = make_user(role="admin")
    admin_client.post("/login", data={"email": admin_user.email, "password": PASSWORD})
    response = admin_client.post(
        f"/admin/account/edit/?id={counsellor.id}",
        data={
            "full_name": counsellor.full_name,
            "email": counsellor.email,
            "role": "counsellor",
            "locale": "fr",
            "loaded_version": str(counsellor.version),
        },
    )  # active unticked
    assert response.status_code == 302
    assert client.get("/admin/").headers["Location"].startswith("/login")


def test_csp_forbids_inline_scripts_and_nonces_ours(client, admin):
    response = client.get("/admin/youngperson/")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    body = response.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert "frame-ancestors 'none'" in csp


def test_opening_a_file_is_logged_and_shown_to_its_referent(client, auth):
    site = make_site()
    referent = make_user(role="counsellor", site=site, full_name="Réf Érente")
    colleague = make_user(role="counsellor", site=site, full_name="Col Lègue")
    youth = make_young_person(site=site, referent=referent)
    auth.login(colleague)
    page = client.get(f"/admin/youngperson/details/?id={youth.id}&tab=viewers")
    assert "Consultations" not in page.get_data(as_text=True)  # not the referent
    client.post("/logout")
    auth.login(referent)
    page = client.get(f"/admin/youngperson/details/?id={youth.id}&tab=viewers")
    body = page.get_data(as_text=True)
    assert "Col Lègue" in body and "Réf Érente" in body
    assert db.session.scalar(sa.select(sa.func.count(Consultation.id))) == 2
    assert db.session.get(YoungPerson, youth.id) is not None


def test_the_lists_delete_form_carries_the_token_and_works(csrf_client):
    """The row actions are rendered in Python (views/row_actions.py): the delete form posted as
    the list renders it, token included, deletes the record and comes back to the list."""
    import re

    _login_with_token(csrf_client, make_user(role="admin"))
    partner = make_partner(name="À supprimer")
    html = csrf_client.get("/admin/partner/?sort=0").get_data(as_text=True)
    form = re.search(r'<form class="icon" method="POST" action="([^"]+)">(.*?)</form>', html, re.S)
    assert form, html
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
    assert fields["id"] == str(partner.id) and fields["csrf_token"]
    response = csrf_client.post(form.group(1), data=fields)
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/admin/partner/"
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Partner.id))) == 0
    view = re.search(r'href="(/admin/partner/details/\?id=\d+&amp;url=[^"]+)"', html)
    assert view and "%2Fadmin%2Fpartner%2F%3Fsort%3D0" in view.group(1)
