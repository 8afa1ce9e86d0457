"""Forms a screen reader can use (issue #12): a form sent with errors opens on a summary that links
to each field, each invalid field says so and points at its message, required fields are
explained once — on Flask-Admin's generated forms, the sign-in and password pages, the wizard and
the workflows alike."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from wtforms import Form, StringField
from wtforms.validators import InputRequired

from backoffice.extensions import db
from backoffice.models import DiagnosisDomain, Interview
from backoffice.views.form_errors import error_items, has_required, wizard_items

from .factories import make_site, make_young_person


def _summary(html: str) -> list[tuple[str, str]]:
    """(link target, text) of each line of the error summary."""
    block = re.search(
        r'<div class="alert alert-danger error-summary" id="erreurs".*?</div>', html, re.S
    )
    assert block, "no error summary"
    assert 'role="alert"' in block.group(0) and 'tabindex="-1"' in block.group(0)
    return [
        (target, re.sub(r"\s+", " ", text).strip())
        for target, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', block.group(0), re.S)
    ]


def _field(html: str, field_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert match, f"no field {field_id}"
    return match.group(0)


class _Form(Form):
    name = StringField("Nom", validators=[InputRequired("Obligatoire.")])
    city = StringField("Ville")


def test_error_items_lists_and_marks_the_invalid_fields_only():
    form = _Form()
    assert has_required(form)
    assert not form.validate()
    items = error_items(form)
    assert [(i.target, i.label, i.message) for i in items] == [("name", "Nom", "Obligatoire.")]
    assert 'aria-invalid="true"' in form.name() and 'aria-describedby="erreur-name"' in form.name()
    assert "aria-invalid" not in form.city()
    # Whatever a template calls it on: nothing for a list page's None or posted values.
    assert error_items(None) == [] and error_items({"a": "b"}) == []
    assert not has_required({"a": "b"})
    assert [(i.target, i.message) for i in wizard_items({"duration_minutes": "Trop long."})] == [
        ("duration_minutes", "Trop long.")
    ]


def test_a_generated_form_in_error_opens_on_a_linked_summary(client, auth):
    site = make_site(name="Antenne Test")
    auth.login(role="counsellor", site=site)
    html = client.post("/admin/youngperson/new/", data={"first_name": "Léa"}).get_data(as_text=True)
    lines = _summary(html)
    targets = [target for target, _ in lines]
    assert "last_name" in targets and "birth_date" in targets and "first_name" not in targets
    assert dict(lines)["last_name"].startswith("Nom :")
    for target in targets:  # each line leads to its field, which points back at the line
        field = _field(html, target)
        assert 'aria-invalid="true"' in field and f'aria-describedby="erreur-{target}"' in field
        assert f'id="erreur-{target}"' in html
    assert "aria-invalid" not in _field(html, "first_name")
    assert html.count("sont obligatoires.") == 1
    # Before the errors, the untouched form explains the asterisk once and has no summary.
    blank = client.get("/admin/youngperson/new/").get_data(as_text=True)
    assert 'id="erreurs"' not in blank and blank.count("sont obligatoires.") == 1


def test_the_sign_in_form_in_error_has_the_summary(client):
    html = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    targets = [target for target, _ in _summary(html)]
    assert targets == ["email", "password"]
    assert 'aria-describedby="erreur-email"' in _field(html, "email")


@pytest.fixture
def draft(client, auth):
    site = make_site(name="Antenne Test")
    counsellor = auth.login(role="counsellor", site=site)
    db.session.add(DiagnosisDomain(code="logement", name="Logement", position=1))
    db.session.commit()
    youth = make_young_person(site=site, referent=counsellor)
    client.post(f"/admin/interviews/new/{youth.id}")
    return db.session.scalar(sa.select(Interview).where(Interview.status == "draft"))


def test_a_wizard_step_in_error_links_each_message_to_its_field(client, draft):
    html = client.post(
        f"/admin/interviews/{draft.id}/step/2",
        data={"go": "stay", "starts_at": "", "duration_minutes": "mille", "channel": "x"},
    ).get_data(as_text=True)
    lines = dict(_summary(html))
    assert set(lines) == {"starts_at", "duration_minutes", "channel", "kind", "attendance"}
    assert "1 à 600" in lines["duration_minutes"]
    assert lines["channel"] == "Canal : choix invalide."  # says which field, not just "invalid"
    for target in lines:
        field = _field(html, target)
        assert f'aria-describedby="erreur-{target}"' in field and 'aria-invalid="true"' in field
        assert html.count(f'id="erreur-{target}"') == 1  # the message under the field


def test_the_wizard_groups_its_radio_buttons_under_a_legend(client, draft):
    html = client.get(f"/admin/interviews/{draft.id}/step/5").get_data(as_text=True)
    group = re.search(
        r"<fieldset[^>]*>\s*<legend[^>]*>([^<]*)</legend>(.*?)</fieldset>", html, re.S
    )
    assert group and "Autonomie" in group.group(1)
    assert group.group(2).count('name="autonomy_level"') == 4
    diagnosis = client.get(f"/admin/interviews/{draft.id}/step/2").get_data(as_text=True)
    assert re.search(
        r'<fieldset class="card[^"]*diagnosis-domain">\s*<legend[^>]*>Logement\s', diagnosis
    )
