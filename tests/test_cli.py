"""CLI: can an operator create accounts and load data from the command line?"""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.extensions import db
from backoffice.models import Site, User, YoungPerson


def test_create_user_with_password_and_new_site(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Chef@Example.org",
            "--role",
            "manager",
            "--site",
            "Antenne Est",
            "--password",
            "un long mot de passe",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "chef@example.org"))
    assert user.role == "manager" and user.site.name == "Antenne Est"
    assert user.check_password("un long mot de passe")


def test_create_user_prompts_for_a_hidden_password(runner):
    result = runner.invoke(
        args=["create-user", "c@example.org", "--role", "counsellor"],
        input="un long mot de passe\nun long mot de passe\n",
    )
    assert result.exit_code == 0, result.output
    assert "un long mot de passe" not in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "c@example.org"))
    assert user.check_password("un long mot de passe")


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["create-user", "c@example.org", "--role", "admin", "--password", "court"]
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_user_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "c@example.org",
            "--role",
            "boss",
            "--password",
            "un long mot de passe",
        ]
    )
    assert result.exit_code == 2


def test_seed_demo_then_bootstrap_prints_the_logins(runner):
    result = runner.invoke(args=["seed-demo", "--youths", "25"])
    assert result.exit_code == 0, result.output
    assert "25 jeunes" in result.output
    result = runner.invoke(args=["demo-bootstrap"])
    assert "admin@demo.mission-locale.fr" in result.output
    assert "demo-mission-locale" in result.output
    assert db.session.scalar(sa.select(sa.func.count(YoungPerson.id))) == 25
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 4


def test_bootstrap_on_an_empty_database_loads_the_demo(runner):
    result = runner.invoke(args=["demo-bootstrap", "--youths", "10"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count(YoungPerson.id))) == 10


def test_progress_refresh_recomputes_the_kept_state(app, runner):
    """The CLI rebuilds ``stalling`` / ``last_interview_at`` and the chain of held interviews
    from the interviews (a state damaged by hand, or a rule changed, is put right); the chain
    it computes is the one the demo's bulk loader wrote."""
    import sqlalchemy as sa

    from backoffice.extensions import db
    from backoffice.models import Interview, YoungPerson
    from seed.catalogue import load_catalogue
    from seed.demo import seed_demo, seed_histories

    load_catalogue(db.session)
    seed_demo(db.session, 60)
    seed_histories(db.session, 60)
    kept = dict(db.session.execute(sa.select(YoungPerson.id, YoungPerson.stalling)).all())
    assert any(kept.values())
    chain = (
        Interview.id,
        Interview.previous_held_at,
        Interview.previous_assessed_at,
        Interview.next_assessed_at,
    )
    seeded = db.session.execute(sa.select(*chain).order_by(Interview.id)).all()
    assert any(row.next_assessed_at for row in seeded)
    db.session.execute(sa.update(YoungPerson).values(stalling=None, last_interview_at=None))
    db.session.execute(
        sa.update(Interview).values(
            previous_held_at=None, previous_assessed_at=None, next_assessed_at=None
        )
    )
    db.session.commit()
    result = runner.invoke(args=["progress-refresh"])
    assert result.exit_code == 0, result.output
    assert "60 jeunes recalculés" in result.output
    db.session.expire_all()
    assert dict(db.session.execute(sa.select(YoungPerson.id, YoungPerson.stalling)).all()) == kept
    assert db.session.execute(sa.select(*chain).order_by(Interview.id)).all() == seeded
