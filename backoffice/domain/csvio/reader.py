"""Read an uploaded table — CSV in any of the encodings and separators French offices produce, or
an .xlsx workbook — into a header and numbered rows of text cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class FileError(ValueError):
    """The file as a whole cannot be read; the message is French, for staff."""


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number, cells); the header is line 1
    encoding: str
    delimiter: str


def read_table(data: bytes, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """Decode ``data`` and return its header and rows; raise ``FileError`` when it cannot."""
    if len(data) > max_bytes:
        raise FileError(
            f"Le fichier fait {len(data) / 1_048_576:.1f} Mo : la limite est de "
            f"{max_bytes / 1_048_576:.0f} Mo. Découpez-le en plusieurs fichiers."
        )
    if not data.strip():
        raise FileError("Le fichier est vide.")
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    return _read_csv(data)


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as error:
        raise FileError(
            "Encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 » depuis Excel."
        ) from error


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return "\x00" in sample or controls > len(sample) * 0.01


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(data: bytes) -> Table:
    if b"\x00" in data[:8192]:
        raise FileError(
            "Ce fichier n'est pas un tableau CSV ou Excel lisible (contenu binaire). "
            "Enregistrez-le en CSV (séparateur point-virgule) ou en .xlsx."
        )
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as error:
        raise FileError(
            "Le fichier commence par une marque UTF-8 mais n'est pas en UTF-8."
        ) from error
    if _looks_binary(text):
        raise FileError(
            "Ce fichier n'est pas un tableau CSV ou Excel lisible (contenu binaire). "
            "Enregistrez-le en CSV (séparateur point-virgule) ou en .xlsx."
        )
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise FileError("La ligne d'en-tête est illisible.") from error

    def rows():
        line = 1
        try:
            for cells in reader:
                line += 1
                yield line, cells
        except csv.Error as error:
            raise FileError(f"Ligne {line + 1} illisible : {error}.") from error

    return Table([h.strip() for h in header], rows(), encoding, delimiter)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise FileError("Ce classeur Excel est illisible ou endommagé.") from error
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(v).strip() for v in next(iterator)]
    except StopIteration as error:
        raise FileError("Le fichier est vide.") from error
    while header and header[-1] == "":
        header.pop()

    def rows():
        for line, values in enumerate(iterator, start=2):
            yield line, [_cell_text(v) for v in values]
        workbook.close()

    return Table(header, rows(), "xlsx", "")
