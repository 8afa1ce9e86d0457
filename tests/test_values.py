"""French values: is a value read the same way whatever the door, ambiguity refused, and does
every formatted value read back to itself?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice.domain import values as v
from backoffice.domain.people import siret_is_valid

TODAY = dt.date(2026, 11, 27)


# --- the cases staff met ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 500,50", Decimal("1500.50")),
        ("1\u00a0500,50", Decimal("1500.50")),
        ("1\u202f500,50 €", Decimal("1500.50")),
        ("1500.5", Decimal("1500.50")),
        ("12000,00", Decimal("12000.00")),
        ("0,500", Decimal("0.50")),
        ("1500,500", Decimal("1500.50")),
        ("60", Decimal("60.00")),
    ],
)
def test_decimals_accepted(text, expected):
    assert v.parse_decimal(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.500", "ambigu"),  # 1 500 or 1,5? it was stored as 1,50 €
        ("1,500", "ambigu"),
        ("100.000", "ambigu"),
        ("1,500.50", "mêle virgule et point"),  # an English number, stored as 1,50
        ("1.500,50", "mêle virgule et point"),
        ("1500,505", "trop de décimales"),  # was rounded silently
        ("-3", "négatif"),
        ("1e30", "n'est pas un nombre"),
        ("NaN", "n'est pas un nombre"),
        ("15 00", "espaces"),
        ("", "n'est pas un nombre"),
    ],
)
def test_decimals_refused_with_the_way_to_write_them(text, message):
    with pytest.raises(v.InvalidValue, match=message):
        v.parse_decimal(text)


def test_decimal_bounded_by_the_column():
    assert v.parse_decimal("99 999 999,99", max_digits=10) == Decimal("99999999.99")
    with pytest.raises(v.InvalidValue, match="trop grand"):
        v.parse_decimal("100 000 000", max_digits=10)
    assert v.parse_decimal("7,50", places=1) == Decimal("7.5")
    with pytest.raises(v.InvalidValue, match="trop de décimales"):
        v.parse_decimal("7,25", places=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/02/2002", dt.date(2002, 2, 14)),
        ("14/02/02", dt.date(2002, 2, 14)),  # what French LibreOffice writes
        ("1/2/2005", dt.date(2005, 2, 1)),
        ("01.02.2005", dt.date(2005, 2, 1)),
        ("2005-02-01", dt.date(2005, 2, 1)),
        ("01/02/2005 00:00", dt.date(2005, 2, 1)),
        ("01/02/2005 00:00:00", dt.date(2005, 2, 1)),
        ("2005-02-01T00:00:00", dt.date(2005, 2, 1)),
        ("01/02/60", dt.date(2060, 2, 1)),  # within fifty years of today
        ("01/02/80", dt.date(1980, 2, 1)),
    ],
)
def test_dates_accepted(text, expected):
    assert v.parse_date(text, today=TODAY) == expected


def test_two_digit_birth_years_are_in_the_past():
    assert v.parse_birth_date("14/02/02", today=TODAY) == dt.date(2002, 2, 14)
    assert v.parse_birth_date("14/02/75", today=TODAY) == dt.date(1975, 2, 14)
    assert v.parse_birth_date("14/02/26", today=TODAY) == dt.date(2026, 2, 14)
    assert v.parse_birth_date("28/11/26", today=TODAY) == dt.date(1926, 11, 28)
    with pytest.raises(v.InvalidValue, match="futur"):
        v.parse_birth_date("01/01/2030", today=TODAY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/2005", "qui existe"),
        ("01/02/2005 10:30", "sans heure"),
        ("2005/02/01", "JJ/MM/AAAA"),
        ("37301", "JJ/MM/AAAA"),  # an Excel serial typed as text is not a date
        ("demain", "JJ/MM/AAAA"),
    ],
)
def test_dates_refused(text, message):
    with pytest.raises(v.InvalidValue, match=message):
        v.parse_date(text, today=TODAY)


def test_datetimes():
    assert v.parse_datetime("31/12/2025 14:30") == dt.datetime(2025, 12, 31, 14, 30)
    assert v.parse_datetime("31/12/2025 14h30") == dt.datetime(2025, 12, 31, 14, 30)
    assert v.parse_datetime("2025-12-31T14:30") == dt.datetime(2025, 12, 31, 14, 30)
    assert v.parse_datetime("31/12/2025") == dt.datetime(2025, 12, 31)
    with pytest.raises(v.InvalidValue, match="n'existe pas"):
        v.parse_datetime("31/12/2025 25:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0612345678", "06 12 34 56 78"),
        ("612345678", "06 12 34 56 78"),  # Excel dropped the zero
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+33 (0)6 12 34 56 78", "06 12 34 56 78"),
        ("0692 34 71 96", "06 92 34 71 96"),  # La Réunion
        ("+262 692 34 71 96", "06 92 34 71 96"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
    ],
)
def test_phones_normalised(text, expected):
    assert v.parse_phone(text) == expected


@pytest.mark.parametrize("text", ["06 12 34 56", "0012", "06 39 52 28 81", "téléphone"])
def test_phones_refused(text):
    with pytest.raises(v.InvalidValue):
        v.parse_phone(text)


def test_french_phone_validity_depends_on_five_digits_only():
    """The fast path caches validity by the first five national digits: true for every prefix
    of the French plan (checked against libphonenumber with several endings)."""
    for prefix in range(10000, 100000, 37):
        results = {
            phonenumbers.is_valid_number(phonenumbers.parse(f"0{prefix}{end}", "FR"))
            or any(
                phonenumbers.is_valid_number(phonenumbers.parse(f"0{prefix}{end}", region))
                for region in v._FRENCH_PLAN
            )
            for end in ("0000", "9999", "4821")
        }
        assert len(results) == 1, prefix


def test_postcodes_and_sirets_get_their_zeros_back():
    assert v.parse_postcode("1000") == "01000"
    assert v.parse_siret("73282932000074") == "73282932000074"
    assert v.parse_siret("732 829 320 00074") == "73282932000074"
    zero_led = next(f"00{n:012d}" for n in range(10**8, 10**9) if _luhn(f"00{n:012d}"))
    assert v.parse_siret(zero_led.lstrip("0")) == zero_led  # as a spreadsheet shows it
    with pytest.raises(v.InvalidValue, match="SIRET"):
        v.parse_siret("73282932000075")


def _luhn(siret: str) -> bool:
    return siret_is_valid(siret)


def test_booleans_and_emails():
    for text in ("oui", "OUI", "x", "1", "vrai", "Yes"):
        assert v.parse_bool(text) is True
    for text in ("non", "", "0", "faux"):
        assert v.parse_bool(text) is False
    with pytest.raises(v.InvalidValue, match="oui ou non"):
        v.parse_bool("peut-être")
    assert v.parse_email("Lea.Martin@Example.FR") == "lea.martin@example.fr"
    with pytest.raises(v.InvalidValue):
        v.parse_email("lea@martin")


def test_amounts_for_screens():
    assert v.format_amount(Decimal("400000.00")) == "400\u00a0000\u00a0€"
    assert v.format_amount(Decimal("60.5")) == "60,50\u00a0€"
    assert v.format_amount(Decimal("10"), "tickets") == "10\u00a0tickets"


# --- format then parse is the identity -------------------------------------------------------

amounts = st.decimals(
    min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)


@given(amounts, st.booleans())
def test_decimal_round_trip(value, grouped):
    assert v.parse_decimal(v.format_decimal(value, grouped=grouped), max_digits=10) == value


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_date_round_trip(value):
    assert v.parse_date(v.format_date(value)) == value


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)))
def test_datetime_round_trip(value):
    value = value.replace(second=0, microsecond=0)
    assert v.parse_datetime(v.format_datetime(value)) == value


@given(st.booleans())
def test_bool_round_trip(value):
    assert v.parse_bool(v.format_bool(value)) is value


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_int_round_trip(value):
    assert v.parse_int(str(value)) == value


@given(st.from_regex(r"0[67][0-9]{8}", fullmatch=True))
def test_phone_parse_is_idempotent(number):
    try:
        normal = v.parse_phone(number)
    except v.InvalidValue:
        return  # an unallocated number: refused, and that is the point
    assert v.parse_phone(normal) == normal


@given(st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_postcode_round_trip(code):
    assert v.parse_postcode(code) == code


@given(st.text(max_size=30))
def test_parsers_never_raise_anything_but_invalid_value(text):
    for parse in (
        v.parse_decimal,
        v.parse_date,
        v.parse_birth_date,
        v.parse_datetime,
        v.parse_int,
        v.parse_bool,
        v.parse_phone,
        v.parse_postcode,
        v.parse_email,
        v.parse_siret,
    ):
        try:
            parse(text)
        except v.InvalidValue:
            pass


def test_an_aid_amount_is_written_in_french_with_its_unit():
    from backoffice.domain.values import format_quantity

    assert format_quantity(Decimal("1500")) == "1\u00a0500\u00a0€"
    assert format_quantity(Decimal("60.50"), "euro") == "60,50\u00a0€"
    assert format_quantity(Decimal("10"), "ticket") == "10\u00a0tickets"
    assert format_quantity(Decimal("1"), "session") == "1\u00a0séance"
    assert format_quantity(Decimal("1.5"), "hour") == "1,50\u00a0heure"
    assert format_quantity(Decimal("400000.00"), "euro") == "400\u00a0000\u00a0€"
    assert format_quantity(None, "euro") == ""
