"""Every screen runs the same number of SQL queries whatever the caseload, the list or the
history: the same page is counted at two sizes and the counts must be equal (issue #11).

The data are the demo generator's (young people, then interview histories written in bulk),
so that the pages see what a mission locale's database holds: interviews, diagnoses,
objectives, actions, proposals, referrals and aid requests.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from backoffice.domain import interviews as rules
from backoffice.extensions import db
from backoffice.models import Interview, User, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import seed_demo, seed_histories, seed_workflows

from .factories import PASSWORD


class QueryCounter:
    """Counts the statements sent to the database (``before_cursor_execute``)."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self):
        self.statements.clear()
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def queries(app):
    return QueryCounter(db.engine)


def _grow(youths: int, histories: int, max_interviews: int = 6) -> None:
    """The demo data at a given size (idempotent: a second call adds what is missing)."""
    seed_demo(db.session, youths)
    seed_histories(db.session, histories, max_interviews=max_interviews)
    seed_workflows(db.session, min(youths, 40))


def _login(client, email: str) -> None:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    user.password_hash = __import__("werkzeug.security").security.generate_password_hash(
        PASSWORD, method="pbkdf2:sha256:1000"
    )
    db.session.commit()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def _count(client, queries, url) -> int:
    if isinstance(url, tuple):  # (name, url): the page's name is what the counts are keyed by
        url = url[1]
    client.get(url)  # a first request warms what is cached per process
    # The tests share one app context, hence one session, with the requests: a fresh one, as
    # each production request has, or objects loaded by the first request hide lazy loads.
    db.session.remove()
    with queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return queries.count


def _name(url) -> str:
    return url[0] if isinstance(url, tuple) else url


COUNSELLOR = "conseiller@demo.mission-locale.fr"
ADMIN = "admin@demo.mission-locale.fr"


def _pages(counsellor_id: int) -> list[str]:
    busiest = db.session.scalar(
        sa.select(Interview.young_person_id)
        .join(YoungPerson, YoungPerson.id == Interview.young_person_id)
        .where(YoungPerson.referent_id == counsellor_id)
        .group_by(Interview.young_person_id)
        .order_by(sa.func.count().desc(), Interview.young_person_id)
        .limit(1)
    )
    return [
        "/admin/",
        "/admin/myyoungperson/",
        "/admin/myyoungperson/?flt0_0=1",
        "/admin/youngperson/",
        "/admin/youngperson/?search=martin",
        "/admin/youngperson/?sort=2",
        ("file", f"/admin/interviews/file/{busiest}"),
        "/admin/counsellor/",
        "/admin/aidtype/",
        "/admin/referral/",
        "/admin/aidrequest/",
        "/admin/partner/",
        "/admin/interviews/agenda",
        "/admin/situation/",
    ]


def test_the_counsellors_screens_do_not_grow_with_the_caseload(client, queries):
    load_catalogue(db.session)
    _grow(40, 40)
    _login(client, COUNSELLOR)
    counsellor = db.session.scalar(sa.select(User).where(User.email == COUNSELLOR))
    small = {_name(url): _count(client, queries, url) for url in _pages(counsellor.id)}
    _grow(600, 600, max_interviews=12)
    large = {_name(url): _count(client, queries, url) for url in _pages(counsellor.id)}
    caseload = db.session.scalar(
        sa.select(sa.func.count()).where(YoungPerson.referent_id == counsellor.id)
    )
    assert caseload > 20  # more than a page of young people
    assert small == large
    assert max(large.values()) <= 20, large
    print(large)


def test_the_admins_screens_do_not_grow_with_the_data(client, queries):
    load_catalogue(db.session)
    _grow(40, 40)
    _login(client, ADMIN)
    pages = [
        "/admin/",
        "/admin/youngperson/",
        "/admin/youngperson/?page=1",
        "/admin/account/",
        "/admin/audit/",
        _journal_url(client.application, entity="young_person"),
        _journal_url(client.application, actor_id=1),
        "/admin/site/",
    ]
    small = {url: _count(client, queries, url) for url in pages}
    _grow(600, 600)
    large = {url: _count(client, queries, url) for url in pages}
    assert small == large
    assert max(large.values()) <= 20, large


def _journal_url(app, **equals) -> str:
    with app.test_request_context():
        journal = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "audit")
        url = journal.filtered_url(**equals)
    assert "flt0_" in url, url
    return url


def _followed_for_years(client) -> int:
    """The demo counsellor, signed in; one of their young people, in accompaniment for years
    and without interviews yet: its id."""
    load_catalogue(db.session)
    _grow(60, 0)
    _login(client, COUNSELLOR)
    counsellor = db.session.scalar(sa.select(User).where(User.email == COUNSELLOR))
    youth = db.session.scalar(
        sa.select(YoungPerson).where(YoungPerson.referent_id == counsellor.id).limit(1)
    )
    youth.status = "active"
    youth.registration_date = dt.date.today() - dt.timedelta(days=900)
    db.session.commit()
    return youth.id


def _longer_history(youth_id: int) -> None:
    """The young person's history replaced by one of 30 to 40 interviews."""
    db.session.execute(sa.delete(Interview).where(Interview.young_person_id == youth_id))
    db.session.commit()
    seed_histories(db.session, 1, seed=7, max_interviews=40, min_interviews=30, only=[youth_id])
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Interview.young_person_id == youth_id))
        >= 10
    )


def test_the_file_page_does_not_grow_with_the_history(client, queries):
    """The same young person's file with 3 and with 30+ interviews."""
    youth_id = _followed_for_years(client)
    seed_histories(db.session, 1, max_interviews=3, only=[youth_id])
    url = f"/admin/interviews/file/{youth_id}"
    small = _count(client, queries, url)
    _longer_history(youth_id)
    assert _count(client, queries, url) == small


def test_each_wizard_step_does_not_grow_with_the_history(client, queries):
    youth_id = _followed_for_years(client)

    def steps():
        client.post(f"/admin/interviews/new/{youth_id}")
        draft_id = db.session.scalar(
            sa.select(Interview.id).where(
                Interview.young_person_id == youth_id, Interview.status == "draft"
            )
        )
        counts = [
            _count(client, queries, f"/admin/interviews/{draft_id}/step/{n}") for n in range(1, 7)
        ]
        db.session.execute(sa.delete(Interview).where(Interview.id == draft_id))
        db.session.commit()
        return counts

    seed_histories(db.session, 1, max_interviews=3, only=[youth_id])
    small = steps()
    _longer_history(youth_id)
    assert steps() == small


def test_the_kept_progress_state_is_what_the_interviews_say(app):
    """``young_person.stalling`` / ``last_interview_at``, written in bulk by the seed and by the
    ORM listener, equal a fresh computation for every young person."""
    load_catalogue(db.session)
    _grow(300, 300)
    today = dt.date.today()
    kept = {
        y.id: rules.verdict_of(y.stalling, y.last_interview_at, today)
        for y in db.session.scalars(sa.select(YoungPerson))
    }
    assert any(v.flagged for v in kept.values()) and not all(v.flagged for v in kept.values())
    for young_person_id, verdict in kept.items():
        assert rules.stalling(db.session, young_person_id, today) == verdict, young_person_id


def test_the_aid_catalogue_reads_its_budgets_in_one_go(client, queries):
    from decimal import Decimal

    from backoffice.models import AidType

    _login_admin_without_data(client)
    counts = []
    for batch in (2, 18):
        for n in range(batch):
            db.session.add(
                AidType(
                    code=f"AIDE-{len(counts)}-{n}",
                    name=f"Aide {len(counts)}-{n}",
                    category="financial",
                    yearly_budget=Decimal("1000"),
                    default_amount=Decimal("50"),
                )
            )
        db.session.commit()
        counts.append(_count(client, queries, "/admin/aidtype/"))
    assert counts[0] == counts[1]


def _login_admin_without_data(client):
    from .factories import make_user

    user = make_user(role="admin")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_home_page_lists_show_the_first_ones_and_say_there_are_more(client):
    """A caseload of thousands has hundreds of appointments and overdue actions: the home page
    shows the first 50 of each and says there are others, rather than rendering them all."""
    from backoffice.models import Action
    from backoffice.views.home import SHOWN

    load_catalogue(db.session)
    _grow(80, 0)
    _login(client, COUNSELLOR)
    counsellor = db.session.scalar(sa.select(User).where(User.email == COUNSELLOR))
    youth = db.session.scalar(
        sa.select(YoungPerson).where(YoungPerson.referent_id == counsellor.id).limit(1)
    )
    late = dt.date.today() - dt.timedelta(days=3)
    db.session.add_all(
        Action(young_person_id=youth.id, what=f"Démarche {n}", due_date=late, status="planned")
        for n in range(SHOWN + 5)
    )
    db.session.commit()
    html = client.get("/admin/").get_data(as_text=True)
    section = html[html.index('id="overdue"') :]
    assert section.count("Démarche ") == SHOWN
    assert f"Les {SHOWN} premiers : il y en a d'autres." in section


def test_a_bounded_count_says_more_than(client, monkeypatch):
    """The journal stops counting at its bound and says "plus de …"; other lists give their
    exact count, in French."""
    _login_admin_without_data(client)
    journal = next(
        v for v in client.application.extensions["admin"][0]._views if v.endpoint == "audit"
    )
    monkeypatch.setattr(journal, "count_bound", 3)
    from .factories import make_site

    for n in range(5):
        make_site(name=f"Antenne {n}")  # each writes an event to the journal
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Liste (plus de 3)" in html
    html = client.get("/admin/audit/", query_string={"search": "zzzz"}).get_data(as_text=True)
    assert "plus de" not in html
    html = client.get("/admin/site/").get_data(as_text=True)
    assert "Liste (5)" in html


def test_filter_options_follow_new_records_and_the_scope(client):
    """The referent filter's options (and the list's referent cells) are cached per process
    for a few seconds, but a counsellor created in this process appears at once, and a
    counsellor of another site never appears to a counsellor."""
    from .factories import make_site, make_user, make_young_person

    site, other = make_site(name="Antenne Nord"), make_site(name="Antenne Sud")
    me = make_user(role="counsellor", site=site, full_name="Camille Nord")
    make_user(role="counsellor", site=other, full_name="Dominique Sud")
    response = client.post("/login", data={"email": me.email, "password": PASSWORD})
    assert response.status_code == 302
    html = client.get("/admin/youngperson/").get_data(as_text=True)
    assert "Camille Nord" in html and "Dominique Sud" not in html
    newcomer = make_user(role="counsellor", site=site, full_name="Eden Nouveau")
    make_young_person(site=site, referent=newcomer, last_name="Suivi")
    html = client.get("/admin/youngperson/").get_data(as_text=True)
    assert html.count("Eden Nouveau") >= 2  # in the filter's options and in the row
