"""*Pilotage* (issue #14): every indicator's value, exactly, on a hand-built dataset — four young
people on two sites over two years whose histories are known — for each filter; a site's
manager never sees another site's figures; the exports carry the same figures, typed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backoffice.domain import reporting
from backoffice.domain.values import InvalidValue
from backoffice.extensions import db
from backoffice.models import (
    Action,
    AidRequest,
    Interview,
    Programme,
    Proposal,
    Referral,
    Situation,
    Theme,
)

from . import localc
from .factories import make_aid_type, make_partner, make_site, make_young_person

YEAR = reporting.period_of("year", "2025")
D, T = dt.date, dt.datetime


def _interview(youth, when, attendance="present", kind="follow_up", channel="appointment", **kw):
    interview = Interview(
        young_person_id=youth.id,
        starts_at=when,
        status="completed",
        attendance=attendance,
        kind=kind,
        channel=channel,
        **kw,
    )
    db.session.add(interview)
    db.session.flush()
    return interview


@pytest.fixture
def world(app):
    """a1, a2 at site A; b1, b2 at site B. What each did is in the comments of the tests."""
    site_a, site_b = make_site(name="Antenne A"), make_site(name="Antenne B")
    p1, p2 = make_partner(name="Partenaire Un"), make_partner(name="Partenaire Deux")
    aid = make_aid_type(name="FAJ test", yearly_budget=Decimal("1000"), ceiling_per_youth=None)
    a1 = make_young_person(
        site=site_a,
        gender="F",
        birth_date=D(2005, 6, 1),
        education_level="4",
        qpv_resident=True,
        rqth=False,
    )
    a2 = make_young_person(
        site=site_a, gender="M", birth_date=D(2008, 3, 1), qpv_resident=False, rqth=True
    )
    b1 = make_young_person(
        site=site_b, gender="F", birth_date=D(2000, 1, 1), education_level="infra3"
    )
    b2 = make_young_person(site=site_b, gender="M", birth_date=D(2003, 1, 1))

    # a1: first reception in February (a job proposed, an action she proposed), a follow-up
    # in May by phone (an action set by the counsellor), absent in June; hired on a CDI in
    # June; referred to P1 (accepted in 4 days); an aid of 300 €; in CEJ from January to
    # September; left the accompaniment for a job in October.
    first = _interview(a1, T(2025, 2, 10, 9), kind="first", autonomy_level="1")
    job = Proposal(
        interview_id=first.id, young_person_id=a1.id, kind="job", outcome="done", description="x"
    )
    db.session.add(job)
    db.session.add(
        Action(young_person_id=a1.id, set_at_id=first.id, what="CV", created_by="young_person")
    )
    may = _interview(a1, T(2025, 5, 10, 9), channel="phone", autonomy_level="3")
    db.session.add(
        Action(young_person_id=a1.id, set_at_id=may.id, what="Appel", created_by="counsellor")
    )
    _interview(a1, T(2025, 6, 10, 9), attendance="absent")
    db.session.flush()
    db.session.add(
        Situation(young_person_id=a1.id, kind="cdi", start_date=D(2025, 6, 1), proposal_id=job.id)
    )
    db.session.add_all(
        [
            Referral(
                young_person_id=a1.id,
                partner_id=p1.id,
                reason="r",
                status="accepted",
                sent_at=T(2025, 3, 1, 10),
                answered_at=T(2025, 3, 5, 10),
            ),
            AidRequest(
                young_person_id=a1.id,
                aid_type_id=aid.id,
                amount_asked=Decimal("300"),
                amount_granted=Decimal("300"),
                budget_year=2025,
                status="granted",
                decision_date=D(2025, 3, 10),
                created_at=T(2025, 3, 2, 9),
            ),
            Programme(
                young_person_id=a1.id,
                kind="CEJ",
                start_date=D(2025, 1, 15),
                actual_end_date=D(2025, 9, 30),
                end_reason="term",
            ),
        ]
    )
    a1.status, a1.exit_date, a1.exit_reason = "exited", D(2025, 10, 1), "employment"

    # a2: first reception in November 2024 (walk-in), a follow-up in January 2025 (a training
    # proposed, still open); referred to P1 (refused in 2 days: session full) and to P2
    # (expired); entered a qualifying training in September; in PACEA since June 2024.
    _interview(a2, T(2024, 11, 5, 9), kind="first", channel="walk_in", autonomy_level="2")
    january = _interview(a2, T(2025, 1, 20, 9), autonomy_level="2")
    db.session.add(
        Proposal(
            interview_id=january.id,
            young_person_id=a2.id,
            kind="training",
            outcome="prescribed",
            description="y",
        )
    )
    db.session.add_all(
        [
            Referral(
                young_person_id=a2.id,
                partner_id=p1.id,
                reason="r",
                status="refused",
                refusal_reason="full",
                sent_at=T(2025, 4, 1, 9),
                answered_at=T(2025, 4, 3, 9),
            ),
            Referral(
                young_person_id=a2.id,
                partner_id=p2.id,
                reason="r",
                status="expired",
                sent_at=T(2025, 5, 1, 9),
            ),
            Situation(young_person_id=a2.id, kind="training_qualifying", start_date=D(2025, 9, 1)),
            Programme(young_person_id=a2.id, kind="PACEA", start_date=D(2024, 6, 1)),
        ]
    )

    # b1: first reception in July 2025 (a workshop, refused); an apprenticeship from August
    # 2025, a short CDD in May 2024; an aid asked in December 2024, granted 200 € in January
    # 2025; referred to P2 in June 2024 (accepted in 10 days).
    july = _interview(b1, T(2025, 7, 1, 9), kind="first")
    db.session.add(
        Proposal(
            interview_id=july.id,
            young_person_id=b1.id,
            kind="workshop",
            outcome="refused_youth",
            description="z",
        )
    )
    db.session.add_all(
        [
            Situation(young_person_id=b1.id, kind="apprenticeship", start_date=D(2025, 8, 1)),
            Situation(young_person_id=b1.id, kind="cdd_short", start_date=D(2024, 5, 1)),
            AidRequest(
                young_person_id=b1.id,
                aid_type_id=aid.id,
                amount_asked=Decimal("200"),
                amount_granted=Decimal("200"),
                budget_year=2025,
                status="paid",
                decision_date=D(2025, 1, 5),
                created_at=T(2024, 12, 20, 9),
            ),
            Referral(
                young_person_id=b1.id,
                partner_id=p2.id,
                reason="r",
                status="accepted",
                sent_at=T(2024, 6, 1, 9),
                answered_at=T(2024, 6, 11, 9),
            ),
        ]
    )
    # b2: one first reception in March 2024, by phone; nothing since.
    _interview(b2, T(2024, 3, 1, 9), kind="first", channel="phone")
    db.session.commit()
    return {"A": site_a.id, "B": site_b.id, "aid": aid}


def _figures(key, site=None, period=YEAR):
    table = reporting.by_key()[key].compute(db.session, period, site)
    return table.as_dict()


def _first(key, site=None, period=YEAR):
    return {label: values[0] for label, values in _figures(key, site, period).items()}


def test_young_people_in_contact_accompanied_and_first_receptions(world):
    assert _first("young_people") == {"En contact": 3, "Accompagnés": 3, "Premiers accueils": 2}
    earlier = YEAR.a_year_earlier()
    assert _first("young_people", period=earlier) == {
        "En contact": 3,  # a2's interview; b1's situation, referral and aid request; b2
        "Accompagnés": 2,
        "Premiers accueils": 2,
    }
    assert _first("young_people", world["A"]) == {
        "En contact": 2,
        "Accompagnés": 2,
        "Premiers accueils": 1,
    }
    assert _first("young_people", world["B"]) == {
        "En contact": 1,
        "Accompagnés": 1,
        "Premiers accueils": 1,
    }


def test_interviews_by_channel_attendance_and_concrete_outcome(world):
    channels = _first("interviews_by_channel")
    assert (channels["Sur rendez-vous"], channels["Téléphone"], channels["Accueil spontané"]) == (
        3,
        1,
        0,
    )
    attendance = _first("interviews_by_attendance")
    assert (attendance["Présent"], attendance["Absent non excusé"]) == (4, 1)
    assert _first("concrete_outcome") == {
        "Entretiens tenus": 4,
        "dont avec au moins une proposition": 3,
        "Part (%)": Decimal("75.0"),
    }
    assert _first("concrete_outcome", world["B"])["Part (%)"] == Decimal("100.0")
    assert (
        _first("interviews_by_channel", world["A"], YEAR.a_year_earlier())["Accueil spontané"] == 1
    )


def test_proposals_by_kind_and_outcome(world):
    figures = _figures("proposals")
    # Total, then prescribed, done, refused by the young person, refused by the third party.
    assert figures["Offre d'emploi / alternance"] == [1, 0, 1, 0, 0]
    assert figures["Formation"] == [1, 1, 0, 0, 0]
    assert figures["Atelier (POP…)"] == [1, 0, 0, 1, 0]
    assert figures["Information"] == [0, 0, 0, 0, 0]


def test_referrals_by_partner_with_the_median_answer_time(world):
    figures = _figures("referrals")
    # Sent, accepted, refused, expired, median days (4 and 2: the mean of the middle two).
    assert figures == {
        "Partenaire Un": [2, 1, 1, 0, Decimal("3.0")],
        "Partenaire Deux": [1, 0, 0, 1, None],
    }
    assert _figures("referrals", period=YEAR.a_year_earlier()) == {
        "Partenaire Deux": [1, 1, 0, 0, Decimal("10.0")]
    }
    assert _figures("referrals", world["B"]) == {}
    assert _first("referral_refusals")["Session complète"] == 1


def test_aids_granted_against_the_envelope(world):
    figures = _figures("aids")
    # Asked, granted, amount, envelope, consumed %, in the aid's unit.
    assert figures["FAJ test (en euros)"] == [
        1,
        2,
        Decimal("500.00"),
        Decimal("1000.00"),
        Decimal("50.0"),
    ]
    assert _figures("aids", world["A"])["FAJ test (en euros)"][:3] == [1, 1, Decimal("300.00")]
    assert _figures("aids", period=YEAR.a_year_earlier())["FAJ test (en euros)"][:2] == [1, 0]


def test_entries_into_situations_by_family(world):
    figures = _first("situations")
    assert figures["Emploi"] == 1
    assert figures["dont emploi durable (CDI, CDD de 6 mois ou plus)"] == 1
    assert figures["Alternance"] == 1 and figures["Formation"] == 1 and figures["Immersion"] == 0
    people = "Jeunes avec au moins une entrée (emploi, alternance, formation, immersion)"
    assert figures[people] == 3
    earlier = _first("situations", period=YEAR.a_year_earlier())
    assert (earlier["Emploi"], earlier["dont emploi durable (CDI, CDD de 6 mois ou plus)"]) == (
        1,
        0,
    )
    assert _first("situations", world["B"])[people] == 1


def test_programmes_and_exits(world):
    programmes = _figures("programmes")
    assert programmes["CEJ (Contrat d'engagement jeune)"] == [1, 1, 1]
    assert programmes["PACEA"] == [0, 1, 0]
    assert _figures("programmes", period=YEAR.a_year_earlier())["PACEA"] == [1, 1, 0]
    assert _figures("programme_exits")["Terme du contrat"] == [0, 1]  # PACEA, CEJ
    assert _first("exits")["Emploi durable"] == 1
    assert _first("exits", world["B"])["Emploi durable"] == 0


def test_profile_of_the_young_people_accompanied(world):
    figures = _first("profile")
    assert (figures["Âge : 16-17 ans"], figures["Âge : 18-21 ans"], figures["Âge : 22-25 ans"]) == (
        1,
        1,
        1,
    )
    assert (figures["Genre : Femme"], figures["Genre : Homme"]) == (2, 1)
    assert figures["Niveau : Niveau 4 (baccalauréat)"] == 1
    assert figures["Niveau : Infra 3 (aucun diplôme)"] == 1
    assert figures["Niveau : non renseigné"] == 1
    assert (figures["Résident QPV"], figures["RQTH"]) == (1, 1)


def test_the_accompaniments_quality(world):
    figures = _first("quality")
    # a1 left (not flagged); a2 and b1 have had no interview for more than 45 days.
    assert figures["Jeunes sans progression (%)"] == Decimal("66.7")
    # a1 went from 1 to 3; the others have one assessed interview in the period.
    assert figures["Progression moyenne d'autonomie (niveaux)"] == Decimal("2")
    assert figures["Actions proposées par le jeune (%)"] == Decimal("50.0")


def test_periods_are_read_in_french_and_refused_in_french():
    assert reporting.period_of("quarter", "2025-T2") == reporting.Period(
        D(2025, 4, 1), D(2025, 7, 1), "T2 2025"
    )
    assert reporting.period_of("month", "2025-03").label == "mars 2025"
    dates = reporting.period_of("dates", "", "01/02/2025", "2025-02-28")
    assert (dates.start, dates.end) == (D(2025, 2, 1), D(2025, 3, 1))
    assert reporting.period_of("year", "2024").a_year_earlier().label == "année 2023"
    for args in (("year", "25"), ("quarter", "2025-T5"), ("month", "2025-13"), ("week", "1")):
        with pytest.raises(InvalidValue):
            reporting.period_of(*args)
    with pytest.raises(InvalidValue, match="précède"):
        reporting.period_of("dates", "", "2025-03-01", "2025-02-01")


# --- the screen and its exports -----------------------------------------------------------------


def test_a_sites_manager_never_sees_another_sites_figures(client, auth, world):
    auth.login(role="manager", site_id=world["A"])
    page = client.get(f"/admin/pilotage/?periode=year&valeur=2025&antenne={world['B']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Antenne A, année 2025" in body and "Antenne B," not in body
    exported = client.get(
        f"/admin/pilotage/export.csv?table=young_people&periode=year&valeur=2025&antenne={world['B']}"
    ).get_data(as_text=True)
    assert "En contact;2;" in exported  # site A's two, not B's one nor the three of all sites


def test_the_admin_reads_every_figure_with_its_definition(client, admin, world):
    body = client.get("/admin/pilotage/?periode=year&valeur=2025").get_data(as_text=True)
    for indicator in reporting.INDICATORS:
        assert f'id="{indicator.key}-title"' in body
    assert "Toutes les antennes, année 2025" in body and "comparé à année 2024" in body
    assert "délai médian de réponse du partenaire" in body  # the definitions are in the page
    site_b = client.get(f"/admin/pilotage/?periode=year&valeur=2025&antenne={world['B']}")
    assert "Antenne B, année 2025" in site_b.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "periode=quarter&valeur=2025-T9",
        "periode=dates&du=2025-03-01&au=2025-01-01",
        "periode=dates&du=hier",
        "periode=year&valeur=deux-mille",
        "periode=siecle",
        "antenne=abc",
        "antenne=99999",
    ],
)
def test_a_bad_filter_gets_a_french_message_never_a_500(client, admin, world, query):
    response = client.get(f"/admin/pilotage/?{query}")
    assert response.status_code == 200
    assert "alert-danger" in response.get_data(as_text=True) or query == "periode=siecle"


def test_counsellors_and_anonymous_users_do_not_get_the_report(client, auth, world):
    assert client.get("/admin/pilotage/").status_code == 302  # to the sign-in page
    auth.login(role="counsellor", site_id=world["A"])
    assert client.get("/admin/pilotage/").status_code == 403
    assert client.get("/admin/pilotage/export.xlsx").status_code == 403


def test_the_xlsx_holds_every_table_with_typed_numbers(client, admin, world):
    from openpyxl import load_workbook

    response = client.get("/admin/pilotage/export.xlsx?periode=year&valeur=2025")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[0] == "Définitions"
    assert len(workbook.sheetnames) == len(reporting.INDICATORS) + 1
    sheet = workbook["Jeunes en contact et accompagné"]  # 31 characters at most
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(next(r for r in rows if r[0] == "Libellé"))
    assert rows[header][1:3] == ["Jeunes — année 2025", "Jeunes — année 2024"]
    assert rows[header + 1][:3] == ["En contact", 3, 3]
    assert isinstance(rows[header + 1][1], int)
    aids = [[c.value for c in row] for row in workbook["Aides accordées et enveloppes"].iter_rows()]
    faj = next(r for r in aids if r[0] == "FAJ test (en euros)")
    assert faj[5] == 500 and not isinstance(faj[5], str)  # amounts are numbers, not text


def test_each_table_downloads_as_csv(client, admin, world):
    response = client.get("/admin/pilotage/export.csv?table=referrals&periode=year&valeur=2025")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffLibellé;Envoyées — année 2025;Envoyées — année 2024;")
    assert "Partenaire Un;2;;1;;1;;0;;3,0;" in text
    assert client.get("/admin/pilotage/export.csv?table=inconnue").status_code == 404


def test_the_report_runs_a_fixed_number_of_queries(app, world):
    """Set-based: the number of statements does not grow with the data."""
    from .test_query_counts import QueryCounter

    counter = QueryCounter(db.engine)
    with counter:
        reporting.report(db.session, YEAR, None)
    small = counter.count
    for n in range(30):
        youth = make_young_person(site_id=world["A"])
        _interview(youth, T(2025, 3, 1 + n % 28, 9), kind="first")
    db.session.commit()
    counter = QueryCounter(db.engine)
    with counter:
        reporting.report(db.session, YEAR, None)
    assert counter.count == small


@pytest.mark.skipif(
    localc.soffice_path() is None,
    reason="LibreOffice Calc is missing: apt-get install -y libreoffice-calc-nogui",
)
def test_the_xlsx_opens_in_libreoffice_with_numbers_as_numbers(client, admin, world, tmp_path):
    from openpyxl import load_workbook

    source = tmp_path / "pilotage.xlsx"
    source.write_bytes(client.get("/admin/pilotage/export.xlsx?periode=year&valeur=2025").data)
    saved = localc.xlsx_resave(source, tmp_path / "calc.xlsx")
    workbook = load_workbook(saved, data_only=True)
    assert len(workbook.sheetnames) == len(reporting.INDICATORS) + 1
    rows = [
        [c.value for c in row] for row in workbook["Entretiens avec une réalisation"].iter_rows()
    ]
    share = next(r for r in rows if r[0] == "Part (%)")
    assert share[1] == 75 and isinstance(share[1], int | float)  # a number Calc can sum
    held = next(r for r in rows if r[0] == "Entretiens tenus")
    assert held[1:3] == [4, 2]  # 2025, then 2024 (a2 in November, b2 in March)


def test_the_readme_lists_every_indicator_with_its_definition():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for indicator in reporting.INDICATORS:
        assert f"- **{indicator.title}** (`{indicator.key}`) — {indicator.definition}" in readme


def test_a_proposal_counts_once_its_interview_is_held_and_only_then(app):
    """``held_at`` (what the report reads) follows the interview on every flush: a draft's
    proposal and action do not count; validated, they do; recorded as missed, they no longer
    do; moved to another year, they count there."""
    youth = make_young_person()
    draft = Interview(young_person_id=youth.id, starts_at=T(2025, 3, 4, 10), status="draft")
    db.session.add(draft)
    db.session.flush()
    db.session.add(
        Proposal(
            interview_id=draft.id, young_person_id=youth.id, kind="training", description="CAP"
        )
    )
    db.session.add(
        Action(
            young_person_id=youth.id, set_at_id=draft.id, what="Appeler", created_by="young_person"
        )
    )
    db.session.commit()

    def counted(year="2025"):
        period = reporting.period_of("year", year)
        table = reporting.concrete_outcome(db.session, period, None)
        quality = reporting.quality(db.session, period, None)
        return table.value("dont avec au moins une proposition"), quality.value(
            "Actions proposées par le jeune (%)"
        )

    assert counted() == (0, None)
    modified = db.session.scalar(sa.select(Proposal.updated_at))
    draft.status = "completed"
    db.session.commit()
    assert counted() == (1, Decimal("100.0"))
    # A derived column: the proposal is not "modified" by its interview's validation.
    assert db.session.scalar(sa.select(Proposal.updated_at)) == modified
    draft.attendance = "absent"
    db.session.commit()
    assert counted() == (0, None)
    draft.attendance = "present"
    draft.starts_at = T(2024, 12, 30, 9)
    db.session.commit()
    assert counted() == (0, None) and counted("2024") == (1, Decimal("100.0"))
    # Its only proposal moved to another interview, then deleted: no longer concrete.
    other = Interview(young_person_id=youth.id, starts_at=T(2025, 6, 2, 9), status="completed")
    db.session.add(other)
    db.session.flush()
    proposal = db.session.scalars(sa.select(Proposal)).one()
    proposal.interview_id = other.id
    db.session.commit()
    assert counted()[0] == 1 and counted("2024")[0] == 0
    assert (draft.has_proposal, other.has_proposal) == (False, True)
    db.session.delete(proposal)
    db.session.commit()
    assert counted()[0] == 0 and other.has_proposal is False


def _by_hand(period):
    """(accompanied, assessed twice, total gain) in the period, from the interviews in Python."""
    start, end = period.bounds
    held: dict[int, list] = {}
    for interview in db.session.scalars(sa.select(Interview).order_by(Interview.starts_at)):
        if (
            interview.status == "completed"
            and interview.attendance == "present"
            and start <= interview.starts_at < end
        ):
            held.setdefault(interview.young_person_id, []).append(interview)
    levels = [
        [int(i.autonomy_level) for i in interviews if i.autonomy_level]
        for interviews in held.values()
    ]
    twice = [series for series in levels if len(series) >= 2]
    return len(held), len(twice), sum(series[-1] - series[0] for series in twice)


def _chains():
    return db.session.execute(
        sa.select(
            Interview.id,
            Interview.previous_held_at,
            Interview.previous_assessed_at,
            Interview.next_assessed_at,
        ).order_by(Interview.id)
    ).all()


def test_the_chain_of_held_interviews_follows_every_change_and_the_backfill(app):
    """Who was accompanied and how far their autonomy went are read from the chain of held
    interviews that every flush keeps (not from a grouping per young person): after random
    histories and random edits, moves, misses and deletions, the report says what the
    interviews say, counted by hand; the migration's backfill and ``sync_chain`` find the same
    chain."""
    import importlib.util
    import random
    from pathlib import Path

    from backoffice.domain.interviews import sync_chain

    rng = random.Random(14)
    people = [make_young_person() for _ in range(12)]
    for youth in people:
        for _ in range(rng.randint(0, 7)):
            db.session.add(
                Interview(
                    young_person_id=youth.id,
                    # some at the same minute: ties are ordered by id
                    starts_at=T(2024, 10, 1, 9) + dt.timedelta(days=rng.randrange(0, 540, 30)),
                    status=rng.choice(("completed", "completed", "completed", "draft")),
                    attendance=rng.choice(("present", "present", "present", "absent")),
                    autonomy_level=rng.choice((None, "1", "2", "3", "4")),
                )
            )
    db.session.commit()

    def report_says(period):
        counts = reporting._interview_counts(db.session, period, None)
        return tuple(
            reporting._tally(counts, None, measure, attendance="present")
            for measure in (reporting.FIRST_HELD, reporting.TWICE, reporting.GAIN)
        )

    periods = (YEAR, YEAR.a_year_earlier(), reporting.period_of("quarter", "2025-T2"))
    for round_ in range(6):
        for period in periods:
            assert report_says(period) == _by_hand(period), (round_, period.label)
        interviews = db.session.scalars(sa.select(Interview)).all()
        for interview in rng.sample(interviews, k=min(4, len(interviews))):
            change = rng.choice(("move", "miss", "level", "validate", "delete", "owner"))
            if change == "move":
                interview.starts_at += dt.timedelta(days=rng.choice((-200, -40, 40, 200)))
            elif change == "miss":
                interview.attendance = "absent" if interview.attendance == "present" else "present"
            elif change == "level":
                interview.autonomy_level = rng.choice((None, "1", "4"))
            elif change == "validate":
                interview.status = "completed" if interview.status == "draft" else "draft"
            elif change == "delete":
                db.session.delete(interview)
            else:
                interview.young_person_id = rng.choice(people).id
        db.session.commit()
    kept = _chains()
    assert any(row.next_assessed_at for row in kept)  # the histories do chain

    sync_chain(db.session, [youth.id for youth in people])
    db.session.commit()
    assert _chains() == kept

    path = next(
        (Path(__file__).parent.parent / "backoffice/migrations/versions").glob("f2b4d6e8a0c1_*")
    )
    spec = importlib.util.spec_from_file_location("chain_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(sa.update(Interview).values(previous_held_at=None, next_assessed_at=None))
    db.session.execute(sa.text(migration.BACKFILL))
    db.session.commit()
    assert _chains() == kept


def test_cej_weeks_at_15_hours_match_a_count_by_hand(app):
    """The CEJ weeks, read from the contracts' and situations' week spans and the actions'
    weekly sums (no week listed per situation), against the definition applied by hand to
    random contracts (some overlapping, some open), situations (some overlapping, some
    without hours) and done or undone actions, for a year, a quarter, two dates and a site."""
    import random

    rng = random.Random(15)
    theme = Theme(code="cej-test", name="Thème CEJ test", default_hours=4)
    db.session.add(theme)
    sites = [make_site(name=f"Antenne CEJ {n}") for n in range(2)]
    people = [make_young_person(site=rng.choice(sites)) for _ in range(30)]
    day0 = D(2024, 11, 1)

    def some_day(span=500):
        return day0 + dt.timedelta(days=rng.randrange(span))

    for youth in people:
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            start = some_day()
            end = start + dt.timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.7 else None
            db.session.add(
                Programme(
                    young_person_id=youth.id, kind="CEJ", start_date=start, actual_end_date=end
                )
            )
        for _ in range(rng.randrange(4)):
            start = some_day()
            db.session.add(
                Situation(
                    young_person_id=youth.id,
                    kind="training_qualifying",
                    start_date=start,
                    end_date=start + dt.timedelta(days=rng.randrange(0, 200))
                    if rng.random() < 0.8
                    else None,
                    hours_per_week=rng.choice((None, Decimal("6"), Decimal("12.5"), Decimal("35"))),
                )
            )
        for _ in range(rng.randrange(25)):
            db.session.add(
                Action(
                    young_person_id=youth.id,
                    what="Démarche",
                    created_by="counsellor",
                    status=rng.choice(("done", "done", "planned")),
                    due_date=some_day(),
                    hours=rng.choice((None, Decimal("2"), Decimal("5.5"), Decimal("9"))),
                    theme_id=rng.choice((None, theme.id)),
                )
            )
    db.session.commit()

    def by_hand(period, site_id):
        counted = reached = 0
        for youth in people:
            if site_id is not None and youth.site_id != site_id:
                continue
            contracts = db.session.scalars(
                sa.select(Programme).where(Programme.young_person_id == youth.id)
            ).all()
            situations = db.session.scalars(
                sa.select(Situation).where(
                    Situation.young_person_id == youth.id, Situation.hours_per_week.is_not(None)
                )
            ).all()
            actions = db.session.scalars(
                sa.select(Action).where(Action.young_person_id == youth.id, Action.status == "done")
            ).all()
            for monday, following in reporting._mondays(period):

                def runs(start, end, monday=monday):
                    return start <= monday and (end is None or end >= monday)

                if not any(runs(c.start_date, c.actual_end_date) for c in contracts):
                    continue
                counted += 1
                hours = sum(s.hours_per_week for s in situations if runs(s.start_date, s.end_date))
                hours += sum(
                    a.hours if a.hours is not None else (theme.default_hours if a.theme_id else 0)
                    for a in actions
                    if monday <= a.due_date < following
                )
                reached += hours >= reporting.CEJ_WEEKLY_HOURS
        return counted, reached

    periods = (
        YEAR,
        reporting.period_of("quarter", "2025-T3"),
        reporting.period_of("dates", start="2025-02-12", end="2025-11-03"),
    )
    for period in periods:
        for site_id in (None, sites[0].id):
            table = reporting.cej_hours(db.session, period, site_id)
            counted, reached = by_hand(period, site_id)
            assert counted > 0 and 0 < reached < counted
            assert (table.value("Semaines en CEJ"), table.value("dont à 15 heures ou plus")) == (
                counted,
                reached,
            ), (period.label, site_id)
