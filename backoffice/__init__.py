"""The mission-locale back-office: ``create_app()`` builds a configured Flask application."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, g, has_request_context, render_template, request, session
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .config import Config, instance_secret_key, normalise_database_url
from .domain.values import has_control_characters
from .extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    """Create the app: configuration, extensions, admin screens, sign-in and CLI commands."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.setdefault("APP_NAME", "Mission locale")
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("IMPORT_UPLOAD_FOLDER"):
        app.config["IMPORT_UPLOAD_FOLDER"] = str(Path(app.instance_path) / "imports")

    _configure_database(app)
    _configure_secret_key(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config.get("ENV_NAME") == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True

    from .domain import audit
    from .domain import interviews as interview_rules

    audit.install()
    interview_rules.install()
    interview_rules.configure(
        interview_rules.StallingRule(
            interviews=app.config["STALLING_INTERVIEWS"],
            days_without_interview=app.config["STALLING_DAYS_WITHOUT_INTERVIEW"],
        )
    )
    from .domain import notices
    from .domain import workflow as workflows

    notices.configure(_notice_settings)
    if notices.on_fired not in workflows.LISTENERS:
        workflows.LISTENERS.append(notices.on_fired)
    _register_template_helpers(app)
    _register_error_pages(app)
    _refuse_control_characters(app)
    _register_health_check(app)

    from . import views

    views.init_app(app)

    from . import cli

    cli.init_app(app)
    return app


def _notice_settings():
    """What the e-mails need from the current app's configuration (``domain/notices.py``)."""
    from flask import current_app

    from .domain import notices

    config = current_app.config
    return notices.Settings(
        public_url=config["PUBLIC_URL"],
        secret_key=config["SECRET_KEY"],
        app_name=config["APP_NAME"],
    )


def _configure_database(app: Flask) -> None:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + str(Path(app.instance_path) / "backoffice.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Per app process: a gunicorn sync worker uses one connection at a time, so a small
        # pool suffices; workers x servers x (size + overflow) must stay under PostgreSQL's
        # max_connections (README, "Production").
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("pool_size", int(os.environ.get("DB_POOL_SIZE", 5)))
        options.setdefault("max_overflow", int(os.environ.get("DB_MAX_OVERFLOW", 5)))
        options.setdefault("pool_recycle", 1800)  # behind a proxy or a firewall that cuts idle ones


def _configure_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("ENV_NAME") == "production":
        raise RuntimeError(
            "SECRET_KEY must be set in production (BACKOFFICE_ENV=production): refusing to start."
        )
    app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)


def select_locale() -> str:
    """``?lang=`` (remembered in the session), then the user's preference, then French."""
    languages = ("fr", "en")
    if not has_request_context():
        return "fr"
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    # The user already loaded for this request, if any: never load it here, so that an error
    # page (the database being down, say) renders without touching the database.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        if user.locale in languages:
            return user.locale
    return "fr"


def _register_template_helpers(app: Flask) -> None:
    def csp_nonce() -> str:
        if "csp_nonce" not in g:
            g.csp_nonce = secrets.token_urlsafe(16)
        return g.csp_nonce

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    from .views.form_errors import error_items, has_required, wizard_items

    app.jinja_env.globals["error_items"] = error_items
    app.jinja_env.globals["has_required"] = has_required
    app.jinja_env.globals["wizard_items"] = wizard_items

    @app.before_request
    def _audit_actor():
        from .domain import audit

        if current_user.is_authenticated:
            audit.set_actor(db.session, current_user.id, current_user.email)
        else:
            audit.set_actor(db.session, None, "anonyme")

    app.jinja_env.filters["localdate_only"] = lambda value: (
        value.strftime("%d/%m/%Y") if value else ""
    )
    app.jinja_env.filters["number"] = lambda value: format_decimal(value)  # 12 345 in French
    from .domain.values import format_figure, format_quantity

    app.jinja_env.filters["amount"] = format_quantity  # 1 500 €, 10 tickets
    app.jinja_env.filters["figure"] = format_figure  # a report's figure: 12 345, 42,5, —
    # An appointment, stored as typed (local wall time): "03/12/2026 à 14 h 30".
    app.jinja_env.filters["wall_datetime"] = lambda value: (
        value.strftime("%d/%m/%Y à %H h %M").replace(" h 00", " h") if value else ""
    )
    app.jinja_env.filters["localdatetime"] = lambda value: (
        format_datetime(value, "dd/MM/yyyy HH:mm") if value else ""
    )

    @app.context_processor
    def _locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale() or "fr")}

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint not in ("static", "admin.static"):
            # Pages and exports hold young people's data: no copy in a browser's or a proxy's
            # cache (a shared computer's "back" button, a proxy's disk).
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        return response


DATABASE_DOWN_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Service momentanément indisponible</title>
</head><body style="font-family: sans-serif; max-width: 36rem; margin: 10vh auto; padding: 0 1rem">
<main><h1>Service momentanément indisponible (503)</h1>
<p>La base de données ne répond pas. Rien de ce que vous venez de faire n'a été enregistré.</p>
<p>Réessayez dans quelques minutes ; si cela dure, prévenez l'équipe technique.</p></main>
</body></html>"""


def _forget_session_quietly() -> None:
    """Roll back what this request did, without failing when the database is gone."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - an error page must render whatever the database does
        pass


def _register_health_check(app: Flask) -> None:
    @app.route("/healthz")
    def healthz():
        """For a load balancer: 200 when the database answers and its schema is at the
        migrations' head, 503 otherwise. No personal data, no sign-in needed."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory(MIGRATIONS).get_current_head()
        try:
            with db.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        except sa.exc.SQLAlchemyError:
            return {"database": "injoignable", "migrations": None}, 503
        if current != head:
            return {"database": "ok", "migrations": f"{current} (attendu : {head})"}, 503
        return {"database": "ok", "migrations": head}, 200


def _refuse_control_characters(app: Flask) -> None:
    """One rule for every door: a query parameter or a form value holding a NUL or another
    control character (tab and line breaks excepted) is refused with a 400 page before any
    view runs. Nobody types them; PostgreSQL refuses NUL in text with an error, and they
    would end up in files and logs."""

    @app.before_request
    def _check():
        for source in (request.args, request.form):
            for key, values in source.lists():
                if has_control_characters(key) or any(map(has_control_characters, values)):
                    abort(400)


def _register_error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return page(
            400,
            _("Formulaire expiré"),
            _(
                "Le formulaire a expiré ou ne vient pas de cette application : rien n'a été "
                "enregistré. Revenez en arrière, rechargez la page et recommencez."
            ),
        )

    @app.errorhandler(400)
    def _bad_request(error):
        return page(
            400,
            _("Requête invalide"),
            _(
                "Cette adresse ou ce formulaire contient des caractères invalides : rien n'a été "
                "enregistré. Revenez à la page précédente et saisissez à nouveau."
            ),
        )

    @app.errorhandler(403)
    def _forbidden(error):
        return page(403, _("Accès refusé"), _("Votre rôle ne permet pas d'ouvrir cette page."))

    @app.errorhandler(404)
    def _not_found(error):
        return page(404, _("Page introuvable"), _("Cette page ou cette fiche n'existe pas."))

    @app.errorhandler(405)
    def _method(error):
        return page(405, _("Action impossible"), _("Cette adresse ne s'utilise pas ainsi."))

    @app.errorhandler(413)
    def _too_large(error):
        return page(413, _("Fichier trop volumineux"), _("Le fichier dépasse la taille permise."))

    @app.errorhandler(429)
    def _too_many(error):
        return page(
            429,
            _("Trop de tentatives"),
            _(
                "Trop de tentatives de connexion échouées : attendez quelques minutes avant de "
                "réessayer, ou demandez à un administrateur de vérifier votre compte."
            ),
        )

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def _database_unavailable(error):
        """The database cannot be reached: a static French page, no database access, so that
        this handler cannot fail in turn (it used to, leaving a bare English error)."""
        app.logger.error("Database unavailable: %s", error)
        _forget_session_quietly()
        return (
            DATABASE_DOWN_PAGE,
            503,
            {"Content-Type": "text/html; charset=utf-8", "Retry-After": "30"},
        )

    @app.errorhandler(500)
    def _server_error(error):
        _forget_session_quietly()
        return page(
            500,
            _("Erreur inattendue"),
            _(
                "Une erreur inattendue s'est produite ; rien n'a été enregistré. L'équipe "
                "technique peut la retrouver dans les journaux."
            ),
        )
