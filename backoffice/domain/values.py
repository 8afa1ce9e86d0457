"""French values: one parser and one formatter per kind, whatever the door a value comes in by.

The admin forms, the CSV/xlsx engine, the interview wizard and the workflow forms all call these
functions, so that "1 500,50", "14/02/02" or "612345678" is accepted or refused the same way on
every path. A parser takes text (stripped by the caller or not) and returns a Python value, or
raises ``InvalidValue`` with a French message that says how to write the value. A formatter gives
the text that the parser reads back to the same value (``parse(format(v)) == v``, tested with
Hypothesis).

The rules, decided once:

- **Ambiguity is refused, not guessed.** "1.500" may be 1,5 or 1 500; "1,500.50" is an English
  number; "1500,505" has more decimals than an amount holds: each is refused with the way to write
  it. Thousands are separated by spaces (normal, no-break or thin) or not at all.
- **Dates**: ``31/12/2025``, ``1/2/2025``, ``31.12.2025``, ``31-12-2025``, ``2025-12-31``, with an
  optional midnight time (``01/02/2005 00:00``, what spreadsheets add to a date). Two-digit years
  (``14/02/02``, what French LibreOffice writes) take a documented pivot: a birth date is in the
  past (``02`` → 2002, ``75`` → 1975), any other date within fifty years of today.
- **Phones** are stored in one normal form, grouped for reading: ``06 12 34 56 78`` for French
  numbers (overseas included), the international form (``+44 20 7946 0958``) for others. Excel
  drops the leading zero of ``0612345678``: nine digits get it back.
- **Postcodes and SIRETs** get back the leading zeros Excel drops.
- **Excel serial numbers** are dates only when they come from a typed .xlsx cell (the reader
  turns those into dates itself); a number typed as text is never read as a date.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

import phonenumbers

from .people import siret_is_valid


class InvalidValue(ValueError):
    """A value that cannot be read; the message is French, shown to staff as is."""


# --- dates -----------------------------------------------------------------------------------

_DATE_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:hH](\d{2})(?::(\d{2})(?:\.\d+)?)?$")
#: How far from today a two-digit year may land (other than a birth date).
TWO_DIGIT_YEAR_WINDOW = 50


def _full_year(short: int, *, past: bool, today: dt.date) -> int:
    """The four-digit year of a two-digit one: in the past for a birth date, else the year within
    ``TWO_DIGIT_YEAR_WINDOW`` years of today."""
    century = today.year - today.year % 100
    year = century + short
    if past:
        return year if year <= today.year else year - 100
    if year > today.year + TWO_DIGIT_YEAR_WINDOW:
        return year - 100
    if year < today.year - TWO_DIGIT_YEAR_WINDOW:
        return year + 100
    return year


def _split_time(text: str) -> tuple[str, str]:
    """``("01/02/2005", "00:00")`` from ``01/02/2005 00:00`` or ``2005-02-01T00:00:00``."""
    text = " ".join(text.split())
    if "T" in text and text[:4].isdigit():
        date_part, _, time_part = text.partition("T")
        return date_part, time_part
    date_part, _, time_part = text.partition(" ")
    return date_part, time_part.replace(" ", "")


def _date_only(text: str, *, past: bool, today: dt.date | None) -> dt.date:
    today = today or dt.date.today()
    match = _DATE_DMY.match(text)
    if match:
        day, _sep, month, year_text = match.groups()
        year = int(year_text)
        if len(year_text) == 2:
            year = _full_year(year, past=past, today=today)
        day, month = int(day), int(month)
    else:
        match = _DATE_ISO.match(text)
        if not match:
            raise InvalidValue(f"« {text} » n'est pas une date : écrivez-la JJ/MM/AAAA.")
        year, month, day = (int(g) for g in match.groups())
    try:
        value = dt.date(year, month, day)
    except ValueError as error:
        raise InvalidValue(f"« {text} » n'est pas une date qui existe.") from error
    if past and match.re is _DATE_DMY and len(match.group(4)) == 2 and value > today:
        try:  # later this year: a birth date is in the past, so the century before
            value = value.replace(year=value.year - 100)
        except ValueError as error:  # 29 February
            raise InvalidValue(f"« {text} » n'est pas une date qui existe.") from error
    return value


def _time(text: str, original: str) -> dt.time:
    match = _TIME.match(text)
    if not match:
        raise InvalidValue(f"« {original} » : heure illisible (HH:MM attendu).")
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return dt.time(hour, minute, second)
    except ValueError as error:
        raise InvalidValue(f"« {original} » : l'heure {text} n'existe pas.") from error


def parse_date(text: str, *, past: bool = False, today: dt.date | None = None) -> dt.date:
    """A date, French or ISO, with an optional midnight time; ``past`` for birth dates (the
    two-digit-year pivot puts them in the past)."""
    text = text.strip()
    if len(text) == 10 and text[2] == "/" and text[5] == "/" and text.replace("/", "").isdigit():
        try:  # the common case, fast (an import reads hundreds of thousands)
            return dt.date(int(text[6:]), int(text[3:5]), int(text[:2]))
        except ValueError:
            pass  # not a real date: the slow path says so
    date_part, time_part = _split_time(text)
    if time_part and _time(time_part, text) != dt.time(0, 0):
        raise InvalidValue(f"« {text} » : une date sans heure est attendue (JJ/MM/AAAA).")
    return _date_only(date_part, past=past, today=today)


def parse_birth_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """A birth date: two-digit years are in the past, and the date is not in the future."""
    value = parse_date(text, past=True, today=today)
    if value > (today or dt.date.today()):
        raise InvalidValue(f"« {text} » : la date de naissance est dans le futur.")
    if value.year < 1900:
        raise InvalidValue(f"« {text} » : la date de naissance est invalide.")
    return value


def parse_datetime(text: str, *, today: dt.date | None = None) -> dt.datetime:
    """``31/12/2025 14:30``, ``31/12/2025 14h30``, ``2025-12-31T14:30`` (a date alone is
    midnight)."""
    text = text.strip()
    date_part, time_part = _split_time(text)
    day = _date_only(date_part, past=False, today=today)
    moment = _time(time_part, text) if time_part else dt.time(0, 0)
    return dt.datetime.combine(day, moment)


def format_date(value: dt.date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: dt.datetime) -> str:
    return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}"


# --- numbers ---------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_NUMBER = re.compile(r"^([+-]?)(\d+)(?:[.,](\d+))?$")
_GROUPED = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?$")


def parse_decimal(
    text: str,
    *,
    places: int = 2,
    max_digits: int | None = None,
    negative: bool = False,
    unit: str = "€",
) -> Decimal:
    """A French number: ``1 500,50``, ``1500,5``, ``1500.50``, ``1 500 €``.

    Refused: ``1.500`` and ``1,500`` (a thousands group or a decimal?), ``1,500.50`` and
    ``1.500,50`` (two kinds of separators), more than ``places`` decimals, more than
    ``max_digits`` digits in all, a negative value unless ``negative``, exponents, NaN.
    """
    original = text
    text = text.strip()
    if unit and text.endswith(unit):
        text = text[: -len(unit)].strip()
    if _GROUPED.match(text):
        text = _SPACES.sub("", text)
    elif _SPACES.search(text):
        raise InvalidValue(
            f"« {original} » n'est pas un nombre : séparez les milliers par des espaces "
            "par groupes de trois chiffres (ex. 1 500,50)."
        )
    if "," in text and "." in text:
        raise InvalidValue(
            f"« {original} » mêle virgule et point : écrivez 1 500,50 (espace pour les "
            "milliers, virgule pour les décimales)."
        )
    match = _NUMBER.match(text)
    if not match:
        raise InvalidValue(f"« {original} » n'est pas un nombre (ex. 1 500,50).")
    sign, whole, decimals = match.groups()
    decimals = decimals or ""
    if (
        len(decimals) == 3
        and len(whole) <= 3
        and whole != "0"
        and not whole.startswith("0")
        and places < 3
    ):
        raise InvalidValue(
            f"« {original} » est ambigu : écrivez {int(whole)} {decimals} (milliers séparés "
            f"par une espace) ou {int(whole)},{decimals.rstrip('0') or '0'} (virgule décimale)."
        )
    if len(decimals.rstrip("0")) > places:
        raise InvalidValue(
            f"« {original} » a trop de décimales : {places} au plus."
            if places
            else f"« {original} » : un nombre entier est attendu."
        )
    value = Decimal(f"{sign}{whole}.{decimals or '0'}")
    if value < 0 and not negative:
        raise InvalidValue(f"« {original} » : un nombre négatif n'est pas accepté.")
    value = value.quantize(Decimal(1).scaleb(-places)) if places else Decimal(int(value))
    if max_digits is not None and len(value.as_tuple().digits) > max_digits:
        biggest = Decimal(10) ** (max_digits - places) - Decimal(1).scaleb(-places)
        raise InvalidValue(
            f"« {original} » est trop grand : {format_decimal(biggest, places=places)} au plus."
        )
    return value


def format_decimal(value: Decimal, *, places: int = 2, grouped: bool = False) -> str:
    """``1500,50`` (for files: spreadsheets read it as a number), or ``1 500,50`` when
    ``grouped`` (for screens: a no-break space between thousands)."""
    value = Decimal(value)
    text = f"{value:,.{places}f}" if grouped else f"{value:.{places}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def format_amount(value: Decimal, unit: str = "€") -> str:
    """An amount for a screen: ``1 500,50 €`` (no decimals when whole: ``60 €``)."""
    value = Decimal(value)
    places = 0 if value == value.to_integral_value() else 2
    return f"{format_decimal(value, places=places, grouped=True)}\u00a0{unit}".rstrip()


#: How each unit of the aid catalogue (``vocab.AID_UNITS``) is written after a quantity.
UNIT_WORDS = {
    "euro": ("€", "€"),
    "ticket": ("ticket", "tickets"),
    "session": ("séance", "séances"),
    "hour": ("heure", "heures"),
}


def format_quantity(value: Decimal | int | None, unit: str | None = "euro") -> str:
    """An aid's amount with its unit, for a screen: ``1 500 €``, ``60,50 €``, ``10 tickets``,
    ``1 séance``, ``1,5 heure`` (French: plural from 2). Empty for None. One function for the
    catalogue, the wizard, the aid requests and the file."""
    if value is None:
        return ""
    singular, plural = UNIT_WORDS.get(unit or "euro", UNIT_WORDS["euro"])
    return format_amount(Decimal(value), plural if abs(Decimal(value)) >= 2 else singular)


def parse_int(text: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number (``1 500`` accepted), within ``minimum``..``maximum`` when given."""
    original = text
    text = _SPACES.sub("", text.strip())
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        raise InvalidValue(f"« {original} » n'est pas un nombre entier.")
    value = int(text)
    if minimum is not None and value < minimum:
        raise InvalidValue(f"« {original} » : {minimum} au moins.")
    if maximum is not None and value > maximum:
        raise InvalidValue(f"« {original} » : {maximum} au plus.")
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a NUL or another control character (tab, CR and LF are text)."""
    return _CONTROL.search(text) is not None


#: The largest id a record can have (INTEGER is 32 bits on PostgreSQL).
MAX_ID = 2**31 - 1


def parse_id(text) -> int | None:
    """A record id from a URL or a form: a whole number within the database's INTEGER, else
    None (a tampered or stale URL then finds no record: a 404 or an empty list, never a 500)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 < text <= MAX_ID else None
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


# --- yes / no --------------------------------------------------------------------------------

_TRUE = {"oui", "o", "vrai", "1", "x", "yes", "y", "true", "v"}
_FALSE = {"non", "n", "faux", "0", "no", "false", "f", ""}


def parse_bool(text: str) -> bool:
    """oui/non, vrai/faux, 1/0, x (empty is non)."""
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise InvalidValue(f"« {text} » : oui ou non attendu.")


def format_bool(value: bool) -> str:
    return "oui" if value else "non"


# --- contact details -------------------------------------------------------------------------

_PHONE_NORMAL = re.compile(r"0[1-9](?: \d\d){4}")
_PHONE_NOISE = re.compile(r"[\s.\-/()\u00a0]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def parse_email(text: str) -> str:
    """An e-mail address, stored in lower case."""
    text = text.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidValue(f"« {text} » n'est pas une adresse e-mail (prenom.nom@exemple.fr).")
    return text.lower()


#: Overseas departments and territories numbered in the French ten-digit plan (0692… is a
#: mobile in La Réunion, 0596… a line in Martinique): country code -> their regions.
OVERSEAS = {262: ("RE", "YT"), 508: ("PM",), 590: ("GP", "BL", "MF"), 594: ("GF",), 596: ("MQ",)}
_FRENCH_PLAN = ("FR", *(region for regions in OVERSEAS.values() for region in regions))


@functools.lru_cache(maxsize=100_000)
def _french_prefix_is_valid(national_prefix: str) -> bool:
    """Whether ten-digit numbers starting with 0 and these five digits exist, in France or
    overseas (libphonenumber's patterns for these plans depend on the first digits only: checked
    over every prefix in the tests). An import reads a hundred thousand numbers: this keeps each
    under a microsecond."""
    number = "0" + national_prefix + "0000"
    return any(
        phonenumbers.is_valid_number(phonenumbers.parse(number, region)) for region in _FRENCH_PLAN
    )


def _pairs(ten_digits: str) -> str:
    return " ".join(ten_digits[i : i + 2] for i in range(0, 10, 2))


def parse_phone(text: str) -> str:
    """A phone number in its normal form: ``06 12 34 56 78`` in the French plan (overseas
    included: ``06 92 34 71 96``), the international form abroad (``+44 20 7946 0958``)."""
    original = text
    text = text.strip()
    if _PHONE_NORMAL.fullmatch(text):  # already in its normal form (an export read back)
        if not _french_prefix_is_valid(text[1] + text[3:5] + text[6:8]):
            raise InvalidValue(f"« {original} » n'est pas un numéro de téléphone qui existe.")
        return text
    digits = _PHONE_NOISE.sub("", text)
    if len(digits) == 9 and digits.isdigit() and digits[0] != "0":
        digits = "0" + digits  # Excel drops the leading zero of 0612345678
    if digits.startswith("+33") and len(digits) == 12 and digits[3] != "0":
        digits = "0" + digits[3:]
    if len(digits) == 10 and digits[0] == "0" and digits.isdigit():  # the French plan, fast
        if not _french_prefix_is_valid(digits[1:6]):
            raise InvalidValue(f"« {original} » n'est pas un numéro de téléphone qui existe.")
        return _pairs(digits)
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException as error:
        raise InvalidValue(
            f"« {original} » n'est pas un numéro de téléphone (06 12 34 56 78)."
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"« {original} » n'est pas un numéro de téléphone (06 12 34 56 78).")
    national = str(number.national_number)
    if (number.country_code == 33 or number.country_code in OVERSEAS) and len(national) == 9:
        return _pairs("0" + national)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_postcode(text: str) -> str:
    """Five digits (``1000`` gets back the leading zero Excel dropped: ``01000``)."""
    text = text.strip().replace(" ", "")
    if len(text) == 4 and text.isdigit():
        text = "0" + text
    if len(text) != 5 or not text.isdigit():
        raise InvalidValue(f"« {text} » n'est pas un code postal (5 chiffres).")
    return text


def parse_siret(text: str) -> str:
    """Fourteen digits whose key is right; spaces and dots removed, and the leading zeros a
    spreadsheet dropped put back (``73282932000074`` and ``3282932000074`` alike)."""
    original = text
    digits = re.sub(r"[\s.\u00a0]", "", text)
    if digits.isdigit() and 9 <= len(digits) < 14:
        digits = digits.zfill(14)
    if not siret_is_valid(digits):
        raise InvalidValue(
            f"« {original} » n'est pas un SIRET valide (14 chiffres dont la clé est juste)."
        )
    return digits


def local_now() -> dt.datetime:
    """Now, in the mission locale's time (Paris), naive to the minute's second: interviews and
    appointments are typed and stored in local time."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)


def format_figure(value) -> str:
    """A report's figure in French: 12 345, 42,5 ; an em dash when there is none."""
    if value is None:
        return "—"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    places = max(0, -Decimal(value).normalize().as_tuple().exponent)
    return format_decimal(Decimal(value), places=min(places, 2), grouped=True)
