"""Cell parsers and formatters: French spreadsheets as they really come, and back.

A parser takes the cell's text (already stripped, never None) and returns a Python value or raises
``CellError`` with a French message. A formatter turns a value back into the text an import reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal

from .. import values
from ..vocabularies import Vocabulary

#: A cell that cannot be read; the message is shown to staff as is (French).
CellError = values.InvalidValue


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form used to match headers and labels (cached:
    an import folds the same first names and labels over and over)."""
    if text.isascii():
        return " ".join(text.casefold().replace("’", "'").split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().replace("’", "'").split())


# --- parsers: the French values of ``domain/values.py``, the one place they are defined --------

parse_date = values.parse_date
parse_birth_date = values.parse_birth_date
parse_datetime = values.parse_datetime
parse_bool = values.parse_bool
parse_email = values.parse_email
parse_phone = values.parse_phone
parse_postcode = values.parse_postcode
parse_siret = values.parse_siret


def decimal_parser(places: int = 2, max_digits: int | None = None):
    """A French decimal with the column's scale and precision."""

    def parse(text: str) -> Decimal:
        return values.parse_decimal(text, places=places, max_digits=max_digits)

    return parse


parse_decimal = decimal_parser()


def int_parser(minimum: int | None = None, maximum: int | None = None):
    def parse(text: str) -> int:
        return values.parse_int(text, minimum=minimum, maximum=maximum)

    return parse


parse_int = int_parser(-(2**31), 2**31 - 1)


def choice_parser(vocabulary: Vocabulary):
    """Accept a code or its French label, whatever the case and accents."""
    lookup = {}
    for code, label in vocabulary:
        lookup[fold(code)] = code
        lookup[fold(label)] = code

    exact = {label: code for code, label in vocabulary} | {code: code for code in vocabulary.codes}

    def parse(text: str) -> str:
        code = exact.get(text) or lookup.get(fold(text))
        if code is None:
            allowed = ", ".join(label for _, label in vocabulary)
            raise CellError(f"« {text} » n'est pas dans la liste ({allowed}).")
        return code

    return parse


def text_parser(max_length: int):
    def parse(text: str) -> str:
        if len(text) > max_length:
            raise CellError(f"Texte trop long : {max_length} caractères au plus.")
        return text

    return parse


def code_parser(max_length: int = 32):
    def parse(text: str) -> str:
        code = text.upper()
        if not re.match(rf"^[A-Z0-9_-]{{2,{max_length}}}$", code):
            raise CellError(f"« {text} » : code en majuscules, chiffres, - ou _ attendu.")
        return code

    return parse


# --- formatters ----------------------------------------------------------------------------


def format_value(value) -> str:
    """The text an import reads back to the same value (French conventions)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return values.format_bool(value)
    if isinstance(value, dt.datetime):
        return values.format_datetime(value)
    if isinstance(value, dt.date):
        return values.format_date(value)
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    return str(value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe (OWASP advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralise(text: str) -> str:
    """Undo ``neutralise`` on import, so that an exported file re-imports unchanged."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text
