"""The factory and its configuration: does the app start the way the README says?"""

from __future__ import annotations

import pytest

from backoffice import create_app
from backoffice.config import normalise_database_url


def test_secret_key_is_generated_once_in_the_instance_folder(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": None}
    first = create_app({**config}).config["SECRET_KEY"]
    assert first and first == create_app({**config}).config["SECRET_KEY"]


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": None, "ENV_NAME": "production"}
        )


def test_default_database_is_a_sqlite_file_in_the_instance_folder():
    app = create_app({"SQLALCHEMY_DATABASE_URI": None, "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/backoffice.sqlite3")


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, used):
    assert normalise_database_url(given) == used


def test_french_is_the_default_and_english_is_available(client, admin):
    assert "Créer" in client.get("/admin/youngperson/").get_data(as_text=True)
    english = client.get("/admin/youngperson/?lang=en").get_data(as_text=True)
    assert "Create" in english and "Young people" in english
    assert "Create" in client.get("/admin/partner/").get_data(as_text=True)  # remembered
    assert "Créer" in client.get("/admin/partner/?lang=fr").get_data(as_text=True)


def test_a_user_can_prefer_english(client, auth):
    auth.login(locale="en")
    assert "Partners" in client.get("/admin/").get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_english_catalogue_translates_every_string_we_wrote():
    import gettext
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).parents[1] / "backoffice/translations/en/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    with path.with_suffix(".mo").open("rb") as handle:  # the compiled file is up to date
        compiled = gettext.GNUTranslations(handle)
    stale = [
        m.id
        for m in catalog
        if m.id and isinstance(m.id, str) and compiled.gettext(m.id) != m.string
    ]
    assert stale == []


def test_the_wizard_in_english(client, auth):
    from .factories import make_site, make_young_person

    site = make_site()
    me = auth.login(role="counsellor", site=site, locale="en")
    youth = make_young_person(site=site, referent=me)
    page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "New interview" in page and "Autonomy over the interviews" in page


def test_the_accessibility_statement_is_public_and_linked_from_every_page(client, admin):
    """RGAA: a statement with its status, what was tested, what is not accessible, the contact
    and the appeal, linked as "Accessibilité : non conforme" from every page."""
    client.application.config["ACCESSIBILITY_CONTACT"] = "accessibilite@ml.example.fr"
    for page in ("/admin/", "/admin/youngperson/", "/admin/youngperson/new/"):
        assert 'href="/accessibilite">Accessibilité : non conforme</a>' in client.get(
            page
        ).get_data(as_text=True)
    client.post("/logout")
    assert "Accessibilité : non conforme" in client.get("/login").get_data(as_text=True)
    html = client.get("/accessibilite").get_data(as_text=True)
    for heading in (
        "État de conformité",
        "Ce qui est vérifié, et comment",
        "Contenus non accessibles",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        assert heading in html
    assert "mailto:accessibilite@ml.example.fr" in html and "Défenseur des droits" in html
