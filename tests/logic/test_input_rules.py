"""What a patient types: contact-field validation and the birth-date keypad."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.birth_date import OLDEST_YEAR, parse_birth_date
from kiosk.contact_fields import FIELD_BY_NAME, FIELDS, US_STATES, InvalidField, normalise
from kiosk.store.records import CONTACT_FIELDS

TODAY = date(2025, 3, 10)


# -- contact_fields.normalise ------------------------------------------------------------


def test_fields_cover_the_stored_contact():
    assert tuple(f.name for f in FIELDS) == CONTACT_FIELDS
    assert set(FIELD_BY_NAME) == set(CONTACT_FIELDS)
    assert all(f.label and f.max_length > 0 for f in FIELDS)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("555-201-9876", "(555) 201-9876"),
        ("5552019876", "(555) 201-9876"),
        ("(555) 201-9876", "(555) 201-9876"),
        ("  555   201 9876 ", "(555) 201-9876"),
        ("555.201.9876", "(555) 201-9876"),
        ("+1 555 201 9876", "(555) 201-9876"),
        ("1-555-201-9876", "(555) 201-9876"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),  # a foreign number keeps its country code
    ],
)
def test_phone_is_normalised(typed, stored):
    assert normalise("phone", typed) == stored


@pytest.mark.parametrize("typed", ["12", "call me", "555-201-98765-1234", "+", "0000000000000000000"])
def test_bad_phone(typed):
    with pytest.raises(InvalidField) as caught:
        normalise("phone", typed)
    assert caught.value.message


@pytest.mark.parametrize("typed", ["555-1234", "2019876"])
def test_phone_without_area_code_is_refused(typed):
    with pytest.raises(InvalidField, match="10-digit"):
        normalise("phone", typed)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("maria@example.org", "maria@example.org"),
        ("Maria.Garcia@Example.ORG", "Maria.Garcia@example.org"),  # domain folded, local part kept
        ("  maria@example.org ", "maria@example.org"),
    ],
)
def test_email_is_normalised(typed, stored):
    assert normalise("email", typed) == stored


@pytest.mark.parametrize("typed", ["maria@", "maria", "@example.org", "maria@@example.org", "maria@example", "ma ria@example.org"])
def test_bad_email(typed):
    with pytest.raises(InvalidField, match="email"):
        normalise("email", typed)


@pytest.mark.parametrize("typed, stored", [("il", "IL"), ("IL", "IL"), (" wi ", "WI"), ("pr", "PR"), ("dc", "DC")])
def test_state(typed, stored):
    assert normalise("state", typed) == stored


@pytest.mark.parametrize("typed", ["ZZ", "Il.", "I", "XX"])
def test_bad_state(typed):
    with pytest.raises(InvalidField):
        normalise("state", typed)


def test_state_list():
    assert len(US_STATES) == 56  # 50 states, DC and 5 territories
    assert all(len(s) == 2 and s.isupper() for s in US_STATES)


@pytest.mark.parametrize(
    "typed, stored",
    [("62701", "62701"), ("62701-1234", "62701-1234"), ("627011234", "62701-1234"), (" 62701 ", "62701")],
)
def test_zip(typed, stored):
    assert normalise("postal_code", typed) == stored


@pytest.mark.parametrize("typed", ["6270", "627011", "62701-12", "ABCDE", "62701 1234", "62701_1234", "-62701"])
def test_bad_zip(typed):
    with pytest.raises(InvalidField, match="ZIP"):
        normalise("postal_code", typed)


def test_free_text_fields_collapse_spaces():
    assert normalise("street", "  12   Elm  Street ") == "12 Elm Street"
    assert normalise("city", "Springfield") == "Springfield"


@pytest.mark.parametrize("field", [f.name for f in FIELDS])
def test_blank_and_too_long(field):
    with pytest.raises(InvalidField, match="fill this in"):
        normalise(field, "   ")
    with pytest.raises(InvalidField, match="too long"):
        normalise(field, "9" * (FIELD_BY_NAME[field].max_length + 1))


def test_invalid_field_carries_its_message():
    error = InvalidField("Please check it.")
    assert isinstance(error, ValueError)
    assert error.message == str(error) == "Please check it."


# -- birth_date.parse_birth_date -------------------------------------------------------------


@pytest.mark.parametrize(
    "year, month, day, born",
    [
        ("1956", "3", "14", date(1956, 3, 14)),
        ("1956", "03", "14", date(1956, 3, 14)),
        ("2000", "2", "29", date(2000, 2, 29)),  # leap day in a leap year (divisible by 400)
        ("1984", "02", "29", date(1984, 2, 29)),
        ("2025", "3", "10", TODAY),  # born today
        (str(OLDEST_YEAR), "1", "1", date(1900, 1, 1)),
    ],
)
def test_valid_birth_dates(year, month, day, born):
    assert parse_birth_date(year, month, day, TODAY) == born


@pytest.mark.parametrize(
    "year, month, day, message",
    [
        ("2025", "3", "11", "future"),  # tomorrow
        ("2030", "1", "1", "future"),
        ("1990", "2", "30", "day does not exist"),  # Feb 30
        ("1990", "4", "31", "day does not exist"),
        ("1990", "1", "0", "day does not exist"),
        ("1990", "1", "32", "day does not exist"),
        ("1900", "2", "29", "day does not exist"),  # 1900 was not a leap year
        ("2023", "2", "29", "day does not exist"),
        ("56", "3", "14", "4 digits"),  # two-digit year
        ("956", "3", "14", "4 digits"),
        ("19560", "3", "14", "4 digits"),
        ("1956", "13", "1", "month"),
        ("1956", "0", "1", "month"),
        ("1899", "12", "31", "check the year"),
        ("", "3", "14", "fill in"),
        ("1956", "", "14", "fill in"),
        ("1956", "3", "", "fill in"),
    ],
)
def test_invalid_birth_dates(year, month, day, message):
    with pytest.raises(InvalidField, match=message) as caught:
        parse_birth_date(year, month, day, TODAY)
    assert caught.value.message


def test_birth_date_depends_on_the_given_today():
    assert parse_birth_date("2025", "3", "11", date(2025, 3, 11)) == date(2025, 3, 11)
    with pytest.raises(InvalidField):
        parse_birth_date("2025", "3", "11", date(2025, 3, 10))
