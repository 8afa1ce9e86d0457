"""Uploaded files waiting between an import's preview and its confirmation.

They hold young people's personal data, so they live no longer than their use: deleted when the
import is confirmed, cancelled or refused, and after ``MAX_AGE`` at the latest (a purge runs at
each upload, and ``flask imports-purge`` can run from cron).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from pathlib import Path

#: How long an upload may wait for its confirmation.
MAX_AGE = dt.timedelta(hours=1)
SUFFIXES = (".bin", ".json")


def _valid(token: str) -> bool:
    return 20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()


def store(folder: Path, data: bytes, meta: dict) -> str:
    """Keep ``data`` and its ``meta`` under a fresh random token; return the token."""
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False))
    return token


def load(folder: Path, token: str) -> tuple[dict, bytes] | None:
    """The meta and bytes of a waiting upload, or None (unknown, purged, malformed token)."""
    if not _valid(token):
        return None
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    return meta, data


def discard(folder: Path, token: str) -> None:
    """Delete a waiting upload (idempotent)."""
    if not _valid(token):
        return
    for suffix in SUFFIXES:
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def purge(folder: Path, max_age: dt.timedelta = MAX_AGE, now: float | None = None) -> int:
    """Delete the uploads older than ``max_age``; return how many were deleted."""
    if not folder.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - max_age.total_seconds()
    tokens = set()
    for path in folder.iterdir():
        if path.suffix in SUFFIXES and path.stat().st_mtime < limit:
            tokens.add(path.stem)
    for token in tokens:
        for suffix in SUFFIXES:
            (folder / f"{token}{suffix}").unlink(missing_ok=True)
    return len(tokens)
