"""Data protection (issue #16, access and erasure): the export holds every record of the young
person and none of another's; the anonymisation leaves no personal value anywhere in the
database, keeps the report's figures, and is refused without a reason or twice."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from backoffice.domain import gdpr, reporting
from backoffice.extensions import db
from backoffice.models import Action, Consultation, Interview, Referral, YoungPerson

from .factories import make_user
from .test_reporting import YEAR, world  # noqa: F401 - the hand-built dataset

NAME, FIRST, EMAIL, PHONE = "Zébulonneau", "Philémon", "philemon.z@example.org", "06 98 76 54 32"


def _a1(world):  # noqa: F811
    """The first young person of site A, given an identity easy to look for everywhere."""
    person = db.session.scalars(
        sa.select(YoungPerson).where(YoungPerson.site_id == world["A"]).order_by(YoungPerson.id)
    ).first()
    person.last_name, person.first_name, person.email, person.phone = NAME, FIRST, EMAIL, PHONE
    person.address = "12 rue des Acacias"
    interview = db.session.scalar(
        sa.select(Interview).where(Interview.young_person_id == person.id).limit(1)
    )
    interview.public_summary = f"{FIRST} a trouvé un CDI."
    interview.private_notes = "Note privée du conseiller"
    interview.pending = {"actions": {"1": {"choice": "done", "note": f"{FIRST} l'a fait"}}}
    db.session.add(
        Action(
            young_person_id=person.id,
            set_at_id=interview.id,
            what=f"Appeler {FIRST} {NAME} au {PHONE}",
        )
    )
    referral = db.session.scalar(sa.select(Referral).where(Referral.young_person_id == person.id))
    referral.reason = f"{FIRST} souhaite un accompagnement santé"
    referral.answer_nonce = "secret-nonce"
    db.session.commit()
    return person


def test_the_export_holds_every_record_of_the_young_person_and_no_one_elses(app, world):  # noqa: F811
    person = _a1(world)
    data = gdpr.export_zip(db.session, person.id, None)
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(data))
    record = json.loads(archive.read("donnees.json"))
    assert record["young_person"][0]["last_name"] == NAME
    for table, rows in record.items():
        key = "id" if table == "young_person" else "young_person_id"
        assert all(row[key] == person.id for row in rows), table
    expected = {
        "interview": 3,
        "proposal": 1,
        "action": 3,
        "situation": 1,
        "referral": 1,
        "aid_request": 1,
        "programme": 1,
    }
    assert {t: len(record[t]) for t in expected} == expected
    assert all("private_notes" not in row for row in record["interview"])
    assert all("answer_nonce" not in row for row in record["referral"])
    assert "Note privée" not in archive.read("donnees.json").decode()
    assert {"interview.csv", "lisez-moi.txt"} <= set(archive.namelist())
    assert archive.read("interview.csv").decode("utf-8-sig").startswith("id;")
    logged = db.session.scalar(
        sa.select(Consultation.kind).where(Consultation.young_person_id == person.id)
    )
    assert logged == "export"


def _every_text(session) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text or JSON value in the database."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.c:
            if isinstance(column.type, sa.String | sa.Text | sa.JSON):
                value = sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
                for (text,) in session.execute(sa.select(value).where(column.is_not(None))):
                    found.append((table.name, column.key, str(text)))
    return found


def test_anonymisation_leaves_no_personal_value_and_keeps_the_figures(app, world):  # noqa: F811
    person = _a1(world)
    before = {
        s.indicator.key: (s.current.rows, s.previous.rows)
        for s in reporting.report(db.session, YEAR, None).sections
    }
    assert any(NAME in text for _t, _c, text in _every_text(db.session))  # the trail has it too
    gdpr.anonymise(db.session, person.id, "Demande d'effacement", "le jeune, par courrier", None)
    db.session.commit()
    db.session.expire_all()
    leaks = [
        (table, column)
        for table, column, text in _every_text(db.session)
        for secret in (NAME, FIRST, EMAIL, PHONE, "Acacias", "accompagnement santé")
        if secret.lower() in text.lower()
    ]
    assert leaks == []
    person = db.session.get(YoungPerson, person.id)
    assert person.birth_date.month == person.birth_date.day == 1
    assert person.anonymised_at is not None
    after = {
        s.indicator.key: (s.current.rows, s.previous.rows)
        for s in reporting.report(db.session, YEAR, None).sections
    }
    assert after == before  # counts, codes, dates and amounts are kept
    with pytest.raises(gdpr.AnonymisationRefused, match="déjà"):
        gdpr.anonymise(db.session, person.id, "encore", "moi", None)


def test_anonymisation_needs_a_reason_and_who_asked(app, world):  # noqa: F811
    person = _a1(world)
    for reason, who in (("", "le jeune"), ("Demande", " ")):
        with pytest.raises(gdpr.AnonymisationRefused):
            gdpr.anonymise(db.session, person.id, reason, who, None)
    assert db.session.get(YoungPerson, person.id).last_name == NAME


def test_the_cli_exports_and_anonymises(app, world, runner, tmp_path):  # noqa: F811
    person = _a1(world)
    output = tmp_path / "jeune.zip"
    result = runner.invoke(args=["gdpr-export", str(person.id), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "donnees.json" in zipfile.ZipFile(output).namelist()
    assert runner.invoke(args=["gdpr-export", "999999", "-o", str(output)]).exit_code != 0
    result = runner.invoke(
        args=["gdpr-anonymise", str(person.id), "--reason", "Fin de conservation"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(YoungPerson, person.id).last_name == "ANONYME"
    again = runner.invoke(args=["gdpr-anonymise", str(person.id), "--reason", "x"])
    assert again.exit_code != 0 and "déjà" in again.output


def test_the_referent_and_admins_only_see_and_export_the_record(client, auth, world):  # noqa: F811
    person = _a1(world)
    referent = make_user(role="counsellor", site_id=world["A"])
    person.referent_id = referent.id
    db.session.commit()
    auth.login(make_user(role="counsellor", site_id=world["A"]))
    assert client.get(f"/admin/interviews/file/{person.id}/donnees").status_code == 403
    auth.logout()
    auth.login(referent)
    page = client.get(f"/admin/interviews/file/{person.id}/donnees").get_data(as_text=True)
    assert NAME in page and "Note privée" not in page and 'id="anonymise"' not in page
    response = client.get(f"/admin/interviews/file/{person.id}/donnees.zip")
    assert response.mimetype == "application/zip"
    assert client.post(f"/admin/interviews/file/{person.id}/anonymiser").status_code == 403


def test_an_admin_anonymises_from_the_screen_once_it_is_confirmed(client, admin, world):  # noqa: F811
    person = _a1(world)
    url = f"/admin/interviews/file/{person.id}/anonymiser"
    form = {"reason": "Demande d'effacement", "requested_by": "le jeune"}
    refused = client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Cochez la case" in refused and NAME in refused
    client.post(url, data={**form, "definitive": "1"})
    db.session.expire_all()
    assert db.session.get(YoungPerson, person.id).last_name == "ANONYME"
    kinds = set(
        db.session.scalars(
            sa.select(Consultation.kind).where(Consultation.young_person_id == person.id)
        )
    )
    assert kinds == {"view", "anonymise"}


def test_the_register_describes_every_table_and_field_of_the_model():
    """Regenerate it with ``flask gdpr-register`` when the model changes."""
    from pathlib import Path

    written = Path(__file__).parent.parent / "docs" / "registre-des-traitements.md"
    assert written.read_text(encoding="utf-8") == gdpr.register_markdown()
    assert "private_notes (sensible)" in gdpr.register_markdown()


def test_a_table_the_register_does_not_describe_stops_it(monkeypatch):
    monkeypatch.delitem(gdpr.REGISTER, "situation")
    with pytest.raises(KeyError, match="situation"):
        gdpr.register_markdown()


# --- retention ---------------------------------------------------------------------------------


def _person(**kw):
    import datetime as dt

    from .factories import make_young_person

    defaults = {"registration_date": dt.date(2020, 1, 1)}
    return make_young_person(**{**defaults, **kw})


def test_retention_lists_exactly_the_expired_cases_then_applies_once(app, runner):
    import datetime as dt

    from backoffice.models import AuditEvent

    today = dt.date.today()
    long_ago = dt.datetime.combine(today, dt.time()) - dt.timedelta(days=3 * 365)
    old = _person(last_name="Ancien", last_interview_at=long_ago)
    left = _person(
        last_name="Parti",
        status="exited",
        exit_reason="moved",
        exit_date=today.replace(year=today.year - 3),
    )
    _person(last_name="Récent", last_interview_at=dt.datetime.combine(today, dt.time()))
    _person(last_name="Sorti récemment", status="exited", exit_reason="moved", exit_date=today)
    _person(last_name="Inscrit récemment", registration_date=today)
    kept = _person(last_name="Prolongé", last_interview_at=long_ago)
    gdpr.extend_retention(kept, today + dt.timedelta(days=90), "dossier d'aide en cours", today)
    db.session.add(
        AuditEvent(
            at=long_ago, actor_label="x", action="insert", entity="site", entity_id=1, changes={}
        )
    )
    db.session.commit()

    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"jeune n°{old.id} à anonymiser" in dry.output
    assert f"jeune n°{left.id} à anonymiser" in dry.output
    assert "2 jeune(s) à anonymiser" in dry.output and "1 ligne(s) du journal" in dry.output
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(YoungPerson.anonymised_at.is_not(None)))
        == 0
    )

    applied = runner.invoke(args=["retention", "--apply"])
    assert applied.exit_code == 0, applied.output
    db.session.expire_all()
    anonymised = set(
        db.session.scalars(sa.select(YoungPerson.id).where(YoungPerson.anonymised_at.is_not(None)))
    )
    assert anonymised == {old.id, left.id}
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.at < long_ago + dt.timedelta(days=1))
        )
        == 0
    )
    again = runner.invoke(args=["retention", "--apply"])
    assert "0 jeune(s) anonymisé(s)" in again.output and "0 ligne(s) du journal" in again.output


def test_the_admin_sees_the_coming_month_and_extends_with_a_reason(client, admin):
    import datetime as dt

    today = dt.date.today()
    soon = dt.datetime.combine(today.replace(year=today.year - 2), dt.time()) + dt.timedelta(
        days=10
    )
    person = _person(last_name="Bientôt", last_interview_at=soon)
    page = client.get("/admin/rgpd/").get_data(as_text=True)
    link = f"/admin/interviews/file/{person.id}"
    assert link in page[page.index('id="upcoming"') : page.index('id="today"')]
    url = f"/admin/rgpd/prolonger/{person.id}"
    refused = client.post(url, data={"until": "", "note": "x"}, follow_redirects=True)
    assert "Une date à venir" in refused.get_data(as_text=True)
    refused = client.post(url, data={"until": "2099-01-01", "note": " "}, follow_redirects=True)
    assert "Dites pourquoi" in refused.get_data(as_text=True)
    client.post(url, data={"until": "2099-01-01", "note": "dossier d'aide en cours"})
    db.session.expire_all()
    assert db.session.get(YoungPerson, person.id).retention_until == dt.date(2099, 1, 1)
    assert link not in client.get("/admin/rgpd/").get_data(as_text=True).split('id="today"')[0]


def test_counsellors_do_not_reach_the_retention_screen(client, auth):
    auth.login(role="counsellor", site=make_user().site)
    assert client.get("/admin/rgpd/").status_code == 403


# --- consents and the information notice ---------------------------------------------------------


def test_consents_by_purpose_are_recorded_then_withdrawn(client, counsellor, youth):
    import datetime as dt

    from backoffice.models import Consent

    from .factories import make_partner

    partner = make_partner(name="Cap emploi")
    url = f"/admin/interviews/file/{youth.id}/consent"
    refused = client.post(
        url,
        data={"purpose": "sharing", "method": "oral", "given_on": "2026-11-01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "partenaire nommé" in refused
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    refused = client.post(
        url, data={"purpose": "sms", "method": "oral", "given_on": tomorrow}, follow_redirects=True
    ).get_data(as_text=True)
    assert "daté de demain" in refused
    client.post(url, data={"purpose": "sms", "method": "written", "given_on": "01/11/2026"})
    client.post(
        url,
        data={
            "purpose": "sharing",
            "method": "signed",
            "given_on": "2026-11-02",
            "partner": str(partner.id),
        },
    )
    consents = db.session.scalars(sa.select(Consent).order_by(Consent.id)).all()
    assert [(c.purpose, c.method, c.recorded_by_id) for c in consents] == [
        ("sms", "written", counsellor.id),
        ("sharing", "signed", counsellor.id),
    ]
    assert consents[1].partner_id == partner.id
    page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Être contacté par SMS" in page and "Cap emploi" in page
    client.post(f"/admin/interviews/file/{youth.id}/consent/{consents[0].id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Consent, consents[0].id).withdrawn_on == dt.date.today()
    again = client.post(
        f"/admin/interviews/file/{youth.id}/consent/{consents[0].id}/withdraw",
        follow_redirects=True,
    )
    assert "déjà retiré" in again.get_data(as_text=True)
    record = gdpr.record_of(db.session, youth.id)
    assert [c["purpose"] for c in record["consent"]] == ["sms", "sharing"]  # in the export


def test_the_information_notice_says_how_long_and_whom_to_write_to(client, counsellor, youth, app):
    app.config["DPO_CONTACT"] = "dpo@ma-mission-locale.fr"
    page = client.get(f"/admin/interviews/file/{youth.id}/notice").get_data(as_text=True)
    assert "2 ans après notre dernier contact" in page and "dpo@ma-mission-locale.fr" in page
    assert "CNIL" in page


def test_list_exports_leave_sensitive_fields_to_the_roles_that_need_them(client, auth):
    from .factories import make_young_person

    person = make_young_person(rqth=True)
    person_id, site_id = person.id, person.site_id
    auth.login(role="manager", site_id=site_id)
    managers = client.get("/admin/youngperson/export/csv/").get_data(as_text=True)
    header = managers.splitlines()[0]
    assert "RQTH" not in header and "Nom" in header
    auth.logout()
    auth.login(role="admin")
    admins = client.get("/admin/youngperson/export/csv/").get_data(as_text=True)
    assert "RQTH" in admins.splitlines()[0]
    history = client.get(f"/admin/youngperson/details/?id={person_id}&tab=history")
    assert history.status_code == 200
