"""Every screen at the size of a regional deployment, beside a stock Flask-Admin view, same run.

    .venv/bin/python -m bench.pages                     # SQLite file bench/pages-100000.sqlite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.pages
    .venv/bin/python -m bench.pages --youths 20000 --repeat 5

The dataset (built once, reused while it holds ``--youths`` young people): the demo generator's
young people, interview histories for all of them (1 to ``--max-interviews`` each: about ten
on average, a million interviews for 100,000), one young person with 50 interviews, and
``--audit`` journal rows. The screens are requested in-process through Flask's test client
(server time: no network, no browser), as an admin and as the demo counsellor, whose caseload
is about 6,000; each is requested once to warm up, then ``--repeat`` times: median, min and max
of the time, and the number of SQL statements. The peer (``bench/peer_flask_admin``, no project
code) lists and searches the same table in the same process, just after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent


def build(app, youths: int, max_interviews: int, audit_rows: int) -> dict:
    """The dataset, from an empty schema; returns what each phase took."""
    from backoffice.cli import SEEDED_TABLES
    from backoffice.domain import audit
    from backoffice.domain.csvio.engine import bulk_insert
    from backoffice.extensions import analyze, db
    from backoffice.models import AuditEvent, Interview, User, YoungPerson, utcnow
    from seed.catalogue import load_catalogue
    from seed.demo import seed_demo, seed_histories, seed_workflows

    timings = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        audit.set_actor(db.session, None, "bench")
        load_catalogue(db.session)
        started = time.perf_counter()
        seed_demo(db.session, youths)
        timings["young people"] = time.perf_counter() - started
        started = time.perf_counter()
        made = seed_histories(db.session, youths, max_interviews=max_interviews)
        timings["histories"] = time.perf_counter() - started
        timings["interviews"] = made["interviews"]
        seed_workflows(db.session, 120)
        # One young person of the demo counsellor's caseload with a history of 50 interviews.
        counsellor = db.session.scalar(
            sa.select(User.id).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        long_file = db.session.scalar(
            sa.select(YoungPerson.id)
            .where(YoungPerson.referent_id == counsellor, YoungPerson.status == "active")
            .order_by(YoungPerson.id)
            .limit(1)
        )
        db.session.execute(sa.delete(Interview).where(Interview.young_person_id == long_file))
        db.session.get(YoungPerson, long_file).registration_date = dt.date.today() - dt.timedelta(
            days=1000
        )
        db.session.commit()
        seed_histories(
            db.session, 1, seed=50, max_interviews=50, min_interviews=50, only=[long_file]
        )
        # The journal: a million events, the shapes the screens write.
        started = time.perf_counter()
        entities = ("young_person", "interview", "action", "proposal", "referral", "aid_request")
        now = utcnow()
        batch = []
        for n in range(audit_rows):
            batch.append(
                {
                    "at": now - dt.timedelta(minutes=n),
                    "actor_id": counsellor if n % 3 else None,
                    "actor_label": "bench",
                    "action": "update",
                    "entity": entities[n % len(entities)],
                    "entity_id": 1 + n % youths,
                    "record_version": 2,
                    "parent_entity": None,
                    "parent_id": None,
                    "changes": {"status": ["planned", "done"]},
                }
            )
            if len(batch) == 50_000:
                bulk_insert(db.session.connection(), AuditEvent.__table__, batch)
                batch.clear()
        bulk_insert(db.session.connection(), AuditEvent.__table__, batch)
        db.session.commit()
        timings["audit"] = time.perf_counter() - started
        started = time.perf_counter()
        analyze(db.session, *SEEDED_TABLES, "user_account", vacuum=True)
        timings["analyze"] = time.perf_counter() - started
    return timings


class Counter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args, **kwargs):
        self.count += 1


def measure(client, counter: Counter | None, url: str, repeat: int) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times, queries = [], []
    for _ in range(repeat):
        before = counter.count if counter else 0
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        queries.append((counter.count - before) if counter else None)
        assert response.status_code == 200, (url, response.status_code)
    return {
        "url": url,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "queries": queries[-1],
    }


def _report(label: str, result: dict) -> dict:
    print(
        f"{label:<40} {result['median_ms']:8.1f} ms "
        f"({result['min_ms']:.1f}–{result['max_ms']:.1f})  {result['queries']} queries",
        flush=True,
    )
    return result


def _draft_of(app, young_person_id: int) -> int | None:
    from backoffice.extensions import db
    from backoffice.models import Interview

    with app.app_context():
        return db.session.scalar(
            sa.select(Interview.id).where(
                Interview.young_person_id == young_person_id, Interview.status == "draft"
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--youths", type=int, default=100_000)
    parser.add_argument("--max-interviews", type=int, default=19)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results there")
    args = parser.parse_args()

    from backoffice import create_app
    from backoffice.extensions import db
    from backoffice.models import Interview, User, YoungPerson
    from bench.peer_flask_admin.app import create_peer_app
    from seed.demo import DEMO_PASSWORD

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{HERE / f'pages-{args.youths}.sqlite'}"
    # No CSRF token to fetch before signing in: only GET requests are measured.
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        try:
            present = db.session.scalar(sa.select(sa.func.count(YoungPerson.id)))
        except sa.exc.DBAPIError:
            db.session.rollback()
            present = 0
    built = None
    if args.rebuild or present < args.youths:
        print(f"building the dataset ({args.youths:,} young people) in {url} …", flush=True)
        built = build(app, args.youths, args.max_interviews, args.audit)
        print("built:", {k: round(v, 1) for k, v in built.items()}, flush=True)

    results: dict[str, dict] = {}
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        counter = Counter(engine)
        figures = {
            "young people": db.session.scalar(sa.select(sa.func.count(YoungPerson.id))),
            "interviews": db.session.scalar(sa.select(sa.func.count(Interview.id))),
            "audit events": db.session.scalar(sa.text("SELECT count(*) FROM audit_event")),
        }
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        figures["caseload"] = db.session.scalar(
            sa.select(sa.func.count()).where(
                YoungPerson.referent_id == counsellor.id, YoungPerson.status != "exited"
            )
        )
        long_file, length = db.session.execute(
            sa.select(Interview.young_person_id, sa.func.count())
            .join(YoungPerson, YoungPerson.id == Interview.young_person_id)
            .where(YoungPerson.referent_id == counsellor.id)
            .group_by(Interview.young_person_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).one()
        figures["longest file"] = length
        sample = db.session.get(YoungPerson, args.youths // 2)
        name = sample.last_name.lower()
        rare = f"{sample.last_name} {sample.first_name}".lower()
        phone = sample.phone[:8]  # "06 45 12"
        email = sample.email.split("@")[0]
        db.session.remove()
        print(json.dumps(figures), flush=True)

    # Requests run outside any app context, each in its own, as in production.
    def login(client, email):
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.status_code

    with app.test_request_context():
        journal = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "audit")
        journal_by_entity = journal.filtered_url(entity="young_person")
        journal_by_actor = journal.filtered_url(actor_id=counsellor.id)

    admin = app.test_client()
    login(admin, "admin@demo.mission-locale.fr")
    screens = [
        ("home (admin)", admin, "/admin/"),
        ("Jeunes, default", admin, "/admin/youngperson/"),
        ("Jeunes, sorted by city", admin, "/admin/youngperson/?sort=7"),
        ("Jeunes, filtered: 18-21", admin, "/admin/youngperson/?flt0_10=18-21"),
        ("Jeunes, filtered: exited", admin, "/admin/youngperson/?flt0_4=exited"),
        ("Jeunes, search name", admin, f"/admin/youngperson/?search={name}"),
        ("Jeunes, search name + first name", admin, f"/admin/youngperson/?search={rare}"),
        ("Jeunes, search phone", admin, f"/admin/youngperson/?search={phone}"),
        ("Jeunes, search e-mail", admin, f"/admin/youngperson/?search={email}"),
        ("Jeunes, search: nothing found", admin, "/admin/youngperson/?search=zzqxw"),
        ("Jeunes, page 2,000", admin, "/admin/youngperson/?page=1999"),
        ("Conseillers", admin, "/admin/counsellor/"),
        ("Catalogue des aides", admin, "/admin/aidtype/"),
        ("Orientations", admin, "/admin/referral/"),
        ("Journal", admin, "/admin/audit/"),
        ("Journal, by entity", admin, journal_by_entity),
        ("Journal, by actor", admin, journal_by_actor),
    ]
    counsellor_client = app.test_client()
    login(counsellor_client, "conseiller@demo.mission-locale.fr")
    draft = _draft_of(app, long_file)
    if draft is None:
        counsellor_client.post(f"/admin/interviews/new/{long_file}")
        draft = _draft_of(app, long_file)
    screens += [
        ("home (counsellor)", counsellor_client, "/admin/"),
        ("Mes jeunes", counsellor_client, "/admin/myyoungperson/"),
        ("Mes jeunes, sans progression", counsellor_client, "/admin/myyoungperson/?flt0_0=1"),
        ("Jeunes (counsellor)", counsellor_client, "/admin/youngperson/"),
        (
            "Jeunes, search name (counsellor)",
            counsellor_client,
            f"/admin/youngperson/?search={name}",
        ),
        (
            f"file, {length} interviews",
            counsellor_client,
            f"/admin/interviews/file/{long_file}",
        ),
        *(
            (f"wizard step {n}", counsellor_client, f"/admin/interviews/{draft}/step/{n}")
            for n in range(1, 7)
        ),
        ("agenda, this week (counsellor)", counsellor_client, "/admin/interviews/agenda"),
        ("Situations des jeunes (counsellor)", counsellor_client, "/admin/situation/"),
        ("Situations des jeunes (admin)", admin, "/admin/situation/"),
    ]
    for label, client, target in screens:
        results[label] = _report(label, measure(client, counter, target, args.repeat))

    peer = create_peer_app(url)
    peer_client = peer.test_client()
    with peer.app_context():
        peer_counter = Counter(peer.extensions["admin"][0]._views[-1].session.get_bind())
    peer_screens = [
        ("peer (bare): list", "/admin/bare/"),
        ("peer (bare): search name", f"/admin/bare/?search={name}"),
        ("peer (bare): search phone", f"/admin/bare/?search={phone}"),
        ("peer (bare): page 2,000", "/admin/bare/?page=1999"),
        ("peer: list, default", "/admin/same/"),
        ("peer: list, sorted by city", "/admin/same/?sort=6"),
        ("peer: search name", f"/admin/same/?search={name}"),
        ("peer: search name + first name", f"/admin/same/?search={rare}"),
        ("peer: search phone", f"/admin/same/?search={phone}"),
        ("peer: search e-mail", f"/admin/same/?search={email}"),
        ("peer: search: nothing found", "/admin/same/?search=zzqxw"),
        ("peer: page 2,000", "/admin/same/?page=1999"),
    ]
    for label, target in peer_screens:
        results[label] = _report(label, measure(peer_client, peer_counter, target, args.repeat))

    def ratio(ours, theirs):
        return results[theirs]["median_ms"] / results[ours]["median_ms"]

    print(f"\n{dialect}: {json.dumps(figures)}")
    for ours, theirs in (
        ("Jeunes, default", "peer: list, default"),
        ("Jeunes, sorted by city", "peer: list, sorted by city"),
        ("Jeunes, page 2,000", "peer: page 2,000"),
        ("Jeunes, search name", "peer: search name"),
        ("Jeunes, search name + first name", "peer: search name + first name"),
        ("Jeunes, search phone", "peer: search phone"),
        ("Jeunes, search e-mail", "peer: search e-mail"),
        ("Jeunes, search: nothing found", "peer: search: nothing found"),
    ):
        print(f"{ours:<40} peer/ours = {ratio(ours, theirs):5.1f}×")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"engine": dialect, "figures": figures, "built": built, "results": results},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
