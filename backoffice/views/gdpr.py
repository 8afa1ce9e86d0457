"""Conservation (RGPD): the anonymisations the retention rule will make in the coming month,
each extendable with a reason, and what it would do today (the dry run of ``flask
retention``). Admins only."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import gdpr, values
from ..extensions import db
from ..models import YoungPerson


class RetentionView(BaseView):
    """Conservation des données: upcoming anonymisations and their extensions."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role == "admin"

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self):
        today = dt.date.today()
        config = current_app.config
        return self.render(
            "admin/gdpr/retention.html",
            today=today,
            years=config["RETENTION_YEARS"],
            log_days=config["LOG_RETENTION_DAYS"],
            due=gdpr.due_for_anonymisation(db.session, today, config["RETENTION_YEARS"]),
            upcoming=gdpr.upcoming_anonymisations(db.session, today, config["RETENTION_YEARS"]),
            plan=gdpr.retention(
                db.session, today, config["RETENTION_YEARS"], config["LOG_RETENTION_DAYS"], False
            ),
        )

    @expose("/prolonger/<young_person_id>", methods=["POST"])
    def extend(self, young_person_id):
        person = db.session.get(YoungPerson, values.parse_id(young_person_id) or 0)
        if person is None:
            abort(404)
        try:
            typed = (request.form.get("until") or "").strip()
            until = values.parse_date(typed) if typed else None
            gdpr.extend_retention(person, until, request.form.get("note", ""), dt.date.today())
        except (gdpr.AnonymisationRefused, values.InvalidValue) as refusal:
            db.session.rollback()
            flash(str(refusal), "error")
            return redirect(url_for(".index"))
        db.session.commit()
        flash(_("Conservation prolongée jusqu'au %(d)s.", d=until.strftime("%d/%m/%Y")), "success")
        return redirect(url_for(".index"))
