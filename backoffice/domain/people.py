"""Rules about young people and their programmes: age, eligibility, identifiers, overlaps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .vocabularies import N_

MIN_AGE = 16
MAX_AGE = 25
MAX_AGE_RQTH = 29  # disability recognition (RQTH) extends eligibility


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years between ``birth_date`` and ``day`` (a birthday on 29 February counts on 1 March)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def eligibility_warning(birth_date: dt.date | None, rqth: bool, day: dt.date) -> str | None:
    """A French warning when a registration falls outside 16-25 (29 with RQTH); None when eligible.

    It is a warning, never a refusal: the counsellor may have good reasons, and the record is kept.
    """
    if birth_date is None:
        return None
    age = age_on(birth_date, day)
    ceiling = MAX_AGE_RQTH if rqth else MAX_AGE
    if age < MIN_AGE:
        return f"À l'inscription, ce jeune a {age} ans : l'accompagnement commence à {MIN_AGE} ans."
    if age > ceiling:
        extra = "" if rqth else " (29 ans avec une RQTH)"
        return (
            f"À l'inscription, ce jeune a {age} ans : l'accompagnement s'adresse aux "
            f"{MIN_AGE}-{ceiling} ans{extra}."
        )
    return None


@dataclass(frozen=True)
class AgeBand:
    """A filter band on age, turned into a birth-date range for a given day."""

    code: str
    label: str
    min_age: int
    max_age: int | None

    def birth_date_range(self, day: dt.date) -> tuple[dt.date | None, dt.date]:
        """(earliest birth date exclusive bound or None, latest birth date inclusive) for the band."""
        latest = _years_before(day, self.min_age)
        earliest = None if self.max_age is None else _years_before(day, self.max_age + 1)
        return earliest, latest


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February on a non-leap year
        return day.replace(year=day.year - years, day=28)


AGE_BANDS = (
    AgeBand("under16", N_("Moins de 16 ans"), 0, 15),
    AgeBand("16-17", N_("16-17 ans (mineurs)"), 16, 17),
    AgeBand("18-21", N_("18-21 ans"), 18, 21),
    AgeBand("22-25", N_("22-25 ans"), 22, 25),
    AgeBand("26+", N_("26 ans et plus"), 26, None),
)


def siret_is_valid(siret: str) -> bool:
    """14 digits whose Luhn checksum holds (La Poste's establishments are the documented exception)."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith("356000000"):  # La Poste: digit sum multiple of 5
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for index, char in enumerate(reversed(siret)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def normalise_siret(text: str | None) -> str | None:
    """Drop spaces and dots people type inside a SIRET; None for an empty value."""
    if text is None:
        return None
    cleaned = "".join(ch for ch in text if ch not in " .\u00a0")
    return cleaned or None


def periods_overlap(
    start_a: dt.date, end_a: dt.date | None, start_b: dt.date, end_b: dt.date | None
) -> bool:
    """Whether two date periods overlap; an open end (None) runs forever. Ends are inclusive."""
    a_before_b = end_a is not None and end_a < start_b
    b_before_a = end_b is not None and end_b < start_a
    return not (a_before_b or b_before_a)
