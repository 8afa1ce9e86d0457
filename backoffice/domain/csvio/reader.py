"""Read an uploaded table — CSV in any of the encodings and separators French offices produce, or
an .xlsx workbook — into a header and numbered rows of text cells."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class FileError(ValueError):
    """The file as a whole cannot be read; the message is French, for staff."""


@dataclass
class Table:
    """Every line of the file from line 1 (title lines and header included: the engine, which
    knows the expected columns, finds the header)."""

    #: (line number, cells, hidden): cells are text, or typed values from an .xlsx sheet
    rows: Iterator[tuple[int, list, bool]]
    encoding: str
    delimiter: str
    #: what the file's reader noticed and the staff should know (a sheet not read…)
    notes: list[str] = field(default_factory=list)


def read_table(
    source: bytes | os.PathLike | str,
    filename: str = "",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Table:
    """Open ``source`` (the bytes of an upload, or a file's path: then it is streamed, never read
    into memory whole) and return its rows; raise ``FileError`` when it cannot be read.
    ``max_bytes=None`` sets no size limit (the CLI)."""
    if isinstance(source, bytes | bytearray):
        size = len(source)
        opener = lambda: io.BytesIO(source)  # noqa: E731
    else:
        path = Path(source)
        size = path.stat().st_size
        opener = lambda: path.open("rb")  # noqa: E731
        filename = filename or path.name
    if max_bytes is not None and size > max_bytes:
        raise FileError(
            f"Le fichier fait {size / 1_048_576:.1f} Mo : la limite est de "
            f"{max_bytes / 1_048_576:.0f} Mo. Découpez-le en plusieurs fichiers."
        )
    with opener() as handle:
        head = handle.read(8192)
    if not head.strip():
        raise FileError("Le fichier est vide.")
    if head.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _read_xlsx(opener)
    return _read_csv(opener, head)


#: Bytes that Windows-1252 does not define: a file holding them is not Windows-1252.
_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")
#: A UTF-8 multi-byte sequence (a lead byte and its continuation bytes).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _encoding_of(opener) -> str:
    """Strict UTF-8 first; then Windows-1252, but only for a file that is plausibly pure
    Windows-1252. A file holding UTF-8 sequences *and* invalid bytes is half of each (one line
    pasted from elsewhere): decoding it either way would import mojibake ("LefÃ¨vre"), so it is
    refused, naming its first bad line. Two passes over the file at most, in slices."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    with opener() as handle:
        bom = handle.read(3) == b"\xef\xbb\xbf"
        handle.seek(0)
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
                lines_before += chunk.count(b"\n")
            decoder.decode(b"", final=True)
            return "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError as error:
            bad_line = lines_before + chunk[: max(error.start, 0)].count(b"\n") + 1
    if bom:
        raise FileError(
            f"Ligne {bad_line} : caractère illisible dans un fichier marqué UTF-8. "
            "Enregistrez le fichier en « CSV UTF-8 » et réessayez."
        )
    with opener() as handle:
        while chunk := handle.read(1 << 20):
            if any(b in _UNDEFINED_IN_CP1252 for b in chunk):
                raise FileError(
                    f"Encodage du fichier non reconnu (ligne {bad_line}) : ni UTF-8 ni "
                    "Windows-1252. Enregistrez-le en « CSV UTF-8 » depuis votre tableur."
                )
            if _UTF8_SEQUENCE.search(chunk):
                raise FileError(
                    "Encodage mélangé : le fichier contient de l'UTF-8 et des caractères d'un "
                    f"autre encodage (première ligne fautive : {bad_line}). Rien n'a été "
                    "importé, pour ne pas enregistrer de noms déformés. Enregistrez le fichier "
                    "en « CSV UTF-8 » et réessayez."
                )
    return "windows-1252"


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return "\x00" in sample or controls > len(sample) * 0.01


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(opener, head: bytes) -> Table:
    binary = FileError(
        "Ce fichier n'est pas un tableau CSV ou Excel lisible (contenu binaire). "
        "Enregistrez-le en CSV (séparateur point-virgule) ou en .xlsx."
    )
    if b"\x00" in head:
        raise binary
    encoding = _encoding_of(opener)
    python_encoding = "cp1252" if encoding == "windows-1252" else encoding
    if _looks_binary(head.decode(python_encoding, errors="ignore")):
        raise binary
    text_of_head = head.decode(python_encoding, errors="ignore").lstrip("\ufeff")
    first_line = next((line for line in text_of_head.splitlines() if line.strip()), "")
    delimiter = _delimiter(first_line)

    def rows():
        line = 0
        with opener() as handle:
            text = io.TextIOWrapper(handle, encoding=python_encoding, newline="")
            try:
                for cells in csv.reader(text, delimiter=delimiter):
                    line += 1
                    yield line, cells, False
            except csv.Error as error:
                raise FileError(f"Ligne {line + 1} illisible : {error}.") from error

    return Table(rows(), encoding, delimiter)


def cell_text(value) -> str:
    """The text of a typed .xlsx cell, as the parsers read it (a midnight datetime is a date)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # 15 significant digits: what the spreadsheet shows, not the float's binary noise
        return format(Decimal(format(value, ".15g")), "f").replace(".", ",")
    return str(value)


_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"')
_HIDDEN_ROW_REVERSED = re.compile(rb'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*?\br="(\d+)"')


def _hidden_rows(opener, sheet_path: str) -> set[int]:
    """The numbers of the rows hidden in a sheet (read-only openpyxl does not say: scan its XML
    in slices, memory stays flat)."""
    hidden: set[int] = set()
    with zipfile.ZipFile(opener()) as archive:
        try:
            member = archive.open(sheet_path.lstrip("/"))
        except KeyError:
            return hidden
        tail = b""
        with member:
            while chunk := member.read(1 << 20):
                block = tail + chunk
                cut = block.rfind(b"<")
                scan, tail = (block[:cut], block[cut:]) if cut > 0 else (block, b"")
                for pattern in (_HIDDEN_ROW, _HIDDEN_ROW_REVERSED):
                    hidden.update(int(n) for n in pattern.findall(scan))
            for pattern in (_HIDDEN_ROW, _HIDDEN_ROW_REVERSED):
                hidden.update(int(n) for n in pattern.findall(tail))
    return hidden


def _read_xlsx(opener) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(opener(), read_only=True, data_only=True)
        sheet = workbook.active or workbook.worksheets[0]
        hidden = _hidden_rows(opener, getattr(sheet, "_worksheet_path", ""))
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise FileError("Ce classeur Excel est illisible ou endommagé.") from error
    notes = []
    if len(workbook.worksheets) > 1:
        notes.append(
            f"Le classeur a {len(workbook.worksheets)} feuilles : seule la feuille active "
            f"« {sheet.title} » est lue."
        )

    def rows():
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values), number in hidden
        workbook.close()

    return Table(rows(), "xlsx", "", notes=notes)
