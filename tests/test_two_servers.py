"""Two app servers, one database: with two gunicorn instances on PostgreSQL and Redis as the
rate limits' shared store, do the sign-in limit and the partner-link limit count across both,
and is a session ended on one refused on the other?

Runs in the PostgreSQL pass of ``.ci/run`` (which starts Redis when absent); skipped on SQLite.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import TEST_DATABASE_URL

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE = "backoffice_two_servers"
SECRET = "two-servers-shared-secret"
PASSWORD = "une phrase de passe solide"

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="two app servers share a PostgreSQL database (the PostgreSQL pass of .ci/run)",
)


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not running at {REDIS_URL}: redis-server --daemonize yes")
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    _redis().flushdb()
    admin_url = sa.engine.make_url(TEST_DATABASE_URL)
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    engine.dispose()
    url = admin_url.set(database=DATABASE).render_as_string(hide_password=False)
    instance = tmp_path_factory.mktemp("instance")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "LOGIN_LIMIT_PER_ACCOUNT": "4 per 15 minutes",
        "IMPORT_UPLOAD_FOLDER": str(instance / "imports"),
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    root = Path(__file__).parents[1]
    for args in (
        ["db", "upgrade"],
        ["create-user", "ana@example.org", "--role", "admin", "--password", PASSWORD],
    ):
        subprocess.run([*flask, *args], env=env, cwd=root, check=True, capture_output=True)
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait_for(f"http://127.0.0.1:{port}/healthz")
        yield {"urls": [f"http://127.0.0.1:{p}" for p in ports], "env": env, "database": url}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        engine.dispose()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused, reset, timed out: not up yet
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within 30 s")


class Browser:
    """A minimal browser: cookies, no redirects followed, the CSRF token read from the form."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def get(self, url: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf(self, url: str) -> str:
        _status, page = self.get(url)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def login(self, base: str, password: str = PASSWORD) -> int:
        token = self.csrf(f"{base}/login")
        status, _ = self.post(
            f"{base}/login",
            {"csrf_token": token, "email": "ana@example.org", "password": password},
        )
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_sign_in_limit_counts_across_both_servers(servers):
    first, second = servers["urls"]
    statuses = [
        Browser().login(base, password="wrong password, again")
        for base in (first, second, first, second, first)
    ]
    assert statuses[:4] == [200, 200, 200, 200]  # four failures, alternating servers
    assert statuses[4] == 429  # the fifth is refused, though each server saw only 2 or 3


def test_a_session_ended_on_one_server_is_refused_on_the_other(servers):
    _redis().flushdb()
    first, second = servers["urls"]
    browser = Browser()
    assert browser.login(first) == 302
    assert browser.get(f"{second}/admin/youngperson/")[0] == 200  # the same session on both
    cookie = next(c for c in browser.jar if c.name == "session")
    token = browser.csrf(f"{first}/account/password")
    assert browser.post(f"{first}/logout", {"csrf_token": token})[0] == 302
    thief = Browser()
    thief.jar.set_cookie(cookie)  # the cookie as it was before signing out
    status, _ = thief.get(f"{second}/admin/youngperson/")
    assert status == 302  # back to the sign-in page: the other server refuses it too


def test_the_partner_link_limit_counts_across_both_servers(servers):
    _redis().flushdb()
    first, second = servers["urls"]
    token = _sent_referral_token(servers["database"])
    codes = [
        Browser().get(f"{(first, second)[n % 2]}/partenaire/reponse/{token}")[0] for n in range(31)
    ]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def _sent_referral_token(url: str) -> str:
    from backoffice import create_app
    from backoffice.domain import referrals as flows
    from backoffice.domain.workflow import Actor, fire
    from backoffice.extensions import db
    from backoffice.models import Partner, Referral, Site, YoungPerson, utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        site = Site(name="Antenne Deux Serveurs")
        partner = Partner(name="Atelier Deux Serveurs", kind="employer")
        db.session.add_all([site, partner])
        db.session.flush()
        youth = YoungPerson(
            last_name="Serveur",
            first_name="Léa",
            birth_date=utcnow().date().replace(year=2005),
            site_id=site.id,
        )
        db.session.add(youth)
        db.session.flush()
        referral = Referral(
            young_person_id=youth.id, partner_id=partner.id, reason="Motif", consent_at=utcnow()
        )
        db.session.add(referral)
        db.session.flush()
        fire(db.session, flows.REFERRAL, referral, "send", Actor(None, "counsellor", "c@x.org"))
        db.session.commit()
        token = flows.answer_token(SECRET, referral)
        db.session.remove()
        db.engine.dispose()
    return token
