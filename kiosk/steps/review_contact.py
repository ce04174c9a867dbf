"""Review contact details: the patient checks phone, email and address and corrects them.

Each saved correction is written at once (with its outbox event), so a patient who walks
away after fixing their phone number has not lost it.
"""
from __future__ import annotations

import dataclasses

from kiosk.contact_fields import FIELD_BY_NAME, normalise
from kiosk.flow import Journey, Step


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
