"""When things fail: does a user get a French page (not a bare English error) when the database is
down, can a load balancer ask whether the app is healthy, and do pages holding personal data stay
out of caches?"""

from __future__ import annotations

from backoffice import create_app
from backoffice.extensions import db

from .factories import PASSWORD, make_user


def test_a_database_down_gives_a_french_503_page(app, client, tmp_path):
    user = make_user(role="counsellor", locale="en")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = client.get_cookie("session").value
    down = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absent' / 'nowhere.sqlite3'}",
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    visitor = down.test_client()
    visitor.set_cookie("session", cookie)
    response = visitor.get("/admin/youngperson/")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Service momentanément indisponible" in body and "base de données" in body
    assert response.headers["Retry-After"] == "30"
    assert down.test_client().get("/healthz").status_code == 503


def test_healthz_says_whether_the_schema_is_at_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'health.sqlite3'}"
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with fresh.app_context():
        db.create_all()  # tables, but no migration recorded
    response = fresh.test_client().get("/healthz")
    assert response.status_code == 503 and "attendu" in response.get_json()["migrations"]
    with fresh.app_context():
        db.drop_all()
    assert fresh.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    response = fresh.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"


def test_pages_and_exports_are_not_cached_but_static_files_are(client, admin):
    for path in ("/admin/", "/admin/youngperson/", "/admin/youngperson/export/csv/", "/login"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    with client.get("/static/backoffice.js") as static:
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("Cache-Control", "")
