"""Seed data: is the catalogue real and loadable twice, and is the demo deterministic?"""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.domain.people import siret_is_valid
from backoffice.extensions import db
from backoffice.models import (
    AidType,
    DiagnosisDomain,
    DiagnosisSituation,
    Partner,
    Programme,
    Theme,
    User,
    YoungPerson,
)
from seed.catalogue import load_catalogue
from seed.demo import seed_demo

from .factories import make_young_person


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_catalogue_holds_the_toolbox_of_the_seed_text(app):
    load_catalogue(db.session)
    names = " ".join(db.session.scalars(sa.select(AidType.name)))
    for word in (
        "Tickets de transport",
        "POP",
        "Parrainage",
        "Plate-forme linguistique",
        "Parcours de mobilisation",
        "Pôle qualifiant",
        "première évaluation",
        "FAJ",
    ):
        assert word in names
    kinds = set(db.session.scalars(sa.select(Partner.kind)))
    assert {"doctor", "psychologist", "language_platform", "sponsorship"} <= kinds
    domains = set(db.session.scalars(sa.select(DiagnosisDomain.name)))
    assert {"Logement", "Santé", "Mobilité", "Numérique", "Maîtrise de la langue française"} <= (
        domains
    )
    assert _count(Theme) == 7


def test_catalogue_sirets_are_valid_and_aids_link_their_partner(app):
    load_catalogue(db.session)
    for siret in db.session.scalars(sa.select(Partner.siret).where(Partner.siret.is_not(None))):
        assert siret_is_valid(siret)
    psy = db.session.scalar(sa.select(AidType).where(AidType.code == "CONSULT-PSY"))
    assert psy.partner.kind == "psychologist"


def test_catalogue_loads_twice_without_duplicates(app):
    first = load_catalogue(db.session)
    counts = [_count(m) for m in (AidType, Partner, DiagnosisDomain, DiagnosisSituation, Theme)]
    second = load_catalogue(db.session)
    assert all(n > 0 for n in first.values())
    assert all(n == 0 for n in second.values())
    assert counts == [
        _count(m) for m in (AidType, Partner, DiagnosisDomain, DiagnosisSituation, Theme)
    ]


def _people():
    return db.session.execute(
        sa.select(YoungPerson.last_name, YoungPerson.first_name, YoungPerson.birth_date).order_by(
            YoungPerson.id
        )
    ).all()


def test_demo_is_deterministic_idempotent_and_grows(app):
    load_catalogue(db.session)
    assert seed_demo(db.session, 40)["young_people"] == 40
    first_forty = _people()
    assert seed_demo(db.session, 40)["young_people"] == 0
    assert _count(YoungPerson) == 40
    assert seed_demo(db.session, 60)["young_people"] == 20
    assert _people()[:40] == first_forty
    # Demo rows carry explicit ids; a record added afterwards still gets a fresh one.
    newcomer = make_young_person(last_name="Après")
    assert newcomer.id > 60


def test_histories_are_idempotent_and_streamed_in_chunks(app, monkeypatch):
    """Histories are written a chunk at a time; a second run adds nothing, even for the young
    people too new to have had an interview; the same person gets the same history whatever
    the chunking."""
    import seed.demo as demo
    from backoffice.models import Interview

    load_catalogue(db.session)
    seed_demo(db.session, 90)
    monkeypatch.setattr(demo, "HISTORY_CHUNK", 7)
    made = demo.seed_histories(db.session, 60)
    assert made["interviews"] > 60 and 0 < made["young_people"] <= 60
    chunked = db.session.execute(
        sa.select(Interview.young_person_id, Interview.starts_at).order_by(Interview.id)
    ).all()
    assert demo.seed_histories(db.session, 60) == {"interviews": 0, "young_people": 0}
    db.session.execute(sa.delete(Interview))
    db.session.commit()
    monkeypatch.setattr(demo, "HISTORY_CHUNK", 2000)
    demo.seed_histories(db.session, 60)
    whole = db.session.execute(
        sa.select(Interview.young_person_id, Interview.starts_at).order_by(Interview.id)
    ).all()
    assert whole == chunked


def test_demo_people_are_consistent(app):
    load_catalogue(db.session)
    seed_demo(db.session, 200)
    people = db.session.scalars(sa.select(YoungPerson)).all()
    assert all(p.referent is None or p.referent.site_id == p.site_id for p in people)
    assert all(p.status != "exited" or p.exit_date for p in people)
    assert {p.status for p in people} == {"active", "on_hold", "exited"}
    assert _count(Programme) > 50
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {"admin", "counsellor", "manager"}


def test_demo_referrals_and_aid_requests_cover_every_state(app):
    from backoffice.domain import vocabularies as vocab
    from backoffice.models import AidRequest, Referral, WorkflowEvent
    from seed.demo import seed_workflows

    load_catalogue(db.session)
    seed_demo(db.session, 300)
    seed_workflows(db.session, 200)
    assert set(db.session.scalars(sa.select(Referral.status))) == set(vocab.REFERRAL_STATES.codes)
    assert set(db.session.scalars(sa.select(AidRequest.status))) == set(
        vocab.AID_REQUEST_STATES.codes
    )
    assert _count(WorkflowEvent) > 100
    assert seed_workflows(db.session, 200) == {"referrals": 0, "aid_requests": 0}
