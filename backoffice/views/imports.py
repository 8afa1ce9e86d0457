"""Imports: upload → preview (counts, diffs, errors by line) → confirm, in one transaction.

The uploaded bytes wait in the instance folder between the preview and the confirmation, under a
random token bound to the user's session; the confirmation re-reads them, so nothing is trusted
from the browser but the token.
"""

from __future__ import annotations

import json
import secrets
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
    stream_with_context,
    url_for,
)
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ..domain.csvio import (
    ENTITIES,
    EXAMPLES,
    csv_stream,
    error_report_csv,
    export_cells,
    log_import,
    run_import,
    spec_for,
    xlsx_bytes,
)
from ..extensions import db
from ..models import ImportRun

#: Which screen's "edit" permission allows importing each entity.
ENTITY_SCREENS = {
    "partners": "partner",
    "aids": "aidtype",
    "youths": "youngperson",
    "counsellors": "account",
    "sites": "site",
    "diagnosis": "diagnosissituation",
}
TOKEN_KEY = "pending_imports"


def _screen(admin, entity: str):
    endpoint = ENTITY_SCREENS[entity]
    return next(v for v in admin._views if getattr(v, "endpoint", None) == endpoint)


def stream_export(view, spec_name: str, query, export_type: str, name: str) -> Response:
    """A list's export through the CSV engine: streamed CSV, or an .xlsx workbook."""
    spec = spec_for(spec_name)
    fields = spec.fields(db.session)
    cells = export_cells(spec, fields, query)
    if export_type == "xlsx":
        return Response(
            xlsx_bytes(fields, cells, spec.label),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        stream_with_context(csv_stream(fields, cells)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


class ImportView(BaseView):
    """Imports CSV / Excel: one page per step, French messages, nothing written until confirmed."""

    def is_accessible(self):
        return current_user.is_authenticated and bool(self.allowed_entities())

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def allowed_entities(self) -> list[str]:
        return [e for e in ENTITIES if _screen(self.admin, e).allowed("edit")]

    def _entity_or_404(self, entity: str) -> str:
        if entity not in self.allowed_entities():
            abort(404)
        return entity

    def _folder(self) -> Path:
        folder = Path(current_app.instance_path) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _site_restriction(self, entity: str) -> int | None:
        if entity == "youths" and current_user.role != "admin":
            return current_user.site_id or -1
        return None

    @expose("/")
    def index(self):
        runs = db.session.scalars(
            sa.select(ImportRun).order_by(ImportRun.at.desc(), ImportRun.id.desc()).limit(20)
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
        token = secrets.token_urlsafe(24)
        (self._folder() / f"{token}.bin").write_bytes(data)
        (self._folder() / f"{token}.json").write_text(
            json.dumps({"entity": entity, "filename": upload.filename, "user_id": current_user.id})
        )
        session.setdefault(TOKEN_KEY, [])
        session[TOKEN_KEY] = [*session[TOKEN_KEY][-9:], token]
        report = self._run(entity, data, upload.filename, commit=False)
        log_import(db.session, report, current_user.id, "dry_run")
        return self.render(
            "admin/imports/preview.html",
            report=report,
            token=token,
            entity=entity,
            label=ENTITIES[entity].label,
        )

    def _pending(self, token: str) -> tuple[dict, bytes]:
        if (
            token not in session.get(TOKEN_KEY, [])
            or not token.replace("-", "").replace("_", "").isalnum()
        ):
            abort(404)
        folder = self._folder()
        try:
            meta = json.loads((folder / f"{token}.json").read_text())
            data = (folder / f"{token}.bin").read_bytes()
        except (OSError, ValueError):
            abort(404)
        if meta.get("user_id") != current_user.id:
            abort(404)
        self._entity_or_404(meta["entity"])
        return meta, data

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
        if report.written:
            for suffix in (".bin", ".json"):
                (self._folder() / f"{token}{suffix}").unlink(missing_ok=True)
            session[TOKEN_KEY] = [t for t in session.get(TOKEN_KEY, []) if t != token]
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
            return redirect(url_for(f"{ENTITY_SCREENS[meta['entity']]}.index_view"))
        flash(_("Fichier refusé : rien n'a été écrit. Corrigez les lignes signalées."), "error")
        return self.render(
            "admin/imports/preview.html",
            report=report,
            token=token,
            entity=meta["entity"],
            label=ENTITIES[meta["entity"]].label,
        )

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
            "".join(csv_stream(fields, [EXAMPLES[entity]])),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="modele-{entity}.csv"'},
        )
