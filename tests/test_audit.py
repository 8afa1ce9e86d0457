"""Audit trail: does every change, by any path, leave who, when and what — and nothing else?"""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.domain import audit
from backoffice.extensions import db
from backoffice.models import AuditEvent, Partner, Theme
from seed.catalogue import load_catalogue
from seed.demo import seed_demo

from .factories import make_partner, make_site, make_user, make_young_person


def _events(**where):
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, key) == value)
    return db.session.scalars(stmt).all()


def test_a_screen_creation_is_recorded_with_its_author(client, admin):
    client.post(
        "/admin/partner/new/", data={"name": "Atelier Bois", "kind": "employer", "city": "Lyon"}
    )
    partner = db.session.scalar(sa.select(Partner))
    [event] = _events(entity="partner", action="insert")
    assert event.actor_id == admin.id and event.actor_label == admin.email
    assert event.entity_id == partner.id
    assert event.changes["name"] == "Atelier Bois" and event.changes["kind"] == "employer"


def test_a_screen_update_records_each_changed_field(client, admin):
    partner = make_partner(name="Avant", city="Lyon")
    client.post(
        f"/admin/partner/edit/?id={partner.id}",
        data={
            "name": "Après",
            "kind": partner.kind,
            "city": "Lyon",
            "active": "y",
            "loaded_version": "1",
        },
    )
    [event] = _events(entity="partner", action="update")
    assert event.changes == {"name": ["Avant", "Après"]}
    assert event.actor_id == admin.id and event.record_version == 2


def test_a_screen_delete_keeps_what_was_deleted(client, admin):
    partner = make_partner(name="Parti", city="Bron")
    client.post("/admin/partner/delete/", data={"id": partner.id})
    [event] = _events(entity="partner", action="delete")
    assert event.entity_id == partner.id
    assert event.changes["name"] == "Parti" and event.changes["city"] == "Bron"


def test_many_to_many_changes_are_recorded(app):
    emploi, sante = Theme(code="emploi", name="Emploi"), Theme(code="sante", name="Santé")
    partner = make_partner(themes=[emploi])
    db.session.add(sante)
    partner.themes.append(sante)
    db.session.commit()
    [event] = _events(entity="partner", action="update")
    assert event.changes["themes"] == [["Emploi"], ["Emploi", "Santé"]]


def test_password_hashes_never_reach_the_trail(client, admin):
    client.post(
        "/admin/account/new/",
        data={
            "full_name": "Nouvelle",
            "email": "nouvelle@example.org",
            "role": "counsellor",
            "active": "y",
            "locale": "fr",
            "new_password": "un mot de passe très long",
        },
    )
    created = _events(entity="user_account", action="insert")[-1]
    assert created.changes["password_hash"] == audit.HIDDEN
    text = str([e.changes for e in _events()])
    assert "scrypt" not in text and "pbkdf2" not in text


def test_cli_writes_are_attributed_to_the_command(runner):
    runner.invoke(
        args=[
            "create-user",
            "c@example.org",
            "--role",
            "admin",
            "--password",
            "un long mot de passe",
            "--site",
            "Antenne Ouest",
        ]
    )
    labels = {e.actor_label for e in _events()}
    assert labels == {"cli:create-user"}
    assert {e.entity for e in _events()} == {"user_account", "site"}


def test_bulk_loads_record_their_own_event(app):
    audit.set_actor(db.session, None, "cli:seed-demo")
    load_catalogue(db.session)
    seed_demo(db.session, 30)
    [bulk] = _events(action="bulk_insert")
    assert bulk.entity == "young_person" and bulk.changes["count"] == 30
    assert bulk.actor_label == "cli:seed-demo"


def test_a_rolled_back_change_leaves_no_event(app):
    partner = make_partner(name="Stable")
    before = len(_events())
    partner.name = "Jamais"
    db.session.flush()
    db.session.rollback()
    assert len(_events()) == before


def test_the_history_tab_shows_changes_and_authors(client, admin):
    youth = make_young_person(city="Lyon")
    youth.city = "Bron"
    db.session.commit()
    page = client.get(f"/admin/youngperson/details/?id={youth.id}&tab=history")
    body = page.get_data(as_text=True)
    assert "Historique" in body and "Modification" in body and "Création" in body
    assert "<del>Lyon</del> → Bron" in body


def test_the_journal_filters_by_actor_and_entity(client, admin):
    make_site(name="Antenne Journal")
    make_partner(name="Partenaire Journal")
    admin_view = next(
        v
        for v in client.application.extensions["admin"][0]._views
        if getattr(v, "endpoint", "") == "audit"
    )
    key = next(
        k
        for k, (_i, f) in admin_view._filter_args.items()
        if getattr(f.column, "key", "") == "entity" and type(f).__name__.endswith("Equal")
    )
    body = client.get(f"/admin/audit/?flt0_{key}=partner").get_data(as_text=True)
    assert "Partenaire Journal" in body and "Antenne Journal" not in body


def test_nobody_edits_or_deletes_the_journal(client, admin):
    make_partner()
    event_id = _events()[0].id
    assert client.post("/admin/audit/delete/", data={"id": event_id}).status_code == 403
    assert client.post(f"/admin/audit/edit/?id={event_id}", data={}).status_code == 403
    assert (
        client.post(
            "/admin/audit/action/", data={"action": "delete", "rowid": event_id}
        ).status_code
        == 403
    )
    assert db.session.get(AuditEvent, event_id) is not None


def test_a_young_person_created_by_a_counsellor_names_them(client, auth):
    site = make_site()
    me = auth.login(make_user(role="counsellor", site=site))
    client.post(
        "/admin/youngperson/new/",
        data={
            "last_name": "Audité",
            "first_name": "Jean",
            "birth_date": "2005-05-05",
            "site": str(site.id),
            "status": "active",
            "registration_date": "2025-01-01",
        },
    )
    [event] = _events(entity="young_person", action="insert")
    assert event.actor_id == me.id
