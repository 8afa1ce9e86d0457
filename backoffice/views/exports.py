"""Every screen's export, CSV or .xlsx, through the one engine (``domain/csvio``).

A screen with an import declaration (``csv_entity``) exports the very file its import reads back.
Any other screen exports the columns it declares for export, typed where the value is a date, a
number or a yes/no, and as the text the screen shows otherwise (labels, names). Both honour the
list's search, filters, sort and the user's scope, return every matching row (never a page), are
streamed with flat memory, and neutralise cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal

from flask import Response, stream_with_context
from flask_login import current_user

from ..domain.csvio import csv_stream, export_cells, spec_for, write_xlsx
from ..extensions import db

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows fetched per round trip while streaming an export.
BATCH = 1000
#: An .xlsx export is built in memory up to this size, then on disk.
SPOOL_BYTES = 8 * 1024 * 1024
TYPED = (dt.date, Decimal, bool, int, float)


def _screen_cells(view, query):
    """Typed values of a screen without import declaration, one list per row."""
    columns = [name for name, _label in view._export_columns]
    formatted = set(view.column_formatters_export or {}) | set(view.column_choices or {})
    try:
        rows = query.yield_per(BATCH)
    except Exception:  # a collection eager-loaded by join cannot be streamed: plain iteration
        rows = query
    for row in rows:
        cells = []
        for name in columns:
            raw = _attribute(row, name)
            if name not in formatted and isinstance(raw, TYPED):
                cells.append(raw)
            elif raw is None and name not in formatted:
                cells.append(None)
            else:
                value = view.get_export_value(row, name)
                cells.append(value if isinstance(value, TYPED) else _text(value))
        yield cells


def _attribute(row, name: str):
    value = row
    for part in name.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def _ending_the_transaction(chunks):
    """Stream ``chunks``, then end the session's transaction: the rows were read through a
    server-side cursor, and a connection left "idle in transaction" after the download would
    hold its locks (a migration, a DROP, VACUUM would wait on it)."""
    try:
        yield from chunks
    finally:
        db.session.remove()


#: The roles whose list exports carry the fields the model declares sensitive (health,
#: disability: ``info={"sensitive": True}``); the others export without them (minimisation).
SENSITIVE_EXPORTERS = frozenset({"admin"})


def _shown_to(user, model, field) -> bool:
    column = model.__table__.c.get(field.attr)
    sensitive = column is not None and column.info.get("sensitive", False)
    return not sensitive or user.role in SENSITIVE_EXPORTERS


def stream_export(view, query, export_type: str, name: str) -> Response:
    """The export response for ``view``'s ``query`` (every row), as CSV or .xlsx."""
    if view.csv_entity is not None:
        spec = spec_for(view.csv_entity)
        headers = [f for f in spec.fields(db.session) if _shown_to(current_user, spec.model, f)]
        cells = export_cells(spec, headers, query)
        title = spec.label
    else:
        headers = [str(label) for _name, label in view._export_columns]
        cells = _screen_cells(view, query)
        title = str(view.name)
    no_store = {"Cache-Control": "no-store"}
    if export_type == "xlsx":
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        write_xlsx(spool, headers, cells, title)
        size = spool.tell()
        spool.seek(0)

        def chunks():
            with spool:
                while block := spool.read(1 << 16):
                    yield block

        return Response(
            chunks(),
            mimetype=XLSX_MIMETYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{name}.xlsx"',
                "Content-Length": str(size),
                **no_store,
            },
        )
    return Response(
        stream_with_context(_ending_the_transaction(csv_stream(headers, cells))),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **no_store},
    )
