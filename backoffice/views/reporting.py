"""*Pilotage*: the director's activity report — period and site filters, each figure beside the
same period a year earlier with its definition, charts with their tables, one .xlsx of the
whole report and a CSV per table. The figures come from ``domain/reporting.py`` only."""

from __future__ import annotations

import datetime as dt
import io
import re

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import reporting
from ..domain.csvio import csv_stream, write_xlsx_sheets
from ..domain.values import InvalidValue
from ..domain.vocabularies import N_
from ..extensions import db
from ..models import Site

READERS = frozenset({"admin", "manager"})
PERIOD_KINDS = (
    ("year", N_("Année")),
    ("quarter", N_("Trimestre")),
    ("month", N_("Mois")),
    ("dates", N_("Entre deux dates")),
)


def _default_value(kind: str, today: dt.date) -> str:
    """The last complete year, quarter or month: what a director reports on."""
    if kind == "quarter":
        quarter = (today.month - 1) // 3
        year = today.year if quarter else today.year - 1
        return f"{year}-T{quarter or 4}"
    if kind == "month":
        first = today.replace(day=1) - dt.timedelta(days=1)
        return f"{first:%Y-%m}"
    return str(today.year - 1)


class PilotageView(BaseView):
    """Pilotage: for managers (their site, or every site when they have none) and admins."""

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in READERS

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    # --- what was asked, within what this user may see --------------------------------------

    def _sites(self) -> list[Site]:
        stmt = sa.select(Site).order_by(Site.name)
        if current_user.role != "admin" and current_user.site_id is not None:
            stmt = stmt.where(Site.id == current_user.site_id)
        return db.session.scalars(stmt).all()

    def _asked(self):
        """(period, site, the filters as typed, problems): a bad filter falls back to the
        default with a French message, never a 500."""
        args = request.args
        kind = args.get("periode", "year")
        if kind not in dict(PERIOD_KINDS):
            kind = "year"
        today = dt.date.today()
        typed = {
            "periode": kind,
            "valeur": args.get("valeur") or _default_value(kind, today),
            "du": args.get("du", ""),
            "au": args.get("au", ""),
            "antenne": args.get("antenne", ""),
        }
        problems = []
        try:
            period = reporting.period_of(kind, typed["valeur"], typed["du"], typed["au"])
        except InvalidValue as error:
            problems.append(str(error))
            typed.update(periode="year", valeur=_default_value("year", today))
            period = reporting.period_of("year", typed["valeur"])
        sites = self._sites()
        allowed = {s.id: s for s in sites}
        fixed = current_user.role != "admin" and current_user.site_id is not None
        wanted = typed["antenne"]
        site = None
        if fixed:  # a site's manager sees that site, whatever the address says
            site = allowed[current_user.site_id]
        elif wanted:
            site = allowed.get(int(wanted)) if wanted.isdigit() else None
            if site is None:
                problems.append(_("Antenne inconnue : voici toutes les antennes."))
        typed["antenne"] = str(site.id) if site else ""
        return period, site, typed, problems, sites, fixed

    def _report(self, only=None):
        period, site, typed, problems, sites, fixed = self._asked()
        built = reporting.report(
            db.session,
            period,
            site.id if site else None,
            site.name if site else _("Toutes les antennes"),
            only=only,
        )
        return built, typed, problems, sites, fixed

    # --- pages ------------------------------------------------------------------------------

    @expose("/")
    def index(self):
        built, typed, problems, sites, fixed = self._report()
        for problem in problems:
            flash(problem, "error")
        return self.render(
            "admin/reporting/index.html",
            report=built,
            sections=[_display(s) for s in built.sections],
            typed=typed,
            kinds=PERIOD_KINDS,
            sites=sites,
            fixed=fixed,
            export_args={k: v for k, v in typed.items() if v},
            charts={
                s.indicator.key: {
                    "labels": [label for label, _v in s.current.rows],
                    "current": [_number(v[0]) for _l, v in s.current.rows],
                    "previous": [
                        _number(s.previous.as_dict().get(label, [None])[0])
                        for label, _v in s.current.rows
                    ],
                    "series": [built.period.label, built.previous.label],
                }
                for s in built.sections
                if s.indicator.chart
            },
        )

    @expose("/export.xlsx")
    def export_xlsx(self):
        """The whole report, a sheet per table, typed cells, with its definitions."""
        built, _typed, _problems, _sites, _fixed = self._report()
        buffer = io.BytesIO()
        write_xlsx_sheets(
            buffer, [_summary_sheet(built), *(_sheet(built, s) for s in built.sections)]
        )
        return Response(
            buffer.getvalue(),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(built)}.xlsx"',
                "Cache-Control": "no-store",
            },
        )

    @expose("/export.csv")
    def export_csv(self):
        """One table as CSV (French Excel and LibreOffice: BOM, ``;``)."""
        key = request.args.get("table", "")
        if key not in reporting.by_key():
            abort(404)
        built, _typed, _problems, _sites, _fixed = self._report(only=[key])
        _title, _preamble, headers, rows = _sheet(built, built.sections[0])
        return Response(
            "".join(csv_stream(headers, rows)),
            mimetype="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(built)}-{key}.csv"',
                "Cache-Control": "no-store",
            },
        )


def _display(section: reporting.Section) -> dict:
    """A section's texts translated here (its labels may hold a "%", which the template's
    ``_()`` would take for a placeholder)."""
    indicator = section.indicator
    return {
        "key": indicator.key,
        "title": _(indicator.title),
        "definition": _(indicator.definition),
        "chart": indicator.chart,
        "measures": [_(m) for m in section.current.measures],
        "rows": [(_(label), now, before) for label, now, before in section.rows()],
    }


def _number(value):
    return float(value) if value is not None and not isinstance(value, str) else None


def _filename(built: reporting.Report) -> str:
    text = f"pilotage-{built.period.label}-{built.site_name}"
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text.encode("ascii", "ignore").decode()).strip("-")


def _sheet(built: reporting.Report, section: reporting.Section):
    """(title, preamble, header, rows) of one table: each measure for the period, then a year
    earlier."""
    indicator = section.indicator
    headers = [_("Libellé")]
    for measure in section.current.measures:
        headers += [
            f"{_(measure)} — {built.period.label}",
            f"{_(measure)} — {built.previous.label}",
        ]
    rows = []
    for label, now, before in section.rows():
        cells = [_(label)]
        for current, previous in zip(now, before, strict=True):
            cells += [current, previous]
        rows.append(cells)
    preamble = [
        _(indicator.title),
        f"{built.site_name}, {built.period.label} (comparé à {built.previous.label})",
        _(indicator.definition),
    ]
    return _(indicator.title), preamble, headers, rows


def _summary_sheet(built: reporting.Report):
    rows = [[_(s.indicator.title), _(s.indicator.definition)] for s in built.sections]
    preamble = [
        _("Pilotage de l'activité"),
        f"{built.site_name}, {built.period.label} (comparé à {built.previous.label})",
        f"Édité le {dt.date.today():%d/%m/%Y}",
    ]
    return _("Définitions"), preamble, [_("Indicateur"), _("Définition")], rows
