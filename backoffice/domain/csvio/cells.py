"""Cell parsers and formatters: French spreadsheets as they really come, and back.

A parser takes the cell's text (already stripped, never None) and returns a Python value or raises
``CellError`` with a French message. A formatter turns a value back into the text an import reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ..people import normalise_siret, siret_is_valid
from ..vocabularies import Vocabulary


class CellError(ValueError):
    """A cell that cannot be read; the message is shown to staff as is (French)."""


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form used to match headers and labels (cached:
    an import folds the same first names and labels over and over)."""
    if text.isascii():
        return " ".join(text.casefold().replace("’", "'").split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().replace("’", "'").split())


# --- parsers -------------------------------------------------------------------------------

_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")


def parse_date(text: str) -> dt.date:
    """31/12/2025, 1/2/2025, 31.12.2025 or 2025-12-31."""
    if len(text) == 10 and text[2] == "/" and text[5] == "/":  # the common case, fast
        try:
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
        except ValueError:
            pass  # not digits, or not a real date: the slow path says which
    match = _DATE_FR.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _DATE_ISO.match(text)
        if not match:
            raise CellError(f"« {text} » n'est pas une date (JJ/MM/AAAA attendu).")
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise CellError(f"« {text} » n'est pas une date qui existe.") from error


def parse_decimal(text: str) -> Decimal:
    """1 234,56 · 1234.56 · 1 234,56 € (space, no-break space, thin space as thousands)."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text)
    if cleaned.count(",") == 1 and "." in cleaned:  # 1.234,56
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise CellError(f"« {text} » n'est pas un nombre (ex. 1 234,50).") from error
    if not value.is_finite():
        raise CellError(f"« {text} » n'est pas un nombre (ex. 1 234,50).")
    if value < 0:
        raise CellError(f"« {text} » : un montant négatif n'est pas accepté.")
    return value.quantize(Decimal("0.01"))


def parse_int(text: str) -> int:
    try:
        return int(text.replace(" ", ""))
    except ValueError as error:
        raise CellError(f"« {text} » n'est pas un nombre entier.") from error


_TRUE = {"oui", "o", "vrai", "1", "x", "yes", "y", "true"}
_FALSE = {"non", "n", "faux", "0", "no", "false", ""}


def parse_bool(text: str) -> bool:
    """oui/non, vrai/faux, 1/0, x (or empty for non)."""
    if text == "non":
        return False
    if text == "oui":
        return True
    folded = fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(f"« {text} » : oui ou non attendu.")


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


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(text: str) -> str:
    if not _EMAIL.match(text):
        raise CellError(f"« {text} » n'est pas une adresse e-mail.")
    return text.lower()


_PHONE = re.compile(r"^(\+33\s?|0)[1-9]([\s.-]?\d{2}){4}$")


def parse_phone(text: str) -> str:
    if len(text) == 9 and text.isdigit():  # Excel drops the leading zero of 0612345678
        text = "0" + text
    if not _PHONE.match(text):
        raise CellError(f"« {text} » n'est pas un numéro de téléphone (06 12 34 56 78).")
    return text


def parse_postcode(text: str) -> str:
    if len(text) == 4 and text.isdigit():  # Excel drops the leading zero of 01000
        text = "0" + text
    if len(text) != 5 or not text.isdigit():
        raise CellError(f"« {text} » n'est pas un code postal (5 chiffres).")
    return text


def parse_siret(text: str) -> str:
    value = normalise_siret(text) or ""
    if not siret_is_valid(value):
        raise CellError(f"« {text} » n'est pas un SIRET valide (14 chiffres, clé juste).")
    return value


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
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
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
