"""Time ``flask seed-demo`` as a user runs it, on a fresh database, with its peak memory.

    .venv/bin/python -m bench.seed_demo                       # SQLite file, 100,000 young people
    .venv/bin/python -m bench.seed_demo 100000 100000         # ... with histories for all
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/benchseed .venv/bin/python -m bench.seed_demo

Each run: an empty database, ``flask db upgrade`` (not timed), then ``flask seed-demo --youths N
--histories M`` in a child process: wall time and the child's peak resident memory. A second
``seed-demo`` with the same arguments shows that it adds nothing (idempotent).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def flask(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    return time.perf_counter() - started, lines[-1] if lines else ""


def main(youths: int, histories: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'seed.sqlite3'}"
        if url.startswith("postgres"):
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            engine.dispose()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
        flask(env, "db", "upgrade")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        first, said = flask(
            env, "seed-demo", "--youths", str(youths), "--histories", str(histories)
        )
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        second, said_again = flask(
            env, "seed-demo", "--youths", str(youths), "--histories", str(histories)
        )
    engine = url.split(":")[0]
    print(f"engine={engine} youths={youths} histories={histories}")
    print(f"seed-demo: {first:.1f} s — {said}")
    print(f"peak RSS of the seed process: {peak_mb:.0f} MB (before: {before / 1024:.0f} MB)")
    print(f"second run (idempotent): {second:.1f} s — {said_again}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 0,
    )
