"""CSV / Excel import and export: ``run_import(session, spec_for("partners"), data)``."""

from .engine import (
    EntitySpec,
    ImportReport,
    RowError,
    csv_stream,
    error_report_csv,
    export_cells,
    log_import,
    run_import,
    template_csv,
    write_xlsx,
    write_xlsx_sheets,
    xlsx_bytes,
)
from .entities import ENTITIES, spec_for
from .reader import DEFAULT_MAX_BYTES, FileError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ENTITIES",
    "EntitySpec",
    "FileError",
    "ImportReport",
    "RowError",
    "csv_stream",
    "error_report_csv",
    "export_cells",
    "log_import",
    "run_import",
    "spec_for",
    "template_csv",
    "write_xlsx",
    "write_xlsx_sheets",
    "xlsx_bytes",
]
