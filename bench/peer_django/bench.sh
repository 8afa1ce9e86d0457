#!/bin/sh
# Two runs of each loader on SQLite (file) and PostgreSQL; output to results/*.log.
# usage: sh bench.sh [extra run.py args, e.g. --rows 20000]
cd "$(dirname "$0")" && mkdir -p results
PY=${PY:-../venv/bin/python}
PG=${PG:-postgresql://postgres@127.0.0.1:5432/peer}
SQLITE=${SQLITE:-sqlite:///$PWD/peer.sqlite3}
for run in 1 2; do
  for loader in cached stock; do
    PEER_DATABASE_URL=$SQLITE $PY run.py --loader $loader "$@" 2>&1 | tee results/sqlite-$loader-$run.log
    PEER_DATABASE_URL=$PG $PY run.py --loader $loader "$@" 2>&1 | tee results/postgresql-$loader-$run.log
  done
done
