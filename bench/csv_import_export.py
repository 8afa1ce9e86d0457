"""Import and export speed at 100,000 young people, beside the raw floor (csv + executemany).

python -m bench.csv_import_export [N]     (SQLite file in a temporary folder, or DATABASE_URL)
"""

from __future__ import annotations

import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from backoffice import create_app
from backoffice.domain import audit
from backoffice.domain.csvio import csv_stream, export_cells, run_import, spec_for, write_xlsx
from backoffice.extensions import db
from backoffice.models import YoungPerson
from seed.catalogue import load_catalogue
from seed.demo import seed_demo


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssPeak:
    """Sample this process's resident memory every 20 ms while a phase runs (tracemalloc would
    slow the phase several times over and miss C allocations)."""

    def __enter__(self):
        self.peak = self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss() -> float:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())


def make_file(app, youths: int) -> bytes:
    """Generate N young people with the demo generator, export them, then empty the table."""
    with app.app_context():
        seed_demo(db.session, youths)
        spec = spec_for("youths")
        fields = spec.fields(db.session)
        data = "".join(
            csv_stream(
                fields,
                export_cells(spec, fields, db.session.query(YoungPerson).order_by(YoungPerson.id)),
            )
        ).encode()
        db.session.execute(sa.delete(YoungPerson))
        db.session.execute(sa.text("DELETE FROM audit_event"))
        db.session.commit()
    return data


def raw_floor(app, data: bytes) -> float:
    """The floor: csv.reader + the DBAPI's executemany of the same rows, with no parsing beyond
    turning dd/mm/yyyy into ISO, no checks, no key matching and no audit."""
    with app.app_context():
        site_ids = {name: i for i, name in db.session.execute(sa.text("SELECT id, name FROM site"))}
        db.session.commit()
        text = data.decode("utf-8-sig")
        columns = (
            "id",
            "last_name",
            "first_name",
            "birth_date",
            "email",
            "phone",
            "city",
            "registration_date",
            "site_id",
            "status",
            "rqth",
            "qpv_resident",
            "driving_licence",
            "has_vehicle",
            "version",
            "created_at",
            "updated_at",
        )
        raw = db.engine.raw_connection()
        try:
            placeholder = "?" if db.engine.dialect.name == "sqlite" else "%s"
            sql = (
                f"INSERT INTO young_person ({', '.join(columns)}) "
                f"VALUES ({', '.join([placeholder] * len(columns))})"
            )
            started = time.perf_counter()
            reader = csv.reader(io.StringIO(text), delimiter=";")
            next(reader)
            rows = []
            for n, c in enumerate(reader, start=1):
                birth = f"{c[2][6:10]}-{c[2][3:5]}-{c[2][0:2]}"
                registered = f"{c[9][6:10]}-{c[9][3:5]}-{c[9][0:2]}"
                rows.append(
                    (
                        n,
                        c[0],
                        c[1],
                        birth,
                        c[4],
                        c[5],
                        c[8],
                        registered,
                        site_ids[c[10]],
                        "active",
                        False,
                        False,
                        False,
                        False,
                        1,
                        "2025-01-01 00:00:00",
                        "2025-01-01 00:00:00",
                    )
                )
            cursor = raw.cursor()
            cursor.executemany(sql, rows)
            raw.commit()
            elapsed = time.perf_counter() - started
            cursor.execute("DELETE FROM young_person")
            raw.commit()
        finally:
            raw.close()
        return elapsed


def write_floor(app, data: bytes) -> float:
    """The floor of what the commit writes: the very rows the import writes for the young
    people and their audit events (prepared beforehand, outside the timing), sent through the
    driver (executemany on SQLite, COPY on PostgreSQL) in one transaction."""
    from backoffice.domain.csvio import engine

    captured: dict[str, list] = {}
    original = engine._bulk_insert

    def capture(connection, table, rows):
        captured.setdefault(table.name, []).extend(rows)
        original(connection, table, rows)

    with app.app_context():
        audit.set_actor(db.session, None, "bench")
        engine._bulk_insert = capture
        try:
            run_import(db.session, spec_for("youths"), data, "bench.csv", max_bytes=None)
        finally:
            engine._bulk_insert = original  # the dry run wrote them, then rolled back
        started = time.perf_counter()
        connection = db.session.connection()
        with engine._bulk_cache(db.session):
            for name in ("young_person", "audit_event"):
                original(connection, db.metadata.tables[name], captured[name])
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.execute(sa.delete(YoungPerson))
        db.session.execute(sa.text("DELETE FROM audit_event"))
        db.session.commit()
    return elapsed


def main(youths: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            load_catalogue(db.session)
            engine = db.engine.dialect.name
        data = make_file(app, youths)
        print(f"engine={engine} rows={youths} file={len(data) / 1_048_576:.1f} MB")

        floor = raw_floor(app, data)
        print(
            f"raw floor (csv + executemany, no checks): {floor:.2f} s "
            f"({youths / floor:,.0f} rows/s)"
        )
        writes = write_floor(app, data)
        print(
            f"write floor (the commit's rows, young people + audit, through the driver): "
            f"{writes:.2f} s ({youths / writes:,.0f} rows/s)"
        )

        with app.app_context():
            audit.set_actor(db.session, None, "bench")
            spec = spec_for("youths")
            with RssPeak() as memory:
                started = time.perf_counter()
                report = run_import(
                    db.session, spec, data, "bench.csv", commit=False, max_bytes=None
                )
                dry = time.perf_counter() - started
            assert report.created == youths and not report.errors, report.errors[:3]
            print(
                f"import dry run: {dry:.2f} s ({youths / dry:,.0f} rows/s), "
                f"peak RSS {memory.peak:.0f} MB (+{memory.peak - memory.start:.0f} MB)"
            )
            with RssPeak() as memory:
                started = time.perf_counter()
                report = run_import(
                    db.session, spec_for("youths"), data, "bench.csv", commit=True, max_bytes=None
                )
                commit = time.perf_counter() - started
            assert report.written and report.created == youths
            print(
                f"import commit:  {commit:.2f} s ({youths / commit:,.0f} rows/s), "
                f"peak RSS {memory.peak:.0f} MB (+{memory.peak - memory.start:.0f} MB)"
            )
            started = time.perf_counter()
            report = run_import(
                db.session, spec_for("youths"), data, "bench.csv", commit=True, max_bytes=None
            )
            again = time.perf_counter() - started
            print(f"re-import of the same file: {again:.2f} s, unchanged={report.unchanged}")

            spec = spec_for("youths")
            fields = spec.fields(db.session)
            with RssPeak() as memory:
                started = time.perf_counter()
                size = 0
                for chunk in csv_stream(
                    fields,
                    export_cells(
                        spec, fields, db.session.query(YoungPerson).order_by(YoungPerson.id)
                    ),
                ):
                    size += len(chunk)
                export = time.perf_counter() - started
            print(
                f"export: {export:.2f} s ({youths / export:,.0f} rows/s), {size / 1e6:.0f} MB "
                f"of CSV, peak RSS {memory.peak:.0f} MB (+{memory.peak - memory.start:.0f} MB)"
            )
            with RssPeak() as memory:
                started = time.perf_counter()
                sink = io.BytesIO()
                write_xlsx(
                    sink,
                    fields,
                    export_cells(
                        spec, fields, db.session.query(YoungPerson).order_by(YoungPerson.id)
                    ),
                    "Jeunes",
                )
                xlsx = time.perf_counter() - started
            print(
                f"export .xlsx (typed cells): {xlsx:.2f} s ({youths / xlsx:,.0f} rows/s), "
                f"{sink.tell() / 1e6:.0f} MB, peak RSS {memory.peak:.0f} MB "
                f"(+{memory.peak - memory.start:.0f} MB)"
            )
            peer_python = os.environ.get("BENCH_PEER")  # the peer's venv python (bench/README)
            if peer_python:
                data_path = Path(folder) / "jeunes.csv"
                data_path.write_bytes(data)
                sites = db.session.scalars(sa.text("SELECT name FROM site")).all()
                emails = db.session.scalars(
                    sa.text("SELECT email FROM user_account WHERE role = 'counsellor'")
                ).all()
                (Path(folder) / "sites.txt").write_text("\n".join(sites))
                (Path(folder) / "counsellors.txt").write_text("\n".join(emails))
                peer = Path(__file__).parent / "peer_django"
                for loader in ("cached", "stock"):
                    subprocess.run(
                        [peer_python, "run.py", "--csv", str(data_path), "--loader", loader],
                        cwd=peer,
                        check=False,
                    )
            db.session.remove()
            db.drop_all()
    print(f"process peak RSS: {_peak_mb():.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
