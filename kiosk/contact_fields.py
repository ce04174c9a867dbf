"""The contact details a patient can review and correct at the kiosk, and their validation.

Validation uses phonenumbers and email-validator rather than hand-written patterns;
errors are message ids (translated by the screen) that tell the patient what to fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.i18n_markers import N_

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
    "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)


class InvalidField(ValueError):
    """A value the patient typed that cannot be saved; `message` is a translatable id."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ContactField:
    name: str  # attribute of store.Contact
    label: str  # translatable message id
    keyboard: str  # "phone", "email", "text" or "postal"
    max_length: int


FIELDS: tuple[ContactField, ...] = (
    ContactField("phone", N_("Mobile phone"), "phone", 20),
    ContactField("email", N_("Email"), "email", 80),
    ContactField("street", N_("Street address"), "text", 80),
    ContactField("city", N_("City"), "text", 40),
    ContactField("state", N_("State"), "text", 2),
    ContactField("postal_code", N_("ZIP code"), "postal", 10),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}


def normalise(field: str, value: str, region: str = "US") -> str:
    """Return the value as it will be stored, or raise InvalidField."""
    value = " ".join(value.split())
    spec = FIELD_BY_NAME[field]
    if not value:
        raise InvalidField(N_("Please fill this in, or press Cancel."))
    if len(value) > spec.max_length:
        raise InvalidField(N_("That is too long. Please check it."))
    if field == "phone":
        return _phone(value, region)
    if field == "email":
        # Imported when first needed: these libraries are not on the kiosk's start-up path.
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise InvalidField(N_("That email address does not look complete. Example: name@example.com")) from None
    if field == "state":
        state = value.upper()
        if state not in US_STATES:
            raise InvalidField(N_("Please enter the two-letter state code, for example IL."))
        return state
    if field == "postal_code":
        if not re.fullmatch(r"\d{5}(-?\d{4})?", value):
            raise InvalidField(N_("Please enter a 5-digit ZIP code."))
        return value if len(value) == 5 else f"{value[:5]}-{value[-4:]}"
    return value


def _phone(value: str, region: str) -> str:
    import phonenumbers  # imported when first needed, like email_validator

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    # IS_POSSIBLE only: "possible, local only" would accept a 7-digit number with no area code.
    if number is None or phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidField(N_("Please enter a 10-digit phone number, with area code."))
    if number.country_code == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
