"""Payment records: written before the terminal is asked, settled once, purged when old."""

from datetime import date, timedelta

import pytest

from store_helpers import NOW, TODAY, add_clinic, raw
from kiosk.store import AppointmentRecord, NewEvent, StoreError


def test_a_payment_is_started_then_settled_once_with_its_event(store, data_dir):
    _, _, [appt] = add_clinic(store, TODAY, [("Pat", "Pay", date(1960, 1, 2))])
    store.start_payment("k1", appt, "s", 2500, NOW)
    assert [p.state for p in store.payments(state="started")] == ["started"]
    answer = {"status": "approved", "token": "tok_1", "brand": "VISA", "last4": "1111", "approval_code": "A1"}
    assert store.finish_payment("k1", "approved", answer, [NewEvent("payment.recorded", {"k": 1})], NOW)
    # A second answer for the same key (a retry after a crash) changes nothing.
    assert not store.finish_payment("k1", "declined", {"status": "declined"}, [NewEvent("payment.recorded", {})], NOW)
    [paid] = store.payments(appointment_id=appt)
    assert paid.state == "approved" and paid.result == answer and "tok_1" not in repr(paid)
    assert [e.event_type for e in store.outbox_pending()] == ["payment.recorded"]
    [[blob]] = raw(data_dir, "SELECT result FROM payments")
    assert b"tok_1" not in blob and b"1111" not in blob


def test_finishing_an_unknown_payment_is_an_error(store):
    with pytest.raises(StoreError):
        store.finish_payment("nope", "approved", {}, [], NOW)
    with pytest.raises(ValueError):
        store.finish_payment("nope", "started", {}, [], NOW)


def test_settled_payments_are_purged_with_old_data_but_not_unreconciled_ones(store):
    _, _, [appt] = add_clinic(store, TODAY, [("Pat", "Pay", date(1960, 1, 2))])
    old = NOW - timedelta(days=30)
    store.start_payment("done", appt, "s", 100, old)
    store.finish_payment("done", "declined", None, [], old)
    store.start_payment("open", appt, "s", 100, old)
    store.purge_before(TODAY - timedelta(days=7))
    assert [p.id for p in store.payments()] == ["open"]


def test_the_copay_and_portal_flag_come_with_the_appointment(store):
    cid, [pid], [appt] = add_clinic(store, TODAY, [("Pat", "Pay", date(1960, 1, 2))])
    [match] = store.find_appointments("Pay", date(1960, 1, 2), TODAY)
    assert match.copay_cents is None and match.portal_account is False
    start = match.start
    store.import_schedule(appointments=[AppointmentRecord(appt, pid, cid, start, "follow_up", copay_cents=4000)])
    [match] = store.find_appointments("Pay", date(1960, 1, 2), TODAY)
    assert match.copay_cents == 4000
