"""The import/export engine: one engine, one declaration per entity (see ``entities.py``).

Import: read the table, match headers, parse and check every cell, match rows to existing records
by their natural key, and compute what would change. A dry run stops there; a commit writes the
rows in chunks inside one transaction (Core INSERT/UPDATE plus one audit row per record written)
and rolls everything back when any row is invalid, unless ``valid_only`` asks to skip those.
Memory stays flat: rows are processed in chunks and only the key index, the errors and a sample
of the diffs are kept.

Export: stream rows as CSV (UTF-8 with BOM, ``;``) or .xlsx, with cells that a spreadsheet would
run as formulas neutralised; exporting then importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...models import ImportRun, utcnow
from .. import audit
from .cells import CellError, fold, format_value, neutralise, unneutralise
from .reader import DEFAULT_MAX_BYTES, FileError, read_table

CHUNK = 5000
DIFF_SAMPLE = 500


@dataclass
class Field:
    """One column of an entity's file."""

    attr: str  # the database column written (or a virtual name handled by the entity)
    header: str  # the French header of the file
    parse: Callable[[str], object]
    required: bool = False
    empty: object = None  # the value of an empty cell
    aliases: tuple[str, ...] = ()
    #: how the value shows in a diff or an export (e.g. a site id -> its name)
    display: Callable[[object], str] = format_value
    in_key: bool = False


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class RowDiff:
    line: int
    label: str
    changes: dict[str, tuple[str, str]]  # header -> (old, new) as displayed


@dataclass
class ImportReport:
    entity: str
    filename: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    diffs: list[RowDiff] = field(default_factory=list)
    written: bool = False
    valid_only: bool = False
    rows: int = 0

    @property
    def file_refused(self) -> bool:
        """The file as a whole cannot be imported (unreadable, bad header, no rows)."""
        return any(e.line == 1 for e in self.errors)

    @property
    def refused(self) -> bool:
        return self.file_refused or (bool(self.errors) and not self.valid_only)

    @property
    def error_lines(self) -> set[int]:
        return {e.line for e in self.errors}

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
        }


class EntitySpec(ABC):
    """How one entity is imported and exported; subclasses declare, the engine does the rest."""

    name: str
    label: str
    model: type
    #: header labels of the natural key, for messages
    key_label: str
    #: a counsellor imports the young people of their own site only
    only_site_id: int | None = None

    @abstractmethod
    def fields(self, session: Session) -> list[Field]:
        """The columns of the file, with parsers bound to this run's look-ups."""

    @abstractmethod
    def key(self, values: dict) -> tuple | None:
        """The natural key of a parsed row (None when its key cells are invalid)."""

    @abstractmethod
    def existing_keys(self, session: Session) -> dict[tuple, int]:
        """Every existing record's natural key -> id (one query)."""

    def check(self, values: dict, present: set[str]) -> list[tuple[str, str]]:
        """Cross-field rules: (header, message) pairs."""
        return []

    def defaults(self) -> dict:
        """Values of a new record for the columns the file does not carry."""
        return {}

    def virtual_value(self, attr: str, record_id: int):
        """The export value of a field that is not a column (e.g. a partner's themes)."""
        raise KeyError(attr)

    # Extra writes (many-to-many) for entities that need them.
    def write_extra(self, session: Session, record_id: int, values: dict, created: bool) -> None:
        return None

    def current_extra(self, session: Session, ids: list[int]) -> dict[int, dict]:
        return {}


def _match_headers(header: list[str], fields: list[Field]) -> tuple[dict[int, Field], list]:
    """Column index -> field; errors for unknown, duplicate and missing columns (line 1)."""
    by_name: dict[str, Field] = {}
    for f in fields:
        for name in (f.header, f.attr, *f.aliases):
            by_name[fold(name)] = f
    mapping: dict[int, Field] = {}
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        folded = fold(name.lstrip("\ufeff"))
        if not folded:
            continue
        matched = by_name.get(folded)
        if matched is None:
            errors.append(
                RowError(
                    1,
                    name,
                    f"Colonne inconnue « {name} » : supprimez-la ou "
                    "renommez-la (voir le modèle à télécharger).",
                )
            )
        elif matched.attr in seen:
            errors.append(RowError(1, name, f"Colonne « {matched.header} » en double."))
        else:
            seen[matched.attr] = index
            mapping[index] = matched
    for f in fields:
        if f.required and f.attr not in seen:
            errors.append(RowError(1, f.header, f"Colonne obligatoire « {f.header} » absente."))
    return mapping, errors


def _reserve_ids(connection, table: sa.Table, count: int) -> list[int]:
    """Ids for ``count`` new rows: the sequence on PostgreSQL, max+1 on SQLite (one writer)."""
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        return list(
            connection.execute(
                sa.text(
                    f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            ).scalars()
        )
    start = (connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + count))


def run_import(
    session: Session,
    spec: EntitySpec,
    data: bytes,
    filename: str = "",
    *,
    commit: bool = False,
    valid_only: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_row: Callable[[int, list[str], list[RowError]], None] | None = None,
) -> ImportReport:
    """Import ``data`` for ``spec``; dry run unless ``commit``. Never raises on bad input."""
    report = ImportReport(spec.name, filename, valid_only=valid_only)
    try:
        table = read_table(data, filename, max_bytes)
        fields = spec.fields(session)
        mapping, header_errors = _match_headers(table.header, fields)
        if header_errors:
            report.errors.extend(header_errors)
            return report
        _process(session, spec, table, mapping, report, commit, valid_only, on_row)
    except FileError as error:
        report.errors.append(RowError(1, "", str(error)))
    except sa.exc.IntegrityError as error:
        session.rollback()
        report.errors.append(
            RowError(
                1,
                "",
                "Le fichier entre en conflit avec des fiches "
                "enregistrées (valeur en double) : rien n'a été "
                f"écrit. Détail : {str(error.orig)[:200]}",
            )
        )
    if report.rows == 0 and not report.errors:
        report.errors.append(
            RowError(
                1, "", "Le fichier ne contient que la ligne d'en-tête : aucune ligne à importer."
            )
        )
    if commit:
        if report.refused:
            session.rollback()  # all or nothing: not one row of a refused file is kept
        else:
            session.commit()
            report.written = True
    return report


def _process(session, spec, table, mapping, report, commit, valid_only, on_row):
    width = len(table.header)
    present = {f.attr for f in mapping.values()}
    key_index = spec.existing_keys(session)
    first_line_of_key: dict[tuple, int] = {}
    table_obj = spec.model.__table__
    chunk: list[tuple[int, list[str], dict, tuple | None]] = []

    def flush_chunk():
        _handle_chunk(
            session, spec, chunk, mapping, key_index, report, commit, valid_only, table_obj, present
        )
        chunk.clear()

    for line, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue  # fully empty lines are skipped
        report.rows += 1
        row_errors: list[RowError] = []
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            row_errors.append(
                RowError(
                    line,
                    "",
                    f"{len(cells)} cellules pour {width} colonnes : "
                    "un séparateur de trop dans cette ligne ?",
                )
            )
        values: dict = {}
        for index, f in mapping.items():
            text = unneutralise(cells[index].strip()) if index < len(cells) else ""
            if text == "":
                if f.required:
                    row_errors.append(RowError(line, f.header, "Valeur obligatoire manquante."))
                else:
                    values[f.attr] = f.empty
                continue
            try:
                values[f.attr] = f.parse(text)
            except CellError as error:
                row_errors.append(RowError(line, f.header, str(error)))
        if not row_errors:
            row_errors.extend(RowError(line, h, m) for h, m in spec.check(values, present))
        key = None
        if not row_errors:
            key = spec.key(values)
            if key in first_line_of_key:
                row_errors.append(
                    RowError(
                        line,
                        spec.key_label,
                        f"Même {spec.key_label} que la ligne {first_line_of_key[key]} : "
                        "une fiche ne peut figurer qu'une fois dans le fichier.",
                    )
                )
            else:
                first_line_of_key[key] = line
        if row_errors:
            report.errors.extend(row_errors)
            report.skipped += 1 if valid_only else 0
        if on_row is not None:
            on_row(line, cells, row_errors)
        if not row_errors:
            chunk.append((line, cells, values, key))
        if len(chunk) >= CHUNK:
            flush_chunk()
    flush_chunk()
    if not valid_only:
        report.skipped = 0


def _same(old, new) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, dt.datetime) and not isinstance(new, dt.datetime):
        return old.date() == new
    return old == new


def _handle_chunk(
    session, spec, chunk, mapping, key_index, report, commit, valid_only, table_obj, present
):
    if not chunk:
        return
    fields = {f.attr: f for f in mapping.values()}
    column_attrs = [a for a in fields if a in table_obj.c]
    extra_attrs = [a for a in fields if a not in table_obj.c]
    matched_ids = [key_index[key] for _, _, _, key in chunk if key in key_index]
    current: dict[int, dict] = {}
    if matched_ids:
        columns = [table_obj.c.id] + [table_obj.c[a] for a in column_attrs]
        for row in session.connection().execute(
            sa.select(*columns).where(table_obj.c.id.in_(matched_ids))
        ):
            current[row[0]] = dict(zip(column_attrs, row[1:], strict=True))
        for record_id, extra in spec.current_extra(session, matched_ids).items():
            current.setdefault(record_id, {}).update(extra)
    inserts: list[tuple[dict, tuple]] = []
    updates: list[tuple[int, dict, dict]] = []
    for line, _cells, values, key in chunk:
        record_id = key_index.get(key)
        if record_id is None:
            inserts.append((values, key))
            report.created += 1
            continue
        before = current.get(record_id, {})
        changes = {
            a: (before.get(a), values[a]) for a in values if not _same(before.get(a), values[a])
        }
        if not changes:
            report.unchanged += 1
            continue
        report.updated += 1
        updates.append((record_id, values, changes))
        if len(report.diffs) < DIFF_SAMPLE:
            report.diffs.append(
                RowDiff(
                    line,
                    " ".join(
                        f.display(values[f.attr])
                        for f in fields.values()
                        if f.in_key and values.get(f.attr) not in (None, "")
                    ),
                    {
                        fields[a].header: (fields[a].display(old), fields[a].display(new))
                        for a, (old, new) in changes.items()
                    },
                )
            )
    if not commit or (report.errors and not valid_only):
        return
    _write(session, spec, table_obj, column_attrs, extra_attrs, inserts, updates, key_index)


def _column_defaults(table: sa.Table) -> dict:
    """The columns' Python-side defaults (the driver-level INSERT does not apply them)."""
    values = {}
    for column in table.c:
        default = column.default
        if default is None or column.primary_key:
            continue
        if default.is_scalar:
            values[column.name] = default.arg
        elif default.is_callable:
            values[column.name] = default.arg(None)
    return values


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _bulk_insert(connection, table: sa.Table, rows: list[dict]) -> None:
    """Core INSERT; on SQLite straight through the driver's executemany, whose per-row cost is a
    third of SQLAlchemy's parameter processing (bench/README.md)."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(sa.insert(table), rows)
        return
    names = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    connection.exec_driver_sql(sql, [tuple(_sqlite_value(r[n]) for n in names) for r in rows])


def _write(session, spec, table_obj, column_attrs, extra_attrs, inserts, updates, key_index):
    connection = session.connection()
    now = utcnow()
    actor_id, label = audit.actor_of(session)
    audit_rows = []
    ids = _reserve_ids(connection, table_obj, len(inserts))
    insert_rows = []
    defaults = {**_column_defaults(table_obj), **spec.defaults()}
    hidden = audit.SILENT_COLUMNS | audit.MASKED_COLUMNS
    for record_id, (values, key) in zip(ids, inserts, strict=True):
        row = {
            **defaults,
            **{a: values[a] for a in column_attrs},
            "id": record_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        insert_rows.append(row)
        key_index[key] = record_id
        audit_rows.append(
            _audit_row(
                now,
                actor_id,
                label,
                "insert",
                table_obj.name,
                record_id,
                1,
                {
                    k: v if type(v) is str else audit.serialise(v)
                    for k, v in row.items()
                    if v is not None and k not in hidden
                },
                row,
            )
        )
    _bulk_insert(connection, table_obj, insert_rows)
    if updates:
        statement = (
            sa.update(table_obj)
            .where(table_obj.c.id == sa.bindparam("_id"))
            .values(
                {
                    **{a: sa.bindparam(f"v_{a}") for a in column_attrs},
                    "updated_at": sa.bindparam("_now"),
                    "version": table_obj.c.version + 1,
                }
            )
        )
        connection.execute(
            statement,
            [
                {"_id": record_id, "_now": now, **{f"v_{a}": values[a] for a in column_attrs}}
                for record_id, values, _changes in updates
            ],
        )
        versions = dict(
            connection.execute(
                sa.select(table_obj.c.id, table_obj.c.version).where(
                    table_obj.c.id.in_([u[0] for u in updates])
                )
            ).all()
        )
        for record_id, values, changes in updates:
            audit_rows.append(
                _audit_row(
                    now,
                    actor_id,
                    label,
                    "update",
                    table_obj.name,
                    record_id,
                    versions.get(record_id),
                    {
                        a: [audit.serialise(old), audit.serialise(new)]
                        for a, (old, new) in changes.items()
                        if a not in audit.MASKED_COLUMNS
                    },
                    values,
                )
            )
    if extra_attrs:
        for record_id, (values, _key) in zip(ids, inserts, strict=True):
            spec.write_extra(session, record_id, values, True)
        for record_id, values, _changes in updates:
            spec.write_extra(session, record_id, values, False)
    _bulk_insert(connection, audit.AuditEvent.__table__, audit_rows)


def _audit_row(now, actor_id, label, action, entity, record_id, version, changes, values):
    young_person_id = values.get("young_person_id")
    return {
        "at": now,
        "actor_id": actor_id,
        "actor_label": label,
        "action": action,
        "entity": entity,
        "entity_id": record_id,
        "record_version": version,
        "changes": changes,
        "parent_entity": "young_person" if young_person_id else None,
        "parent_id": young_person_id,
    }


def log_import(session: Session, report: ImportReport, user_id: int | None, mode: str) -> ImportRun:
    """Log an import — committed on its own, so that a refused import is logged too."""
    run = ImportRun(
        user_id=user_id,
        actor_label=audit.actor_of(session)[1],
        entity=report.entity,
        filename=(report.filename or "")[:255],
        mode=mode,
        written=report.written,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        errors=len(report.errors),
    )
    session.add(run)
    session.commit()
    return run


# --- export --------------------------------------------------------------------------------


def export_cells(spec: EntitySpec, fields: list[Field], query) -> Iterator[list[str]]:
    """Formatted, formula-neutralised cells for each row of ``query`` (an ORM query or select
    of the entity's model, with whatever filters the screen applied), streamed in batches."""
    table = spec.model.__table__
    columns = [f for f in fields if f.attr in table.c]
    virtual = [f for f in fields if f.attr not in table.c]
    if hasattr(query, "with_entities"):
        rows = (
            query.enable_eagerloads(False)
            .with_entities(spec.model.id, *[getattr(spec.model, f.attr) for f in columns])
            .yield_per(2000)
        )
    else:
        rows = query
    for row in rows:
        values = dict(zip([f.attr for f in columns], row[1:], strict=True))
        for f in virtual:
            values[f.attr] = spec.virtual_value(f.attr, row[0])
        yield [neutralise(f.display(values[f.attr])) for f in fields]


class _Echo:
    def write(self, value):
        return value


def csv_stream(fields: list[Field], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text for French Excel: BOM, ``;`` separator, CRLF, one chunk per row."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([f.header for f in fields])
    for cells in rows:
        yield writer.writerow(cells)


def xlsx_bytes(fields: list[Field], rows: Iterable[list[str]], title: str) -> bytes:
    """An .xlsx workbook (write-only mode: rows are not kept in memory by openpyxl)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([f.header for f in fields])
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv(spec: EntitySpec, session: Session, example: list[str]) -> str:
    fields = spec.fields(session)
    return "".join(csv_stream(fields, [example]))


def error_report_csv(session: Session, spec: EntitySpec, data: bytes, filename: str) -> str:
    """The rejected lines, as they were, with an « Erreurs » column."""
    rejected: list[tuple[int, list[str], list[RowError]]] = []
    header_holder: list[str] = []

    def collect(line, cells, errors):
        if errors:
            rejected.append((line, cells, errors))

    report = run_import(session, spec, data, filename, commit=False, on_row=collect)
    try:
        header_holder = read_table(data, filename).header
    except FileError:
        header_holder = []
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Ligne", *header_holder, "Erreurs"])
    for line, cells, errors in rejected:
        messages = " | ".join(
            f"{e.column} : {e.message}" if e.column else e.message for e in errors
        )
        writer.writerow([line, *[neutralise(c) for c in cells], messages])
    for error in report.errors:
        if error.line == 1:
            writer.writerow(
                [
                    1,
                    *([""] * len(header_holder)),
                    f"{error.column} : {error.message}" if error.column else error.message,
                ]
            )
    return "\ufeff" + buffer.getvalue()
