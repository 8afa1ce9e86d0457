"""Configuration read from the environment; ``create_app(config)`` may override any key."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver (``postgres://`` included)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Read the secret key kept in the instance folder, writing a new random one on first start."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class Config:
    """Defaults; every value can come from an environment variable of the same name."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SECRET_KEY = os.environ.get("SECRET_KEY")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "fr")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("BABEL_DEFAULT_TIMEZONE", "Europe/Paris")
    LANGUAGES = ("fr", "en")
    ENV_NAME = os.environ.get("BACKOFFICE_ENV", "development")  # "production" hardens the app
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: long interviews stay valid
    FLASK_ADMIN_SWATCH = "default"
    # Failed sign-ins allowed per account and per address. With several app servers, point
    # RATELIMIT_STORAGE_URI at a shared store (redis://…) so that they count together.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    #: Who answers accessibility requests (the statement page's contact).
    ACCESSIBILITY_CONTACT = os.environ.get("ACCESSIBILITY_CONTACT", "")
    PAGE_SIZE = 20
    #: A diagnosis domain not discussed for this many months is pointed out on the file and in
    #: the wizard's step 2 (the whole situation, covered over time).
    DIAGNOSIS_REVIEW_MONTHS = int(os.environ.get("DIAGNOSIS_REVIEW_MONTHS", 6))
    #: *Sans progression*: nothing concrete, or nothing done, over the last N interviews, or
    #: no interview for this many days (after a change: ``flask progress-refresh``).
    STALLING_INTERVIEWS = int(os.environ.get("STALLING_INTERVIEWS", 3))
    STALLING_DAYS_WITHOUT_INTERVIEW = int(os.environ.get("STALLING_DAYS_WITHOUT_INTERVIEW", 45))
    # Data protection (domain/gdpr.py): a young person's data are kept this many years after
    # the last contact or the exit, then anonymised; the journals this many days.
    RETENTION_YEARS = int(os.environ.get("RETENTION_YEARS", 2))
    LOG_RETENTION_DAYS = int(os.environ.get("LOG_RETENTION_DAYS", 365))
    # Who the young people write to about their data (the information notice shows it).
    DPO_CONTACT = os.environ.get(
        "DPO_CONTACT", "le délégué à la protection des données de la mission locale"
    )
    # E-mail (domain/outbox.py): messages wait in the outbox and ``flask tick`` (or ``flask
    # outbox-send``) sends them through this SMTP server; without MAIL_SERVER they stay there,
    # listed under *Messages envoyés* for the admins.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes", "oui")
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "").lower() in ("1", "true", "yes", "oui")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Mission locale <ne-pas-repondre@mission-locale.invalid>"
    )
    #: The address the links of the e-mails start with (the partner's answer link, the young
    #: person's space): the public address of this server.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    #: Sent messages and read notifications are deleted after this many days.
    NOTICES_KEEP_DAYS = int(os.environ.get("NOTICES_KEEP_DAYS", 90))
    #: How long the link to a young person's space stays valid.
    YOUTH_SPACE_DAYS = int(os.environ.get("YOUTH_SPACE_DAYS", 60))
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 20 * 1024 * 1024))
    #: Where uploads wait between preview and confirmation (default: ``instance/imports``);
    #: each is deleted once used, and after an hour at the latest.
    IMPORT_UPLOAD_FOLDER = os.environ.get("IMPORT_UPLOAD_FOLDER")
    # Uploads a little above the import limit reach the importer, which says so in French.
    MAX_CONTENT_LENGTH = IMPORT_MAX_BYTES + 1024 * 1024
