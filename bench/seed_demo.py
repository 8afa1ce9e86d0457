"""Time `seed-demo` on a fresh SQLite file (or DATABASE_URL): python -m bench.seed_demo [N]."""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from backoffice import create_app
from backoffice.extensions import db
from backoffice.models import Programme, YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import seed_demo


def main(youths: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            load_catalogue(db.session)
            started = time.perf_counter()
            added = seed_demo(db.session, youths)
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = seed_demo(db.session, youths)
            second = time.perf_counter() - started
            count = db.session.scalar(sa.select(sa.func.count(YoungPerson.id)))
            programmes = db.session.scalar(sa.select(sa.func.count(Programme.id)))
            engine = db.engine.dialect.name
            db.session.remove()
            db.drop_all()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"engine={engine} youths={youths} added={added['young_people']} "
        f"programmes={programmes} in_db={count}"
    )
    print(
        f"seed-demo: {first:.1f} s ({youths / first:,.0f} young people/s), "
        f"second run (idempotent, adds {again['young_people']}): {second:.1f} s, "
        f"peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
