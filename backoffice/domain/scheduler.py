"""A named lock in the database, so that ``flask tick`` runs once at a time whether cron starts
it on one server or on several: the lock is a row taken by a conditional UPDATE (atomic on
either engine) and released at the end, or left to expire if the process dies."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import SchedulerLock


def acquire(session: Session, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take the lock ``name`` for ``holder`` until ``now + ttl``; False when another holder has
    it. Commits (the lock must be seen by the other servers at once)."""
    # The lock's row, created once (by whichever server comes first).
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(SchedulerLock).values(name=name).on_conflict_do_nothing())
    taken = session.execute(
        sa.update(SchedulerLock)
        .where(
            SchedulerLock.name == name,
            sa.or_(SchedulerLock.until.is_(None), SchedulerLock.until < now),
        )
        .values(holder=holder, until=now + ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return taken == 1


def release(session: Session, name: str, holder: str) -> None:
    """Give the lock back (only if ``holder`` still has it). Commits."""
    session.execute(
        sa.update(SchedulerLock)
        .where(SchedulerLock.name == name, SchedulerLock.holder == holder)
        .values(holder=None, until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
