"""The kiosk's copay, licence and portal events: accepted when they are what the kiosk
writes; a payment carrying anything like a card number, or another site's appointment,
is rejected (the kiosk dead-letters it for staff)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hardware.payment import PaymentResult, PaymentStatus
from kiosk.steps.copay import payment_event
from server_helpers import add_schedule, event, site_today


@pytest.fixture
def appointment(server, site):
    with server.sessions.begin() as db:
        return add_schedule(db, site.id, [site_today()], per_day=1)[0]


def approved(appointment_id: str, **changes) -> dict:
    result = PaymentResult(PaymentStatus.APPROVED, str(uuid.uuid4()), 2500, token="tok_8f3a", brand="visa",
                           last4="1111", approval_code="A1B2C3", at=datetime(2025, 5, 1, 15, 0, tzinfo=UTC))
    return {**payment_event(appointment_id, result), **changes}


def test_what_the_kiosk_writes_is_accepted(kiosk, appointment):
    events = [
        event("payment.recorded", approved(appointment["id"])),
        event("payment.deferred", {"appointment_id": appointment["id"], "amount_cents": 2500, "reason": "front_desk"}),
        event("identify.licence_used", {"expired": True}),
        event("portal.invitation_shown", {"appointment_id": appointment["id"], "patient_id": appointment["patient_id"],
                                          "invitation_id": str(uuid.uuid4()), "expires_at": "2025-05-08T15:00:00+00:00"}),
    ]
    assert [r["status"] for r in kiosk.push(*events)] == ["accepted"] * 4


@pytest.mark.parametrize("changes", [{"token": "4111111111111111"}, {"last4": "41111"}, {"pan": "4111111111111111"},
                                     {"status": "charged"}])
def test_card_numbers_and_unknown_fields_are_refused(kiosk, appointment, changes):
    [result] = kiosk.push(event("payment.recorded", approved(appointment["id"], **changes)))
    assert result["status"] == "rejected" and "4111111111111111" not in result["reason"]


def test_another_sites_appointment_is_refused(kiosk):
    [result] = kiosk.push(event("payment.recorded", approved(str(uuid.uuid4()))))
    assert result["status"] == "rejected" and "at this kiosk's site" in result["reason"]
