"""Fixtures: a fresh app and an empty database per test, on SQLite or on TEST_DATABASE_URL."""

from __future__ import annotations

import os

import pytest
from flask import g

from backoffice import create_app
from backoffice.extensions import db, limiter
from backoffice.models import DiagnosisDomain, DiagnosisSituation

from .factories import PASSWORD, make_site, make_user, make_young_person

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")


def _config(tmp_path, **overrides):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "IMPORT_UPLOAD_FOLDER": str(tmp_path / "imports"),
        **overrides,
    }


def _fresh_g_per_request(app):
    """A test keeps one app context for its whole run, and Flask lets every request of the test
    client share it, and so share ``g`` (Flask-Login's user, Flask-WTF's token, the locale…).
    In production each request has its own: clear ``g`` first thing, as a new request would."""

    def clear_g():
        for name in list(vars(g)):
            delattr(g, name)

    app.before_request_funcs.setdefault(None, []).insert(0, clear_g)
    return app


def _drop_everything():
    limiter.reset()  # the limiter's memory store outlives an app: each test starts from zero
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def _serving(tmp_path, schema: bool = True, **config):
    """Run a test inside an app of this ``config``: from an empty database (with the models'
    schema, or none), left empty again afterwards."""
    app = _fresh_g_per_request(create_app(_config(tmp_path, **config)))
    with app.app_context():
        _drop_everything()
        if schema:
            db.create_all()
        yield app
        _drop_everything()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    """An app on an empty schema built from the models."""
    yield from _serving(tmp_path)


@pytest.fixture
def bare_app(tmp_path):
    """An app on a database with no table at all (for the migration tests)."""
    url = (
        TEST_DATABASE_URL
        if TEST_DATABASE_URL != "sqlite://"
        else (f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
    )
    yield from _serving(tmp_path, schema=False, SQLALCHEMY_DATABASE_URI=url)


@pytest.fixture
def shared_app(tmp_path):
    """An app on a database that other threads and processes really share: the PostgreSQL
    test database, or a SQLite file (an in-memory database is one connection for all)."""
    url = (
        TEST_DATABASE_URL
        if TEST_DATABASE_URL.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    )
    yield from _serving(tmp_path, SQLALCHEMY_DATABASE_URI=url, SHARED_URL=url)


@pytest.fixture
def csrf_app(tmp_path):
    """An app with CSRF protection on, as in production."""
    yield from _serving(tmp_path, WTF_CSRF_ENABLED=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign a test client in and out."""

    def __init__(self, client):
        self._client = client

    def login(self, user=None, password=PASSWORD, **user_overrides):
        if user is None:
            user = make_user(**user_overrides)
        response = self._client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def admin(auth):
    """A signed-in admin."""
    return auth.login(role="admin", full_name="Alice Admin")


@pytest.fixture
def counsellor(auth):
    site = make_site(name="Antenne Test")
    return auth.login(role="counsellor", site=site, full_name="Camille Test")


@pytest.fixture
def youth(counsellor):
    """A counsellor's young person, with two diagnosis domains (the wizard's tests)."""
    domain = DiagnosisDomain(code="logement", name="Logement", position=1)
    domain.situations.append(DiagnosisSituation(label="Hébergé chez un tiers", position=1))
    db.session.add_all([domain, DiagnosisDomain(code="sante", name="Santé", position=2)])
    db.session.commit()
    return make_young_person(
        site=counsellor.site, referent=counsellor, first_name="Inès", last_name="Amrani"
    )
