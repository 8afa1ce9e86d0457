"""Messages and the young person's space at the size of a regional deployment (issue #15).

    .venv/bin/python -m bench.pages --rebuild          # builds bench/pages-100000.sqlite once
    .venv/bin/python -m bench.notices --repeat 7
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.notices

On the dataset of ``bench/pages.py`` (100,000 young people, 834,000 interviews): what ``flask
tick`` reads each run — tomorrow's appointments to remind (the young people's latest validated
interview) and the referrals to chase —, the counsellor's home page with 20 notifications
(5,655 young people in the caseload), the young person's space, the counsellor's calendar feed
(104 days of a full caseload's appointments), and *Messages envoyés* with 20,000 messages. The
**floor** is the cheapest statement the reminders cannot avoid: counting tomorrow's
appointments from the ``next_appointment`` index. Median (min–max) of ``--repeat`` runs after
one warm-up. What the script writes (messages, notifications, links) it deletes at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

import sqlalchemy as sa

from bench.pages import Counter, measure
from bench.reporting import _line, _measure

HERE = Path(__file__).resolve().parent
MESSAGES = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--youths", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results there")
    args = parser.parse_args()

    from backoffice import create_app
    from backoffice.domain import notices
    from backoffice.domain import youth_space as space
    from backoffice.extensions import db
    from backoffice.models import Interview, Notification, OutboxMessage, User, YoungPerson, utcnow
    from seed.demo import DEMO_PASSWORD

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{HERE / f'pages-{args.youths}.sqlite'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}
    )
    results: dict[str, dict] = {}
    today = dt.date.today()
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
    with app.app_context():
        counsellor = db.session.scalar(
            sa.select(User).where(User.email == "conseiller@demo.mission-locale.fr")
        )
        person = db.session.scalar(
            sa.select(YoungPerson)
            .where(YoungPerson.referent_id == counsellor.id, YoungPerson.status == "active")
            .order_by(YoungPerson.id)
            .limit(1)
        )
        space.issue(person, utcnow())
        counsellor.calendar_token = "bench-feed-token"
        for n in range(20):
            db.session.add(
                Notification(user_id=counsellor.id, kind="referral_answered", text=f"Note {n}")
            )
        now = utcnow()
        db.session.execute(
            sa.insert(OutboxMessage),
            [
                {
                    "kind": "recap",
                    "recipient": f"jeune{n}@example.fr",
                    "subject": f"Message {n}",
                    "body_text": "Bonjour",
                    "status": "sent" if n % 4 else "pending",
                    "attempts": 1,
                    "created_at": now,
                    "next_attempt_at": now,
                }
                for n in range(MESSAGES)
            ],
        )
        db.session.commit()
        token = space.token(app.config["SECRET_KEY"], person)
        counsellor_id, person_id = counsellor.id, person.id
        floor = sa.select(sa.func.count()).where(
            Interview.next_appointment >= tomorrow,
            Interview.next_appointment < tomorrow + dt.timedelta(days=1),
        )
        figures = {
            "engine": db.engine.dialect.name,
            "appointments tomorrow (any interview)": db.session.scalar(floor),
            "caseload": db.session.scalar(
                sa.select(sa.func.count()).where(YoungPerson.referent_id == counsellor.id)
            ),
        }
        print(json.dumps(figures), flush=True)
        results["floor: count tomorrow's appointments"] = _measure(
            lambda: db.session.scalar(floor), args.repeat
        )

        def reminders():
            written = notices.reminders_due(db.session, today)
            db.session.rollback()  # measured, not kept
            return written

        results["tick: tomorrow's reminders (rolled back)"] = _measure(reminders, args.repeat)

        def chase():
            notices.chase_due(db.session, today)
            db.session.rollback()

        results["tick: referrals to chase (rolled back)"] = _measure(chase, args.repeat)
        db.session.remove()

    counter = None
    with app.app_context():
        counter = Counter(db.engine)
    staff = app.test_client()
    staff.post(
        "/login",
        data={"email": "conseiller@demo.mission-locale.fr", "password": DEMO_PASSWORD},
    )
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@demo.mission-locale.fr", "password": DEMO_PASSWORD})
    young = app.test_client()
    pages = [
        ("home (counsellor, 20 notifications)", staff, "/admin/"),
        ("the young person's space", young, f"/mon-espace/{token}"),
        ("calendar feed (104 days of a caseload)", young, "/agenda/bench-feed-token.ics"),
        (f"Messages envoyés ({MESSAGES:,} messages)", admin, "/admin/outbox/"),
        ("Messages envoyés, waiting ones", admin, "/admin/outbox/?flt0_0=pending"),
    ]
    for label, client, target in pages:
        result = measure(client, counter, target, args.repeat)
        results[label] = {
            "median": result["median_ms"],
            "min": result["min_ms"],
            "max": result["max_ms"],
            "queries": result["queries"],
        }
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage))
        db.session.execute(sa.delete(Notification).where(Notification.user_id == counsellor_id))
        db.session.execute(
            sa.update(YoungPerson)
            .where(YoungPerson.id == person_id)
            .values(space_nonce=None, space_expires_at=None)
        )
        db.session.execute(
            sa.update(User).where(User.id == counsellor_id).values(calendar_token=None)
        )
        db.session.execute(sa.text("DELETE FROM consultation WHERE kind = 'space'"))
        db.session.commit()
    for label, result in results.items():
        _line(label, result)
        if result.get("queries") is not None:
            print(f"{'':44s} {result['queries']} queries")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "results": results}, indent=1))


if __name__ == "__main__":
    main()
