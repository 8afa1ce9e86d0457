"""Minimal settings: one app, no admin, DEBUG off (no query log).

PEER_DATABASE_URL picks the database:
  sqlite:////tmp/peer/peer.sqlite3             (default: peer.sqlite3 beside this project)
  postgresql://postgres@127.0.0.1:5432/peer
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def database_from_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db or sqlite:////absolute/path.db
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path[1:])}
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
        }
    raise ValueError(f"unsupported PEER_DATABASE_URL: {url}")


DATABASES = {
    "default": database_from_url(
        os.environ.get("PEER_DATABASE_URL", f"sqlite:///{BASE_DIR / 'peer.sqlite3'}")
    )
}

INSTALLED_APPS = ["peer"]
SECRET_KEY = "benchmark-only"
DEBUG = False
USE_TZ = False  # naive UTC timestamps, as in the Flask back-office
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IMPORT_EXPORT_USE_TRANSACTIONS = True  # the library's default, stated explicitly
