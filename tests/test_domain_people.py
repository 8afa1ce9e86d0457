"""Rules about young people, without HTTP: ages, eligibility, SIRET keys, programme overlaps."""

from __future__ import annotations

import datetime as dt

import pytest

from backoffice.domain.people import (
    AGE_BANDS,
    age_on,
    eligibility_warning,
    normalise_siret,
    periods_overlap,
    siret_is_valid,
)

D = dt.date


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (D(2005, 6, 15), D(2025, 6, 14), 19),
        (D(2005, 6, 15), D(2025, 6, 15), 20),
        (D(2004, 2, 29), D(2022, 2, 28), 17),
        (D(2004, 2, 29), D(2022, 3, 1), 18),
    ],
)
def test_age_counts_full_years(birth, day, age):
    assert age_on(birth, day) == age


def test_a_registration_inside_16_25_has_no_warning():
    assert eligibility_warning(D(2005, 1, 1), False, D(2025, 1, 1)) is None


def test_a_15_year_old_gets_a_warning():
    assert "15 ans" in eligibility_warning(D(2009, 6, 1), False, D(2025, 1, 1))


def test_26_years_is_allowed_only_with_rqth():
    assert "26 ans" in eligibility_warning(D(1999, 1, 1), False, D(2025, 1, 1))
    assert eligibility_warning(D(1999, 1, 1), True, D(2025, 1, 1)) is None
    assert "30 ans" in eligibility_warning(D(1995, 1, 1), True, D(2025, 1, 1))


def test_age_bands_turn_into_birth_date_ranges():
    today = D(2025, 6, 1)
    band = next(b for b in AGE_BANDS if b.code == "18-21")
    earliest, latest = band.birth_date_range(today)
    assert latest == D(2007, 6, 1)  # 18 today
    assert earliest == D(2003, 6, 1)  # 22 today: excluded
    for birth, inside in [(D(2007, 6, 1), True), (D(2003, 6, 2), True), (D(2003, 6, 1), False)]:
        assert (earliest < birth <= latest) is inside


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("73282932000074", True),  # a real, published SIRET
        ("73282932000075", False),
        ("1234", False),
        ("7328293200007A", False),
        ("35600000000010", True),  # La Poste's rule
    ],
)
def test_siret_key(siret, valid):
    assert siret_is_valid(siret) is valid


def test_siret_spaces_are_dropped():
    assert normalise_siret(" 732 829 320 00074 ") == "73282932000074"
    assert normalise_siret("   ") is None


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((D(2025, 1, 1), D(2025, 3, 1)), (D(2025, 3, 2), None), False),
        ((D(2025, 1, 1), D(2025, 3, 1)), (D(2025, 3, 1), None), True),
        ((D(2025, 1, 1), None), (D(2026, 1, 1), None), True),
        ((D(2025, 5, 1), D(2025, 6, 1)), (D(2025, 1, 1), D(2025, 2, 1)), False),
    ],
)
def test_programme_periods(a, b, overlap):
    assert periods_overlap(*a, *b) is overlap
