"""Sign-in: can anyone reach the back-office without a valid, active account?"""

from __future__ import annotations

import re

import pytest

from backoffice.extensions import db

from .factories import PASSWORD, make_user


def test_login_page_is_in_french(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Connectez-vous" in page
    assert "Mot de passe" in page


def test_a_valid_account_signs_in_and_lands_on_the_home_page(client):
    user = make_user(full_name="Camille Martin", role="counsellor")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"
    assert "Bonjour Camille Martin" in client.get("/admin/").get_data(as_text=True)


def test_a_wrong_password_is_refused_with_a_message(client):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 200
    assert "E-mail ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_an_inactive_account_is_refused(client):
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "compte désactivé" in response.get_data(as_text=True)
    assert client.get("/admin/").headers["Location"].startswith("/login")


def test_a_deactivated_account_loses_its_open_session(client, auth):
    user = auth.login()
    assert client.get("/admin/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/admin/").headers["Location"].startswith("/login")


def test_logout_is_a_post_and_ends_the_session(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/admin/").headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/partner/", "/admin/partner/"),
        ("https://evil.example.com/", "/admin/"),
        ("//evil.example.com/", "/admin/"),
    ],
)
def test_login_follows_only_local_next_urls(client, next_url, expected):
    user = make_user()
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_empty_login_form_shows_field_errors(client):
    page = client.post("/login", data={}).get_data(as_text=True)
    assert "Saisissez votre e-mail." in page


def _admin_urls(app):
    """Every admin URL of the URL map, with a dummy id where the rule takes arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith("static"):
            continue
        path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule.replace("<export_type>", "csv"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path))
    return urls


def test_every_admin_url_requires_a_session(app, client):
    urls = _admin_urls(app)
    assert len(urls) > 60  # the whole map, not a sample
    for method, path in urls:
        response = client.open(path, method=method, query_string={"id": "1"})
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, path)
