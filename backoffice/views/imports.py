"""Imports: upload → preview (counts, diffs, errors by line) → confirm, in one transaction.

The uploaded bytes wait in the instance folder between the preview and the confirmation, under a
random token bound to the user's session; the confirmation re-reads them, so nothing is trusted
from the browser but the token.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ..domain.csvio import (
    ENTITIES,
    csv_stream,
    error_report_csv,
    log_import,
    run_import,
    spec_for,
    uploads,
)
from ..extensions import db
from ..models import ImportRun, User

TOKEN_KEY = "pending_imports"


def _import_screens(admin, entity: str) -> list:
    return [
        v
        for v in admin._views
        if getattr(v, "csv_entity", None) == entity and getattr(v, "csv_imports", False)
    ]


def screen_of(admin, entity: str):
    """The screen that imports ``entity`` (its ``edit`` permission allows the import; start-up
    checks there is exactly one)."""
    return _import_screens(admin, entity)[0]


def check_declarations(admin) -> None:
    """At start-up: every import declaration is complete and named by one screen, and every
    screen's ``csv_entity`` is declared. A missing piece stops the app with a clear message
    instead of a KeyError on every admin page."""
    problems = []
    for name, spec in ENTITIES.items():
        problems.extend(spec.check_declaration())
        screens = _import_screens(admin, name)
        if len(screens) != 1:
            problems.append(
                f"import declaration {name!r}: {len(screens)} screens import it "
                f"(csv_entity = {name!r}, csv_imports = True); exactly one must"
            )
    for view in admin._views:
        entity = getattr(view, "csv_entity", None)
        if entity is not None and entity not in ENTITIES:
            problems.append(f"{type(view).__name__}.csv_entity = {entity!r} is not declared")
    if problems:
        raise RuntimeError("Import/export declarations:\n  " + "\n  ".join(problems))


class ImportView(BaseView):
    """Imports CSV / Excel: one page per step, French messages, nothing written until confirmed."""

    def is_accessible(self):
        return current_user.is_authenticated and bool(self.allowed_entities())

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def allowed_entities(self) -> list[str]:
        return [e for e in ENTITIES if screen_of(self.admin, e).allowed("edit")]

    def _entity_or_404(self, entity: str) -> str:
        if entity not in self.allowed_entities():
            abort(404)
        return entity

    def _folder(self) -> Path:
        return Path(current_app.config["IMPORT_UPLOAD_FOLDER"])

    def _site_restriction(self, entity: str) -> int | None:
        if entity in ("youths", "situations") and current_user.role != "admin":
            return current_user.site_id or -1
        return None

    def _runs_in_scope(self):
        """An admin sees every import, a manager their site's, anyone else their own."""
        stmt = sa.select(ImportRun)
        if current_user.role == "admin":
            return stmt
        if current_user.role == "manager" and current_user.site_id is not None:
            return stmt.join(User, User.id == ImportRun.user_id).where(
                User.site_id == current_user.site_id
            )
        return stmt.where(ImportRun.user_id == current_user.id)

    @expose("/")
    def index(self):
        runs = db.session.scalars(
            self._runs_in_scope().order_by(ImportRun.at.desc(), ImportRun.id.desc()).limit(20)
        ).all()
        return self.render(
            "admin/imports/index.html",
            entities=self.allowed_entities(),
            runs=runs,
            labels={name: ENTITIES[name].label for name in ENTITIES},
            max_mb=current_app.config["IMPORT_MAX_BYTES"] // 1_048_576,
        )

    @expose("/preview", methods=["POST"])
    def preview(self):
        entity = request.form.get("entity", "")
        if entity not in ENTITIES:
            flash(_("Choisissez ce que vous importez."), "error")
            return redirect(url_for(".index"))
        self._entity_or_404(entity)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choisissez un fichier CSV ou Excel (.xlsx)."), "error")
            return redirect(url_for(".index"))
        data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        uploads.purge(self._folder())
        report = self._run(entity, data, upload.filename, commit=False)
        log_import(db.session, report, current_user.id, "dry_run")
        token = None
        if not report.file_refused:  # kept for the confirmation, the error report, an hour
            token = uploads.store(
                self._folder(),
                data,
                {"entity": entity, "filename": upload.filename, "user_id": current_user.id},
            )
            session[TOKEN_KEY] = [*session.get(TOKEN_KEY, [])[-9:], token]
        return self.render(
            "admin/imports/preview.html",
            report=report,
            token=token,
            entity=entity,
            label=ENTITIES[entity].label,
        )

    def _pending(self, token: str) -> tuple[dict, bytes]:
        if token not in session.get(TOKEN_KEY, []):
            abort(404)
        pending = uploads.load(self._folder(), token)
        if pending is None:
            abort(404)
        meta, data = pending
        if meta.get("user_id") != current_user.id:
            abort(404)
        self._entity_or_404(meta["entity"])
        return meta, data

    def _forget(self, token: str) -> None:
        uploads.discard(self._folder(), token)
        session[TOKEN_KEY] = [t for t in session.get(TOKEN_KEY, []) if t != token]

    def _run(self, entity, data, filename, commit, valid_only=False):
        spec = spec_for(entity)
        spec.only_site_id = self._site_restriction(entity)
        return run_import(
            db.session,
            spec,
            data,
            filename,
            commit=commit,
            valid_only=valid_only,
            max_bytes=current_app.config["IMPORT_MAX_BYTES"],
        )

    @expose("/confirm", methods=["POST"])
    def confirm(self):
        token = request.form.get("token", "")
        meta, data = self._pending(token)
        valid_only = request.form.get("valid_only") == "1"
        report = self._run(
            meta["entity"], data, meta["filename"], commit=True, valid_only=valid_only
        )
        log_import(db.session, report, current_user.id, "valid_only" if valid_only else "commit")
        self._forget(token)  # written or refused, the upload has served
        if report.written:
            flash(
                _(
                    "Import terminé : %(c)d créé(s), %(u)d modifié(s), %(n)d inchangé(s), "
                    "%(s)d ligne(s) ignorée(s).",
                    c=report.created,
                    u=report.updated,
                    n=report.unchanged,
                    s=report.skipped,
                ),
                "success",
            )
            return redirect(url_for(f"{screen_of(self.admin, meta['entity']).endpoint}.index_view"))
        flash(_("Fichier refusé : rien n'a été écrit. Corrigez les lignes signalées."), "error")
        return self.render(
            "admin/imports/preview.html",
            report=report,
            token=None,
            entity=meta["entity"],
            label=ENTITIES[meta["entity"]].label,
        )

    @expose("/cancel", methods=["POST"])
    def cancel(self):
        """Drop a previewed file: nothing is written and the upload is deleted at once."""
        token = request.form.get("token", "")
        if token in session.get(TOKEN_KEY, []):
            self._forget(token)
        flash(_("Import annulé : le fichier envoyé a été supprimé."), "info")
        return redirect(url_for(".index"))

    @expose("/errors/<token>.csv")
    def errors(self, token):
        meta, data = self._pending(token)
        spec = spec_for(meta["entity"])
        spec.only_site_id = self._site_restriction(meta["entity"])
        text = error_report_csv(db.session, spec, data, meta["filename"])
        return Response(
            text,
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="erreurs-{meta["entity"]}.csv"'},
        )

    @expose("/template/<entity>.csv")
    def template(self, entity):
        self._entity_or_404(entity)
        spec = spec_for(entity)
        fields = spec.fields(db.session)
        return Response(
            "".join(csv_stream(fields, [spec.example])),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="modele-{entity}.csv"'},
        )
