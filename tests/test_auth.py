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


# --- sessions that really end --------------------------------------------------------------


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_replayed_after_sign_out_opens_nothing(app, client):
    user = make_user(role="admin")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    stolen = _cookie(client)
    assert client.get("/admin/youngperson/").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/admin/youngperson/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client):
    user = make_user(role="counsellor")
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "une phrase de passe neuve",
            "confirm": "une phrase de passe neuve",
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # this device goes on
    assert other.get("/admin/").headers["Location"].startswith("/login")  # the other ends


def test_deactivation_and_an_admins_sign_out_everywhere_end_sessions(app, client, auth):
    user = make_user(role="counsellor")
    device = app.test_client()
    device.post("/login", data={"email": user.email, "password": PASSWORD})
    assert device.get("/admin/").status_code == 200
    auth.login(role="admin")
    response = client.post(
        "/admin/account/action/",
        data={"action": "end_sessions", "rowid": [str(user.id)]},
        follow_redirects=True,
    )
    assert "1 compte déconnecté" in response.get_data(as_text=True)
    assert device.get("/admin/").headers["Location"].startswith("/login")
    device.post("/login", data={"email": user.email, "password": PASSWORD})
    assert device.get("/admin/").status_code == 200
    user = db.session.get(type(user), user.id)
    user.active = False
    db.session.commit()
    user.active = True  # even reactivated at once, the old sessions stay closed
    db.session.commit()
    assert device.get("/admin/").headers["Location"].startswith("/login")


def test_signing_in_takes_as_long_whether_the_account_exists_or_not(client):
    import time

    user = make_user()
    user.set_password(PASSWORD)  # the production hash (scrypt), not the tests' cheap one
    db.session.commit()

    def timed(email):
        started = time.perf_counter()
        client.post("/login", data={"email": email, "password": "wrong password!"})
        return time.perf_counter() - started

    known = min(timed(user.email) for _ in range(3))
    unknown = min(timed("nobody@example.org") for _ in range(3))
    assert unknown > known / 3, (known, unknown)  # 0.007 s against 0.41 s before
