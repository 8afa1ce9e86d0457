"""Sign-in and sign-out, outside the admin: Flask-Login sessions, Flask-WTF forms (CSRF included)."""

from __future__ import annotations

import hmac
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
from werkzeug.security import check_password_hash, generate_password_hash
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
def load_user(session_id: str) -> User | None:
    """Reload the user of the session from ``id:token`` (``User.get_id``): a cookie whose token
    has changed since — sign-out, password change, deactivation, "déconnecter partout" — is
    refused, so a stolen or replayed cookie stops working."""
    user_id, _, token = (session_id or "").partition(":")
    pk = values.parse_id(user_id)
    user = db.session.get(User, pk) if pk is not None else None
    if user is None or not user.active or not token:
        return None
    if not hmac.compare_digest(token.encode(), (user.session_token or "").encode()):
        return None
    return user


#: Checked against when the account does not exist, so that a sign-in takes as long whether the
#: e-mail is known or not (the timing told 0.007 s from 0.41 s).
_DUMMY_HASH = generate_password_hash("not a password: timing only", method="scrypt")


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
        if user is None or not user.password_hash:
            check_password_hash(_DUMMY_HASH, form.password.data)  # the same time either way
        elif user.check_password(form.password.data) and user.active:
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        flash(_("E-mail ou mot de passe incorrect, ou compte désactivé."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST only, with its CSRF token, so that no link or image can sign anyone out).
    The account's session token changes: this cookie, replayed, opens nothing any more."""
    current_user.end_sessions()
    db.session.commit()
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


@bp.route("/accessibilite")
def accessibility():
    """Déclaration d'accessibilité (RGAA 4.1): status, what was tested and how, what is not
    accessible yet, how to get help or complain. Public, like the sign-in page."""
    return render_template("auth/accessibility.html")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user changes their own password, proving they know the current one."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Mot de passe actuel incorrect."))
        else:
            current_user.set_password(form.new_password.data)  # ends the other sessions
            db.session.commit()
            login_user(current_user._get_current_object())  # this one goes on, with the new token
            flash(_("Votre mot de passe a été changé."), "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form)
