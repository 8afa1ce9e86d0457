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
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...extensions import analyze
from ...models import ImportRun, utcnow
from .. import audit, search
from .cells import (
    CellError,
    fold,
    format_value,
    neutralise,
    parse_birth_date,
    parse_date,
    unneutralise,
)
from .reader import DEFAULT_MAX_BYTES, FileError, cell_text, read_table

CHUNK = 5000
_DATE_PARSERS = (parse_date, parse_birth_date)
DIFF_SAMPLE = 500


#: The value of an empty cell in a column the database defaults: the default for a new record,
#: the current value for an existing one (an empty cell never erases a defaulted value).
DEFAULT = object()

#: An empty cell where a value is required.
_MISSING = object()

#: Headers that staff write for the same column, folded: synonym -> the header it stands for.
HEADER_SYNONYMS = {
    "cp": "code postal",
    "code postale": "code postal",
    "tel": "telephone",
    "tel.": "telephone",
    "tel portable": "telephone",
    "portable": "telephone",
    "mobile": "telephone",
    "numero de telephone": "telephone",
    "mail": "e-mail",
    "email": "e-mail",
    "courriel": "e-mail",
    "adresse e-mail": "e-mail",
    "adresse mail": "e-mail",
    "date naissance": "date de naissance",
    "date de naiss.": "date de naissance",
    "ne le": "date de naissance",
    "ne(e) le": "date de naissance",
    "nee le": "date de naissance",
    "naissance": "date de naissance",
    "commune": "ville",
    "nom de famille": "nom",
    "n° siret": "siret",
    "numero siret": "siret",
}
#: Columns of our own error report (``error_report_csv``): ignored when it is re-imported.
REPORT_COLUMNS = {"ligne", "erreurs"}


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

    def export(self, value):
        """The value an export writes: typed (date, number, yes/no) when the field shows its
        value as is, else the text it shows (a site's name, a label for a code)."""
        if self.display is format_value:
            return value
        return self.display(value)


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
    #: a sample of the records the file creates: (line, label, {header: value})
    new_rows: list[RowDiff] = field(default_factory=list)
    #: what staff should know before confirming (title lines skipped, hidden rows, sheets…)
    notes: list[str] = field(default_factory=list)
    hidden_lines: list[int] = field(default_factory=list)
    #: the file's header, as written
    header: list[str] = field(default_factory=list)
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
    """How one entity is imported and exported; subclasses declare, the engine does the rest.

    Declaring a subclass with a ``name`` registers it (``EntitySpec.registry``): the imports
    screen, the CLI and the tests read the registry, and start-up checks that each declaration
    is complete and that a screen names it (``csv_entity``) — nothing else to keep in step."""

    #: every declared entity, by name (filled by ``__init_subclass__``)
    registry: ClassVar[dict[str, type[EntitySpec]]] = {}

    name: ClassVar[str]
    label: ClassVar[str]
    model: ClassVar[type]
    #: header labels of the natural key, for messages
    key_label: ClassVar[str]
    #: one example row, for the downloadable template (one cell per field)
    example: ClassVar[list[str]] = []
    #: a counsellor imports the young people of their own site only
    only_site_id: int | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return  # an intermediate base class
        if name in EntitySpec.registry and EntitySpec.registry[name] is not cls:
            raise TypeError(f"Two import declarations are named {name!r}.")
        EntitySpec.registry[name] = cls

    @classmethod
    def check_declaration(cls) -> list[str]:
        """What is missing from this declaration (empty when it is complete)."""
        problems = [
            f"{cls.__name__}: {attr} is not declared"
            for attr in ("label", "model", "key_label")
            if not hasattr(cls, attr)
        ]
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            problems.append(f"{cls.__name__}: {', '.join(missing)} not implemented")
        if not cls.example:
            problems.append(f"{cls.__name__}: no example row for the template")
        return problems

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
    for synonym, canonical in HEADER_SYNONYMS.items():
        if canonical in by_name and synonym not in by_name:
            by_name[synonym] = by_name[canonical]
    mapping: dict[int, Field] = {}
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        folded = fold(name.lstrip("\ufeff"))
        if not folded or folded in REPORT_COLUMNS:
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


#: Lines looked at for the header when titles stand above it.
HEADER_SEARCH_LINES = 10


def _find_header(table, fields, report) -> tuple[int, list[str], dict[int, Field], list]:
    """The header line: the first non-empty line, unless it is a title (a line of one cell that
    is no column name) above the real header, in which case the title is reported and skipped."""
    titles: list[tuple[int, str]] = []
    first = None
    for line, cells, _hidden in table.rows:
        texts = [cell_text(c).strip() for c in cells]
        filled = [t for t in texts if t]
        if not filled:
            continue
        while texts and texts[-1] == "":
            texts.pop()
        mapping, errors = _match_headers(texts, fields)
        if first is None:
            first = (line, texts, mapping, errors)
        if not errors or mapping:
            if titles:
                report.notes.append(
                    "Ligne(s) de titre au-dessus des en-têtes ignorée(s) : "
                    + " ; ".join(f"ligne {n} « {t[:60]} »" for n, t in titles)
                    + "."
                )
            return line, texts, mapping, errors
        if len(filled) > 1 or len(titles) >= HEADER_SEARCH_LINES:
            return line, texts, mapping, errors
        titles.append((line, filled[0]))
    if first is None:
        raise FileError("Le fichier est vide.")
    return first


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
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    on_row: Callable[[int, list[str], list[RowError]], None] | None = None,
) -> ImportReport:
    """Import ``data`` for ``spec``; dry run unless ``commit``. Never raises on bad input.

    The dry run does everything the commit does, writes included, then rolls the transaction
    back: whatever the database would refuse (a constraint, a value too long) shows in the
    preview, and a previewed file does not fail at confirm. ``max_bytes=None``: no size limit
    (the CLI; uploads keep ``IMPORT_MAX_BYTES``)."""
    report = ImportReport(spec.name, filename, valid_only=valid_only)
    mapping: dict[int, Field] = {}
    try:
        table = read_table(data, filename, max_bytes)
        report.notes.extend(table.notes)
        fields = spec.fields(session)
        _line, report.header, mapping, header_errors = _find_header(table, fields, report)
        if header_errors:
            report.errors.extend(header_errors)
        else:
            with _bulk_cache(session):
                _process(session, spec, table, mapping, report, valid_only, on_row)
    except FileError as error:
        report.errors.append(RowError(1, "", str(error)))
    except (sa.exc.IntegrityError, sa.exc.DataError) as error:
        session.rollback()
        report.errors.append(RowError(1, *_database_refusal(error, spec, mapping)))
    if report.rows == 0 and not report.errors:
        report.errors.append(
            RowError(
                1, "", "Le fichier ne contient que la ligne d'en-tête : aucune ligne à importer."
            )
        )
    if report.hidden_lines:
        lines = ", ".join(str(n) for n in report.hidden_lines[:20])
        more = "…" if len(report.hidden_lines) > 20 else ""
        report.notes.append(
            f"{len(report.hidden_lines)} ligne(s) masquée(s) dans le classeur ({lines}{more}) : "
            "elles sont importées comme les autres. Supprimez-les du fichier si elles ne "
            "doivent pas l'être."
        )
    if commit and not report.refused:
        session.commit()
        report.written = True
        if report.rows >= ANALYZE_AFTER_ROWS:  # the planner must know the table grew
            analyze(session, spec.model.__tablename__, audit.AuditEvent.__tablename__)
    else:
        session.rollback()  # a dry run, or all or nothing: not one row of a refused file is kept
    return report


#: A committed import of at least this many rows refreshes the tables' statistics.
ANALYZE_AFTER_ROWS = 1000
#: SQLite page cache while an import writes (KiB): index inserts at random keys (names,
#: e-mails) thrash the default 2 MB cache; 64 MB cut the young people's writes by a third.
SQLITE_IMPORT_CACHE_KIB = 65536


@contextmanager
def _bulk_cache(session):
    """A larger SQLite page cache for the duration of an import, then the previous one."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _database_refusal(error, spec, mapping) -> tuple[str, str]:
    """A French message for a write the database refused (never its raw text)."""
    text = str(getattr(error, "orig", error))
    headers = {f.attr: f.header for f in (mapping or {}).values()}
    column = ""
    for attr, header in headers.items():
        if re.search(rf"\b{re.escape(attr)}\b", text):
            column = header
            break
    diag = getattr(getattr(error, "orig", None), "diag", None)
    if diag is not None and getattr(diag, "column_name", None) in headers:
        column = headers[diag.column_name]
    if "unique" in text.lower() or "duplicate" in text.lower():
        what = "une valeur existe déjà dans une autre fiche"
    elif "null" in text.lower():
        what = "une valeur obligatoire manque"
    elif "check" in text.lower():
        what = "une valeur n'est pas acceptée"
    else:
        what = "une valeur ne convient pas (trop longue ou hors limites)"
    where = f" (colonne « {column} »)" if column else ""
    return column, (
        f"La base de données refuse le fichier : {what}{where}. Rien n'a été écrit. "
        "Corrigez le fichier ou signalez-le à l'administrateur."
    )


def _process(session, spec, table, mapping, report, valid_only, on_row):
    width = len(report.header)
    present = {f.attr for f in mapping.values()}
    key_index = spec.existing_keys(session)
    first_line_of_key: dict[tuple, int] = {}
    table_obj = spec.model.__table__
    chunk: list[tuple[int, list, dict, tuple | None]] = []
    # An empty cell of a column the database defaults keeps the default (or the current value).
    defaulted = {
        a for a in present if a in table_obj.c and table_obj.c[a].default is not None
    } | set(spec.defaults()) & present
    not_null = {
        a
        for a in present
        if a in table_obj.c and not table_obj.c[a].nullable and a not in defaulted
    }
    date_fields = {i for i, f in mapping.items() if f.parse in _DATE_PARSERS}
    writer = _Writer(session, spec, mapping, key_index, report, valid_only)
    # What each column does, decided once (this loop runs for every cell of the file).
    columns = []
    for index, f in mapping.items():
        if f.required or (f.attr in not_null and f.attr not in defaulted and f.empty is None):
            on_empty = _MISSING
        elif f.attr in defaulted:
            on_empty = DEFAULT
        else:
            on_empty = f.empty
        columns.append((index, f.attr, f.parse, on_empty, f.header))

    typed = not table.delimiter  # an .xlsx sheet: cells are typed values, not text
    for line, raw_cells, hidden in table.rows:
        if typed:
            cells = [
                c if isinstance(c, str) else _typed_cell_text(c, i in date_fields)
                for i, c in enumerate(raw_cells)
            ]
        else:
            cells = raw_cells
        if not "".join(cells).strip():
            continue  # fully empty lines are skipped
        report.rows += 1
        if hidden:
            report.hidden_lines.append(line)
        row_errors: list[RowError] = []
        count = len(cells)
        if count > width and "".join(cells[width:]).strip() and table.delimiter:
            row_errors.append(
                RowError(
                    line,
                    "",
                    f"{count} cellules pour {width} colonnes : "
                    "un séparateur de trop dans cette ligne ?",
                )
            )
        values: dict = {}
        for index, attr, parse, on_empty, header in columns:
            text = cells[index].strip() if index < count else ""
            if not text:
                if on_empty is _MISSING:
                    row_errors.append(RowError(line, header, "Valeur obligatoire manquante."))
                else:
                    values[attr] = on_empty
                continue
            if text[0] == "'":
                text = unneutralise(text)
            try:
                values[attr] = parse(text)
            except CellError as error:
                row_errors.append(RowError(line, header, str(error)))
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
            writer.handle(chunk)
            chunk.clear()
    writer.handle(chunk)
    if not valid_only:
        report.skipped = 0


def _excel_date(serial: float) -> dt.date:
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))


def _typed_cell_text(value, is_date: bool) -> str:
    """The text of a typed .xlsx cell; a number in a date column is an Excel serial date (only
    typed cells: a number written as text is never read as a date)."""
    if is_date and isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2_958_466 and float(value).is_integer():
            return _excel_date(value).strftime("%d/%m/%Y")
    return cell_text(value)


def _same(old, new) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, dt.datetime) and not isinstance(new, dt.datetime):
        return old.date() == new
    return old == new


class _Writer:
    """Matches each chunk of valid rows to existing records, counts and samples what changes,
    and writes it (the dry run writes too, in a transaction rolled back at the end)."""

    def __init__(self, session, spec, mapping, key_index, report, valid_only):
        self.session = session
        self.spec = spec
        self.report = report
        self.valid_only = valid_only
        self.key_index = key_index
        self.fields = {f.attr: f for f in mapping.values()}
        self.table = spec.model.__table__
        self.column_attrs = [a for a in self.fields if a in self.table.c]
        self.extra_attrs = [a for a in self.fields if a not in self.table.c]
        self.defaults = {**_column_defaults(self.table), **spec.defaults()}
        self.stopped = False

    def _label(self, values) -> str:
        return " ".join(
            f.display(values[f.attr])
            for f in self.fields.values()
            if f.in_key and values.get(f.attr) not in (None, "", DEFAULT)
        )

    def handle(self, chunk) -> None:
        report = self.report
        if not chunk:
            return
        if report.errors and not self.valid_only:
            self.stopped = True  # the file is refused: count, but writing is pointless
        key_index = self.key_index
        matched_ids = [key_index[key] for _, _, _, key in chunk if key in key_index]
        current: dict[int, dict] = {}
        if matched_ids:
            columns = [self.table.c.id] + [self.table.c[a] for a in self.column_attrs]
            for row in self.session.connection().execute(
                sa.select(*columns).where(self.table.c.id.in_(matched_ids))
            ):
                current[row[0]] = dict(zip(self.column_attrs, row[1:], strict=True))
            for record_id, extra in self.spec.current_extra(self.session, matched_ids).items():
                current.setdefault(record_id, {}).update(extra)
        inserts: list[tuple[dict, tuple]] = []
        updates: list[tuple[int, dict, dict]] = []
        for line, _cells, values, key in chunk:
            record_id = key_index.get(key)
            if record_id is None:
                if DEFAULT in values.values():
                    values = {
                        a: (_default_value(self.defaults.get(a)) if v is DEFAULT else v)
                        for a, v in values.items()
                    }
                inserts.append((values, key))
                report.created += 1
                if len(report.new_rows) < DIFF_SAMPLE:
                    report.new_rows.append(
                        RowDiff(
                            line,
                            self._label(values),
                            {
                                f.header: f.display(values.get(a))
                                for a, f in self.fields.items()
                                if values.get(a) not in (None, "", frozenset(), False)
                            },
                        )
                    )
                continue
            before = current.get(record_id, {})
            if DEFAULT in values.values():
                values = {a: (before.get(a) if v is DEFAULT else v) for a, v in values.items()}
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
                        self._label(values),
                        {
                            self.fields[a].header: (
                                self.fields[a].display(old),
                                self.fields[a].display(new),
                            )
                            for a, (old, new) in changes.items()
                        },
                    )
                )
        if not self.stopped:  # a refused file: count on, write nothing more
            _write(
                self.session,
                self.spec,
                self.table,
                self.column_attrs,
                self.extra_attrs,
                inserts,
                updates,
                key_index,
                self.defaults,
            )


def _column_defaults(table: sa.Table) -> dict:
    """The columns' Python-side defaults (the driver-level INSERT does not apply them), each
    a value or, for a callable default, a ``_PerRow`` to call for each new row (a session token
    must not be shared by the rows of one import)."""
    values = {}
    for column in table.c:
        default = column.default
        if default is None or column.primary_key:
            continue
        if default.is_scalar:
            values[column.name] = default.arg
        elif default.is_callable:
            values[column.name] = _PerRow(default.arg)
    return values


def _default_value(default):
    return default() if isinstance(default, _PerRow) else default


class _PerRow:
    """A column default computed for each row."""

    def __init__(self, function):
        self.function = function

    def __call__(self):
        return self.function(None)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _converters(table: sa.Table, names: list[str], dialect: str) -> list[tuple[int, Callable]]:
    """Per column, how a Python value goes to the driver when SQLAlchemy's own parameter
    processing is bypassed (only the columns that need it: dates, decimals, JSON)."""
    converters = []
    for index, name in enumerate(names):
        kind = table.c[name].type
        if isinstance(kind, sa.JSON):
            converters.append((index, _json))
        elif dialect == "sqlite" and isinstance(kind, sa.DateTime):
            converters.append((index, lambda v: v.isoformat(" ")))
        elif dialect == "sqlite" and isinstance(kind, sa.Date):
            converters.append((index, dt.date.isoformat))
        elif dialect == "sqlite" and isinstance(kind, sa.Numeric):
            converters.append((index, str))
    return converters


def _driver_rows(table: sa.Table, names: list[str], rows: list[dict], dialect: str):
    converters = _converters(table, names, dialect)
    for row in rows:
        values = [row[name] for name in names]
        for index, convert in converters:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        yield tuple(values)


def bulk_insert(connection, table: sa.Table, rows: list[dict]) -> None:
    """Write ``rows`` straight through the driver: ``COPY`` on PostgreSQL, ``executemany`` on
    SQLite (SQLAlchemy's per-row parameter processing costs more than the writes; see
    bench/README.md). The rows join the session's transaction like any other write."""
    if not rows:
        return
    dialect = connection.dialect.name
    names = list(rows[0])
    if dialect == "postgresql":
        driver = connection.connection.driver_connection
        columns = ", ".join(f'"{n}"' for n in names)
        statement = f'COPY "{table.name}" ({columns}) FROM STDIN'
        dbapi = connection.dialect.dbapi
        try:
            with driver.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    for values in _driver_rows(table, names, rows, dialect):
                        copy.write_row(values)
        except dbapi.IntegrityError as error:  # as SQLAlchemy would have raised them
            raise sa.exc.IntegrityError(statement, None, error) from error
        except dbapi.DataError as error:
            raise sa.exc.DataError(statement, None, error) from error
        return
    if dialect != "sqlite":
        connection.execute(sa.insert(table), rows)
        return
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    connection.exec_driver_sql(sql, list(_driver_rows(table, names, rows, dialect)))


def _write(
    session, spec, table_obj, column_attrs, extra_attrs, inserts, updates, key_index, defaults
):
    connection = session.connection()
    now = utcnow()
    actor_id, label = audit.actor_of(session)
    audit_rows = []
    ids = _reserve_ids(connection, table_obj, len(inserts))
    insert_rows = []
    per_row = {k: v for k, v in defaults.items() if isinstance(v, _PerRow)}
    fixed = {k: v for k, v in defaults.items() if not isinstance(v, _PerRow)}
    for record_id, (values, key) in zip(ids, inserts, strict=True):
        row = {
            **fixed,
            **{k: make() for k, make in per_row.items()},
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
                audit.snapshot_values(table_obj, row),
                row,
            )
        )
    search.fill_rows(table_obj, insert_rows)
    bulk_insert(connection, table_obj, insert_rows)
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
        if set(column_attrs) & set(search.sources_of(table_obj) or ()):
            search.refresh(connection, table_obj, [u[0] for u in updates])
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
                    audit.change_values(table_obj, changes),
                    values,
                )
            )
    if extra_attrs:
        for record_id, (values, _key) in zip(ids, inserts, strict=True):
            spec.write_extra(session, record_id, values, True)
        for record_id, values, _changes in updates:
            spec.write_extra(session, record_id, values, False)
    bulk_insert(connection, audit.AuditEvent.__table__, audit_rows)


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


def export_cells(spec: EntitySpec, fields: list[Field], query) -> Iterator[list]:
    """Each row of ``query`` (an ORM query or select of the entity's model, with whatever
    filters the screen applied) as typed values, one per field — dates, decimals, booleans as
    such, references and codes as the text the import reads — streamed in batches."""
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
        yield [f.export(values[f.attr]) for f in fields]


class _Echo:
    def write(self, value):
        return value


def csv_cell(value) -> str:
    """A typed value as CSV text: French format, formula-neutralised."""
    return neutralise(value if isinstance(value, str) else format_value(value))


def csv_stream(headers: list, rows: Iterable[list]) -> Iterator[str]:
    """CSV text for French Excel and LibreOffice: BOM, ``;`` separator, CRLF, one chunk per row.
    ``headers`` are the fields of a declaration or plain header texts."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([getattr(h, "header", h) for h in headers])
    for cells in rows:
        yield writer.writerow([csv_cell(c) for c in cells])


#: Number formats of the typed cells of an .xlsx export (French Calc and Excel show them the
#: French way by locale).
XLSX_FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM", "decimal": "#,##0.00"}


def _xlsx_cell(sheet, value):
    """The value as openpyxl should write it: as is when its type says it all (text, numbers,
    yes/no), a styled cell for dates and amounts (their display format) and for text that a
    spreadsheet would take for a formula (forced to text). A cell object costs several times
    a plain value: at 100,000 rows × 23 columns it is most of an export's time."""
    if isinstance(value, str):
        if value.startswith("="):
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text, never a formula
            return cell
        return value
    if isinstance(value, frozenset | set | list | tuple):
        return _xlsx_cell(sheet, format_value(value))
    if isinstance(value, dt.date | Decimal):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, dt.datetime):
            cell.number_format = XLSX_FORMATS["datetime"]
        elif isinstance(value, dt.date):
            cell.number_format = XLSX_FORMATS["date"]
        else:
            cell.number_format = XLSX_FORMATS["decimal"]
        return cell
    return value


def write_xlsx(target, headers: list, rows: Iterable[list], title: str) -> None:
    """An .xlsx workbook with typed cells, written to ``target`` (a path or a binary file) in
    openpyxl's write-only mode: rows are not kept in memory."""
    write_xlsx_sheets(target, [(title, [], headers, rows)])


def write_xlsx_sheets(target, sheets: Iterable[tuple[str, list, list, Iterable[list]]]) -> None:
    """Several sheets in one workbook: (title, lines above the header, header, rows) each;
    titles are made valid (31 characters, no ``[]:*?/\\``) and unique."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, preamble, headers, rows in sheets:
        name = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export"
        n = 2
        while name.casefold() in used:
            suffix = f" ({n})"
            name = name[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name.casefold())
        sheet = workbook.create_sheet(title=name)
        sheet.freeze_panes = f"A{len(preamble) + 2}"
        for line in preamble:
            sheet.append([_xlsx_cell(sheet, line)])
        sheet.append([_xlsx_cell(sheet, getattr(h, "header", h)) for h in headers])
        for cells in rows:
            sheet.append([None if c is None else _xlsx_cell(sheet, c) for c in cells])
    workbook.save(target)


def xlsx_bytes(headers: list, rows: Iterable[list], title: str) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows, title)
    return buffer.getvalue()


def template_csv(spec: EntitySpec, session: Session, example: list[str]) -> str:
    fields = spec.fields(session)
    return "".join(csv_stream(fields, [example]))


def error_report_csv(session: Session, spec: EntitySpec, data, filename: str) -> str:
    """The rejected lines, as they were, between a « Ligne » and an « Erreurs » column; once
    corrected, the file re-imports as is (those two columns are ignored by the import)."""
    rejected: list[tuple[int, list[str], list[RowError]]] = []

    def collect(line, cells, errors):
        if errors:
            rejected.append((line, cells, errors))

    report = run_import(session, spec, data, filename, commit=False, on_row=collect)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Ligne", *report.header, "Erreurs"])
    width = len(report.header)
    for line, cells, errors in rejected:
        messages = " | ".join(
            f"{e.column} : {e.message}" if e.column else e.message for e in errors
        )
        cells = (list(cells) + [""] * width)[: max(width, len(cells))]
        writer.writerow([line, *[neutralise(c) for c in cells], messages])
    for error in report.errors:
        if error.line == 1:
            writer.writerow(
                [
                    1,
                    *([""] * width),
                    f"{error.column} : {error.message}" if error.column else error.message,
                ]
            )
    return "\ufeff" + buffer.getvalue()
