"""Indexed search of the young people (issue #11): accents, case and phone punctuation ignored,
kept in step on every write path, answered from the index (FTS5 trigram / pg_trgm)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from backoffice.domain import search
from backoffice.domain.csvio import run_import, spec_for
from backoffice.extensions import db
from backoffice.models import YoungPerson

from .factories import make_site, make_young_person


def test_normalise_and_terms():
    assert search.normalise("Lætitia D'ARC-Émond") == "laetitia d arc-emond"
    assert (
        search.text_for(
            {"last_name": "Éloïse", "phone": "+33 6 30 13 45 67", "email": "E.Loise@Ex.fr"},
            ("last_name", "email", "phone"),
        )
        == "eloise e.loise@ex.fr 0630134567"
    )
    assert search.terms("06 30 13") == ["063013"]
    assert search.terms("+33 6 30") == ["0630"]
    assert search.terms("  Martin   ÉMILIE ") == ["martin", "emilie"]
    assert search.terms("100%_x") == ["100", "x"]  # no LIKE wildcard reaches the database
    assert search.terms("   ") == []


def _names(client, query: str) -> set[str]:
    page = client.get("/admin/youngperson/", query_string={"search": query})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    names = re.findall(r"\b(Personne|Amrani|Martin|Dupont|Lefèvre)\b", html)
    return {search.normalise(n).upper() for n in names}


@pytest.fixture
def people(admin):
    site = make_site()
    make_young_person(
        site=site,
        last_name="Personne",
        first_name="Émilie",
        email="emilie.p@example.fr",
        phone="06 30 13 45 67",
        city="Vénissieux",
    )
    make_young_person(
        site=site,
        last_name="Amrani",
        first_name="Inès",
        email="ines.amrani@example.fr",
        phone="07 81 22 33 44",
        city="Lyon",
    )
    make_young_person(
        site=site, last_name="Martin", first_name="Emile", email=None, phone=None, city="Bron"
    )
    return site


@pytest.mark.parametrize(
    "query, found",
    [
        ("emilie", {"PERSONNE"}),
        ("ÉMILIE", {"PERSONNE"}),
        ("ines", {"AMRANI"}),
        ("emil", {"PERSONNE", "MARTIN"}),
        ("06 30 13", {"PERSONNE"}),
        ("063013", {"PERSONNE"}),
        ("+33 6 30 13 45", {"PERSONNE"}),
        ("06.30.13.45.67", {"PERSONNE"}),
        ("ines.amrani@", {"AMRANI"}),
        ("venissieux", {"PERSONNE"}),
        ("martin emile", {"MARTIN"}),
        ("martin ines", set()),
        ("zz", set()),
        ("ly", {"AMRANI"}),  # shorter than a trigram: still found (by a scan of the index)
        ("%", {"PERSONNE", "AMRANI", "MARTIN"}),  # a wildcard is no term: every one
    ],
)
def test_search_ignores_accents_case_and_phone_punctuation(client, people, query, found):
    assert _names(client, query) == found


def test_the_count_follows_the_search(client, people):
    html = client.get("/admin/youngperson/?search=emil").get_data(as_text=True)
    assert re.search(r"\b2\b", html)  # "2" results shown in the list's count


def test_kept_in_step_on_every_write_path(client, people, app):
    # 1. a form (the admin screen's edit)
    record = db.session.scalar(sa.select(YoungPerson).where(YoungPerson.last_name == "Martin"))
    record.last_name = "Lefèvre"
    db.session.commit()
    assert _names(client, "lefevre") == {"LEFEVRE"} and _names(client, "martin") == set()
    # 2. the CSV import: a new record, and an update of an existing one by its natural key
    spec = spec_for("youths")
    headers = [f.header for f in spec.fields(db.session)]
    inès = db.session.scalar(sa.select(YoungPerson).where(YoungPerson.last_name == "Amrani"))

    def line(**cells):
        row = dict(zip(headers, spec.example, strict=True))
        row.update({"Antenne": people.name, "Référent (e-mail)": "", **cells})
        return ";".join(row[h] for h in headers)

    lines = [
        ";".join(headers),
        line(
            Nom="Dupont",
            Prénom="Zoé",
            **{"Date de naissance": "01/02/2005"},
            **{"E-mail": "zoe@example.fr", "Téléphone": "06 55 44 33 22", "Ville": "Givors"},
        ),
        line(
            Nom="Amrani",
            Prénom="Inès",
            **{"Date de naissance": inès.birth_date.strftime("%d/%m/%Y")},
            **{"E-mail": "ines.amrani@example.fr", "Téléphone": "06 11 22 33 44", "Ville": "Lyon"},
        ),
    ]
    report = run_import(db.session, spec, "\n".join(lines).encode(), "j.csv", commit=True)
    assert report.written and (report.created, report.updated) == (1, 1), report.as_dict()
    assert _names(client, "givors") == {"DUPONT"} and _names(client, "zoe") == {"DUPONT"}
    assert _names(client, "06 11 22") == {"AMRANI"} and _names(client, "07 81 22") == set()
    # 3. a deletion leaves nothing behind in the index
    db.session.delete(db.session.scalar(sa.select(YoungPerson).where(YoungPerson.city == "Givors")))
    db.session.commit()
    assert _names(client, "givors") == set()
    stored = db.session.scalars(sa.select(YoungPerson.search_text).order_by(YoungPerson.id)).all()
    assert stored == [
        search.text_for(
            {c: getattr(y, c) for c in search.sources_of(YoungPerson.__table__)},
            search.sources_of(YoungPerson.__table__),
        )
        for y in db.session.scalars(sa.select(YoungPerson).order_by(YoungPerson.id))
    ]


def test_the_search_uses_the_index(app):
    """The plan of a name search goes through the FTS table (SQLite) or the trigram index
    (PostgreSQL), never a walk of the whole table."""
    site = make_site()
    day, now = dt.date(2005, 1, 1), dt.datetime(2025, 1, 1)
    rows = [
        {
            "last_name": f"Nom{i}",
            "first_name": "Léa",
            "birth_date": day,
            "site_id": site.id,
            "status": "active",
            "registration_date": day,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "rqth": False,
            "qpv_resident": False,
            "driving_licence": False,
            "has_vehicle": False,
        }
        for i in range(2000)
    ]
    search.fill_rows(YoungPerson.__table__, rows)
    db.session.execute(sa.insert(YoungPerson.__table__), rows)
    db.session.commit()
    dialect = db.engine.dialect.name
    query = (
        sa.select(YoungPerson.id)
        .where(search.matching(YoungPerson, "nom1234", dialect))
        .order_by(YoungPerson.last_name, YoungPerson.first_name)
        .limit(20)
    )
    compiled = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        if dialect == "sqlite":
            plan = " | ".join(
                r[-1] for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled)
            )
            assert "young_person_search VIRTUAL TABLE" in plan, plan
            assert not re.search(r"SCAN young_person\b(?!_search)", plan), plan
        else:
            connection.exec_driver_sql("ANALYZE young_person")
            plan = " | ".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + compiled))
            assert "ix_young_person_name" not in plan, plan  # no walk in name order
            # At 2,000 rows a sequential scan is cheaper; the trigram index is there to take over.
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " | ".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + compiled))
            assert "ix_young_person_search" in plan, plan
        assert connection.execute(query).scalars().all() == [
            db.session.scalar(sa.select(YoungPerson.id).where(YoungPerson.last_name == "Nom1234"))
        ]


@pytest.mark.parametrize("query", ["x script", "<script>alert('x')</script>", "a b c", "ab cde f"])
def test_short_and_long_terms_together(client, people, query):
    """A term shorter than a trigram beside a longer one (SQLite 3.40's FTS5 crashed on it)."""
    assert client.get("/admin/youngperson/", query_string={"search": query}).status_code == 200
