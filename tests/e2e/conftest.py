"""Browser tests: the real app served on localhost, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from backoffice import create_app
from backoffice.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where screenshots go: docs/screenshots when SCREENSHOTS=1 (to refresh the README's), else tmp.
SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"


@pytest.fixture
def live_app(tmp_path):
    """The app on its own database, served by a real HTTP server in a thread."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "e2e-secret"})
    with app.app_context():
        db.drop_all()
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join()
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # A request thread of the server may still hold a connection in a transaction
            # (a streamed download the browser did not finish reading): end it before DROP.
            with db.engine.connect() as connection:
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
                )
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def shot(tmp_path):
    """Save a full-page screenshot named ``name`` (docs/screenshots when SCREENSHOTS=1)."""
    folder = Path(__file__).parents[2] / "docs" / "screenshots" if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name, full_page=False):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def sign_in(live_app):
    """Sign ``page`` in through the real login form and wait for the home page."""

    def sign(page, email, password):
        base = live_app.config["LIVE_URL"]
        page.goto(f"{base}/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin/")

    return sign


def pytest_collection_modifyitems(items):
    """The live server runs in a thread of the test process: when the browser leaves a page
    while a static file is still being sent (a navigation cancels it), werkzeug's development
    server drops the connection and leaves that file to the garbage collector, which pytest
    reports as an unraisable ResourceWarning (seen once in CI, after every test had passed).
    It is the test server's, not the application's: ignored in the browser tests only."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore:Exception ignored in:pytest.PytestUnraisableExceptionWarning"
                )
            )
