"""32 signed-in counsellors on gunicorn + PostgreSQL: latency with think time, then throughput.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.load
    ... --users 32 --seconds 60 --workers 5

Runs on the dataset ``bench/pages.py`` builds (run it first with the same DATABASE_URL). It
starts gunicorn on 127.0.0.1 only (a free port, ``--workers`` sync workers), signs ``--users``
sessions in (the demo counsellors, two sessions each), then:

1. **open loop with think time**: each user requests a page, waits 1 s, and so on, for
   ``--seconds``: the list, a name search, a young person's file of their caseload, the home
   page, in turn; latency p50 / p95 / p99 / max per page and overall, errors;
2. **closed loop**: the same users with no wait for ``--seconds`` / 2: requests per second.

Latency is measured by the client (the request sent to the last byte read), on the same
2-core machine as the server: the clients' own CPU competes with gunicorn's.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class User:
    """One signed-in browser session (cookies, CSRF token read from the form)."""

    def __init__(self, base: str, email: str, password: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = self.get("/login")[1]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        data = {"email": email, "password": password}
        if token:
            data["csrf_token"] = token.group(1)
        status, page = self.post("/login", data)
        if "Déconnexion" not in page and "logout" not in page:
            raise RuntimeError(f"sign-in failed for {email}: {status}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, ""
        except OSError:  # refused, reset, timed out: an error, counted as such
            return 0, ""

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def run(users, plans, seconds: float, think: float) -> dict:
    """Every user loops over its plan until ``seconds`` are over; returns the samples."""
    samples: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(user, plan):
        rng = random.Random(id(user))
        time.sleep(rng.random() * think)  # users do not all start at the same instant
        n = 0
        while time.monotonic() < stop:
            label, path = plan[n % len(plan)]
            target = path() if callable(path) else path
            started = time.perf_counter()
            status, _body = user.get(target)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples.append((label, elapsed, status))
            n += 1
            if think:
                time.sleep(think)

    threads = [
        threading.Thread(target=loop, args=(u, p), daemon=True)
        for u, p in zip(users, plans, strict=True)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"samples": samples, "elapsed": time.monotonic() - started}


def summary(result: dict) -> dict:
    samples = result["samples"]
    out = {}
    labels = sorted({s[0] for s in samples}) + ["all"]
    for label in labels:
        times = [s[1] for s in samples if label in ("all", s[0])]
        errors = sum(1 for s in samples if label in ("all", s[0]) and s[2] != 200)
        out[label] = {
            "requests": len(times),
            "errors": errors,
            "p50_ms": statistics.median(times),
            "p95_ms": percentile(times, 95),
            "p99_ms": percentile(times, 99),
            "max_ms": max(times),
        }
    out["all"]["per_second"] = len(samples) / result["elapsed"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2 * os.cpu_count() + 1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name the PostgreSQL database bench/pages.py built.")

    import sqlalchemy as sa

    from backoffice.config import normalise_database_url
    from seed.demo import DEMO_PASSWORD

    engine = sa.create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        counsellors = connection.execute(
            sa.text(
                "SELECT id, email FROM user_account WHERE role = 'counsellor' AND active "
                "ORDER BY id"
            )
        ).all()
        caseloads = {
            cid: [
                r[0]
                for r in connection.execute(
                    sa.text(
                        "SELECT id FROM young_person WHERE referent_id = :c AND status <> 'exited'"
                        " ORDER BY id LIMIT 500"
                    ),
                    {"c": cid},
                )
            ]
            for cid, _email in counsellors
        }
        names = [
            r[0].lower()
            for r in connection.execute(
                sa.text("SELECT DISTINCT last_name FROM young_person ORDER BY 1 LIMIT 300")
            )
        ]
    engine.dispose()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SECRET_KEY": "bench-load", "BACKOFFICE_ENV": "development"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        users, plans = [], []
        for n in range(args.users):
            cid, email = counsellors[n % len(counsellors)]
            users.append(User(base, email, DEMO_PASSWORD))
            rng = random.Random(n)
            people = caseloads[cid] or [1]
            plans.append(
                [
                    ("list", "/admin/youngperson/"),
                    (
                        "search",
                        lambda r=rng: (
                            "/admin/youngperson/?search=" + urllib.parse.quote(r.choice(names))
                        ),
                    ),
                    ("file", lambda r=rng, p=people: f"/admin/interviews/file/{r.choice(p)}"),
                    ("home", "/admin/"),
                ]
            )
        print(f"gunicorn: {args.workers} workers; {len(users)} users signed in", flush=True)
        # Warm-up, not counted: every worker compiles its templates and fills its pool.
        run(users, plans, 5, 0.0)
        think = summary(run(users, plans, args.seconds, args.think))
        closed = summary(run(users, plans, args.seconds / 2, 0.0))
    finally:
        server.terminate()
        server.wait(timeout=30)

    for title, result in (("with 1 s think time", think), ("closed loop", closed)):
        print(f"\n{title}:")
        for label, row in result.items():
            print(
                f"  {label:<8} {row['requests']:6d} req  errors {row['errors']:3d}  "
                f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f}"
                f"  max {row['max_ms']:7.1f} ms"
                + (f"  {row['per_second']:.1f} req/s" if "per_second" in row else "")
            )
    if args.json:
        args.json.write_text(json.dumps({"think": think, "closed": closed}, indent=1))


if __name__ == "__main__":
    main()
