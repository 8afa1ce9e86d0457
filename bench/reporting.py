"""The *Pilotage* report at the size of a regional deployment, beside its floor, same run.

    .venv/bin/python -m bench.pages --rebuild          # builds bench/pages-100000.sqlite once
    .venv/bin/python -m bench.reporting --repeat 7
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.reporting

Measured on the dataset of ``bench/pages.py`` (100,000 young people, about 830,000 interviews
over two years): the whole report for the last full year, all sites, with the same period a
year earlier (what the screen computes), then for one site; each indicator alone; the screen
and its .xlsx export through Flask's test client as the admin (server time). The **floor** is
the cheapest statement the report cannot avoid: counting the interviews held in the year from
the index alone. Median (min–max) of ``--repeat`` runs after one warm-up.
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


def _measure(function, repeat: int) -> dict:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def _line(label: str, result: dict) -> None:
    print(
        f"{label:44s} {result['median']:9.1f} ms ({result['min']:.1f}–{result['max']:.1f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--youths", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results there")
    args = parser.parse_args()

    from backoffice import create_app
    from backoffice.domain import reporting
    from backoffice.extensions import db
    from backoffice.models import Interview, Site
    from seed.demo import DEMO_PASSWORD

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{HERE / f'pages-{args.youths}.sqlite'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}
    )
    year = str(dt.date.today().year - 1)
    period = reporting.period_of("year", year)
    results: dict[str, dict] = {}
    with app.app_context():
        site = db.session.scalar(sa.select(Site).order_by(Site.id).limit(1))
        start, end = period.bounds
        held = sa.select(sa.func.count()).where(
            Interview.status == "completed",
            Interview.attendance == "present",
            Interview.starts_at >= start,
            Interview.starts_at < end,
        )
        figures = {
            "engine": db.engine.dialect.name,
            "year": year,
            "interviews held in the year": db.session.scalar(held),
            "interviews": db.session.scalar(sa.select(sa.func.count(Interview.id))),
        }
        print(json.dumps(figures), flush=True)
        results["floor: count the year's held interviews"] = _measure(
            lambda: db.session.scalar(held), args.repeat
        )
        results["report, all sites (+ a year earlier)"] = _measure(
            lambda: reporting.report(db.session, period, None), args.repeat
        )
        results[f"report, one site ({site.name})"] = _measure(
            lambda: reporting.report(db.session, period, site.id, site.name), args.repeat
        )
        for indicator in reporting.INDICATORS:
            results[f"  {indicator.key}"] = _measure(
                lambda i=indicator: (
                    i.compute(db.session, period, None),
                    i.compute(db.session, period.a_year_earlier(), None),
                ),
                args.repeat,
            )
        db.session.remove()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "admin@demo.mission-locale.fr", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    query = f"periode=year&valeur={year}"

    def get(path):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer

    results["screen /admin/pilotage/ (HTTP, server time)"] = _measure(
        lambda: get(f"/admin/pilotage/?{query}"), args.repeat
    )
    results["export .xlsx of the whole report"] = _measure(
        lambda: get(f"/admin/pilotage/export.xlsx?{query}"), args.repeat
    )
    for label, result in results.items():
        _line(label, result)
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "results": results}, indent=1))


if __name__ == "__main__":
    main()
