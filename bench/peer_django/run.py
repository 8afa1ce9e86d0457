"""Time django-import-export on the back-office's 100,000-row young-person CSV.

    PEER_DATABASE_URL=sqlite:////tmp/peer/peer.sqlite3 ../venv/bin/python run.py
    PEER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/peer ../venv/bin/python run.py
    options: --csv FILE (default ../jeunes-100000.csv, sites.txt and counsellors.txt beside it)
             --rows N (first N rows only)   --loader stock|cached (default stock)

One run: drop and create the tables, load the sites and counsellors, read the CSV into a tablib
Dataset (timed), import_data(dry_run=True) on the empty table (timed; the table must stay empty),
then import_data(dry_run=False) (timed; the table must then hold every row).
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
django.setup()

import import_export  # noqa: E402
import tablib  # noqa: E402
from django.db import connection  # noqa: E402
from peer.models import Counsellor, Site, YoungPerson  # noqa: E402
from peer.resources import CachedYoungPersonResource, YoungPersonResource  # noqa: E402

HERE = Path(__file__).resolve().parent


class Phase:
    """Wall time, peak resident-memory growth (sampled every 20 ms), SQL statements run, and the
    machine's CPU use (to see whether another process was competing: this one uses ~1 core)."""

    def __init__(self, name):
        self.name = name

    @staticmethod
    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss_mb())

    @staticmethod
    def cpu():
        """(machine busy jiffies, machine total jiffies, this process's jiffies)"""
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
        idle = ticks[3] + ticks[4]
        return sum(ticks) - idle, sum(ticks), int(own[11]) + int(own[12])

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self.queries = 0
        self.start_rss = self.peak = self.rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._wrapper = connection.execute_wrapper(self._count)
        self._wrapper.__enter__()
        self.cpu0 = self.cpu()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        busy, total, own = (b - a for a, b in zip(self.cpu0, self.cpu(), strict=True))
        self.machine_busy = os.cpu_count() * busy / max(total, 1)  # in cores, out of os.cpu_count()
        self.own_cpu = own / os.sysconf("SC_CLK_TCK") / self.seconds  # in cores
        self._wrapper.__exit__(*exc)
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss_mb())
        self.growth = self.peak - self.start_rss

    def report(self, rows):
        print(
            f"{self.name:<10} {self.seconds:8.2f} s  {rows / self.seconds:8,.0f} rows/s  "
            f"+{self.growth:5.0f} MB  {self.queries:7,} SQL statements  "
            f"(CPU busy {self.machine_busy:.2f} of {os.cpu_count()} cores, this process "
            f"{self.own_cpu:.2f})",
            flush=True,
        )


def create_schema():
    with connection.schema_editor() as editor:
        existing = set(connection.introspection.table_names())
        for model in (YoungPerson, Counsellor, Site):
            if model._meta.db_table in existing:
                editor.delete_model(model)
        for model in (Site, Counsellor, YoungPerson):
            editor.create_model(model)


def lines(path):
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check(result, label):
    if result.has_errors() or result.has_validation_errors():
        first = (result.base_errors or [e for _, errs in result.row_errors() for e in errs])[:1]
        invalid = result.invalid_rows[:1]
        sys.exit(f"{label}: errors {first} {[(r.number, r.error_dict) for r in invalid]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=HERE.parent / "jeunes-100000.csv")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--loader", choices=("stock", "cached"), default="stock")
    args = parser.parse_args()

    vendor = connection.vendor
    print(
        f"django {django.get_version()}, django-import-export {import_export.__version__}, "
        f"tablib {tablib.__version__}, python {sys.version.split()[0]}, database {vendor}"
        + (
            f" {connection.cursor().connection.info.server_version}"
            if vendor == "postgresql"
            else f" {__import__('sqlite3').sqlite_version} ({connection.settings_dict['NAME']})"
        ),
        flush=True,
    )
    resource_class = CachedYoungPersonResource if args.loader == "cached" else YoungPersonResource
    m = resource_class._meta
    print(
        f"resource {resource_class.__name__}: loader={m.instance_loader_class.__name__} "
        f"use_bulk={m.use_bulk} batch_size={m.batch_size} skip_diff={m.skip_diff} "
        f"skip_unchanged={m.skip_unchanged} force_init_instance={m.force_init_instance} "
        f"clean_model_instances={m.clean_model_instances} use_transactions={m.use_transactions}",
        flush=True,
    )

    create_schema()
    Site.objects.bulk_create(Site(name=n) for n in lines(args.csv.parent / "sites.txt"))
    Counsellor.objects.bulk_create(
        Counsellor(email=e) for e in lines(args.csv.parent / "counsellors.txt")
    )

    with Phase("load") as load:
        text = args.csv.read_text(encoding="utf-8-sig")
        if args.rows is not None:
            text = "\n".join(text.split("\n", args.rows + 1)[: args.rows + 1])
        dataset = tablib.Dataset().load(text, format="csv", delimiter=";")
        del text
    rows = len(dataset)
    load.report(rows)

    with Phase("dry run") as dry:
        result = resource_class().import_data(dataset, dry_run=True)
    check(result, "dry run")
    dry.report(rows)
    assert YoungPerson.objects.count() == 0, "the dry run left rows behind"
    print(f"           totals {dict(result.totals)}", flush=True)
    del result

    with Phase("commit") as commit:
        result = resource_class().import_data(dataset, dry_run=False)
    check(result, "commit")
    commit.report(rows)
    count = YoungPerson.objects.count()
    print(f"           totals {dict(result.totals)}; young_person rows: {count:,}", flush=True)
    assert count == rows, f"expected {rows} rows, found {count}"
    sample = YoungPerson.objects.select_related("site", "referent").order_by("id").first()
    print(
        f"           first row: {sample.last_name} {sample.first_name} {sample.birth_date} "
        f"{sample.gender} {sample.site.name} {sample.referent.email} {sample.status} "
        f"{sample.education_level} {sample.housing_situation} {sample.resources} "
        f"rqth={sample.rqth} {sample.rgpd_consent_date}",
        flush=True,
    )


if __name__ == "__main__":
    main()
