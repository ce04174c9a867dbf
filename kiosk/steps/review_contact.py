"""Review contact details: the patient checks phone, email and address and corrects them.

Each saved correction is written at once (with its outbox event), so a patient who walks
away after fixing their phone number has not lost it.
"""
from __future__ import annotations

import dataclasses

from kiosk.contact_fields import FIELD_BY_NAME, InvalidField, normalise
from kiosk.flow import Journey, Step

ADDRESS_FIELDS = ("street", "city", "state", "postal_code")


class ReviewContactStep(Step):
    name = "review_contact"

    def save_field(self, journey: Journey, field: str, typed: str) -> None:
        """Validate and store one field; raises InvalidField with a message for the patient."""
        session = journey.session
        if session is None or session.contact is None or session.appointment is None:
            raise RuntimeError("no checked-in visit to update")
        if field not in FIELD_BY_NAME:
            raise KeyError(field)
        value = normalise(field, typed)
        if getattr(session.contact, field) == value:
            return
        journey.store.update_contact(session.appointment.patient_id, {field: value}, session.id, journey.clock())
        session.contact = dataclasses.replace(session.contact, **{field: value})
        if field not in session.changed_fields:
            session.changed_fields.append(field)

    def licence_address(self, journey: Journey) -> dict[str, str]:
        """The address a scanned licence shows (valid values only, as they would be stored)
        when it differs from the practice's record; {} when there is nothing to offer."""
        session = journey.session
        if session is None or session.contact is None or not session.licence_address:
            return {}
        offer = {}
        for field in ADDRESS_FIELDS:
            raw = session.licence_address.get(field)
            if not raw:
                continue
            typed = raw.title() if field in ("street", "city") else raw
            try:
                value = normalise(field, typed)
            except InvalidField:
                continue  # a licence field the kiosk would not accept typed: not offered
            offer[field] = value
        differs = any(value != getattr(session.contact, field) for field, value in offer.items())
        return offer if differs else {}

    def use_licence_address(self, journey: Journey) -> None:
        """The patient said the licence's address is the right one: saved like typed fields."""
        offer = self.licence_address(journey)
        for field, value in offer.items():
            self.save_field(journey, field, value)
        journey.session.licence_address = {}

    def keep_address(self, journey: Journey) -> None:
        journey.session.licence_address = {}
