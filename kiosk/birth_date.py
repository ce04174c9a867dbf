"""Turn the three boxes of the birth-date keypad into a date, with errors a patient can act on."""
from __future__ import annotations

from datetime import date

from kiosk.contact_fields import InvalidField
from kiosk.i18n_markers import N_

OLDEST_YEAR = 1900


def parse_birth_date(year: str, month: str, day: str, today: date) -> date:
    if not (year and month and day):
        raise InvalidField(N_("Please fill in the month, day and year."))
    if len(year) != 4:
        raise InvalidField(N_("Please enter the year with 4 digits, for example 1956."))
    y, m, d = int(year), int(month), int(day)
    if not 1 <= m <= 12:
        raise InvalidField(N_("The month must be a number from 1 to 12."))
    try:
        born = date(y, m, d)
    except ValueError:
        raise InvalidField(N_("That day does not exist in that month. Please check the day.")) from None
    if born > today:
        raise InvalidField(N_("The date of birth cannot be in the future."))
    if y < OLDEST_YEAR:
        raise InvalidField(N_("Please check the year."))
    return born
