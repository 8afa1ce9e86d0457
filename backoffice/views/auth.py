"""Sign-in and sign-out, outside the admin: Flask-Login sessions, Flask-WTF forms (CSRF included)."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo

from ..domain import values
from ..extensions import db, limiter, login_manager
from ..models import User
from .validators import password_strength

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(message=_l("Saisissez votre e-mail."))]
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(message=_l("Saisissez votre mot de passe."))]
    )
    remember = BooleanField(_l("Rester connecté·e sur ce poste"))


def safe_next(target: str | None) -> str:
    """Only follow a local ``next`` path, never an absolute URL to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("admin.index")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the user of the session; an account deactivated since then is signed out at once."""
    pk = values.parse_id(user_id)
    user = db.session.get(User, pk) if pk is not None else None
    return user if user is not None and user.active else None


def _failed(response) -> bool:
    """Only failed attempts count towards the limits (a success redirects)."""
    return response.status_code != 302


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
def login():
    """Sign in with e-mail and password; inactive accounts are refused with the same message."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
        if user is not None and user.active and user.check_password(form.password.data):
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        flash(_("E-mail ou mot de passe incorrect, ou compte désactivé."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, with its CSRF token, so that no link or image can sign anyone out)."""
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté·e."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    """The site root leads to the back-office."""
    return redirect(url_for("admin.index"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(message=_l("Obligatoire."))]
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(message=_l("Obligatoire.")), password_strength],
        description=_l("12 caractères au moins. Une phrase de plusieurs mots convient bien."),
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[EqualTo("new_password", message=_l("Les deux saisies diffèrent."))],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user changes their own password, proving they know the current one."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Mot de passe actuel incorrect."))
        else:
            current_user.set_password(form.new_password.data)
            db.session.commit()
            flash(_("Votre mot de passe a été changé."), "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form)
