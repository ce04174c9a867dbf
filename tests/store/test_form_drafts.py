"""Form drafts, several events in one transaction, the patient's form/consent history."""

from datetime import date, timedelta

import pytest

from store_helpers import NOW, TODAY, add_clinic, add_trigger, drop_trigger, new_id, raw
from kiosk.store import HIGH_PRIORITY, HistoryEntry, NewEvent, PatientRecord, StoreError


def test_a_draft_is_saved_encrypted_replaced_and_read_back(store, data_dir):
    draft_id, session = new_id(), new_id()
    store.save_draft(draft_id, session, {"answers": {"q1": ["Pat's private answer"]}}, NOW)
    store.save_draft(draft_id, session, {"answers": {"q1": ["second"]}}, NOW + timedelta(seconds=5))
    [draft] = store.open_drafts()
    assert draft.id == draft_id and draft.session_id == session and draft.body == {"answers": {"q1": ["second"]}}
    assert store.open_drafts(session_id=new_id()) == []
    [[blob]] = raw(data_dir, "SELECT body FROM form_drafts")
    assert b"second" not in blob and b"answers" not in blob
    assert "second" not in repr(draft)


def test_closing_a_draft_writes_its_events_and_history_in_one_transaction(store):
    _, [patient], _ = add_clinic(store, TODAY, [("Pat", "Hist", date(1960, 1, 2))])
    draft_id = new_id()
    store.save_draft(draft_id, "s", {"a": 1}, NOW)
    ids = store.record_events(
        [NewEvent("alert.raised", {"flags": ["self-harm"]}, HIGH_PRIORITY), NewEvent("form.response", {"x": 1})],
        "s", NOW, history=HistoryEntry(patient, "form:http://example.org/phq-9", TODAY), close_draft=draft_id)
    assert len(ids) == 2
    assert store.open_drafts() == []
    assert store.patient_history(patient) == {"form:http://example.org/phq-9": TODAY}
    assert [e.event_type for e in store.outbox_pending()] == ["alert.raised", "form.response"]
    with pytest.raises(StoreError, match="not open"):  # a second close (double tap) is refused
        store.record_events([NewEvent("form.response", {"x": 2})], "s", NOW, close_draft=draft_id)
    assert len(store.outbox_pending()) == 2  # ... and wrote nothing


def test_a_failed_close_keeps_the_draft_and_writes_nothing(store, data_dir):
    _, [patient], _ = add_clinic(store, TODAY, [("Pat", "Hist", date(1960, 1, 2))])
    store.save_draft("d1", "s", {"a": 1}, NOW)
    add_trigger(data_dir, "no_history", "BEFORE UPDATE OF local_history ON patients")
    with pytest.raises(Exception, match="simulated write failure"):
        store.record_events([NewEvent("form.response", {"x": 1})], "s", NOW,
                            history=HistoryEntry(patient, "form:f", TODAY), close_draft="d1")
    assert [d.id for d in store.open_drafts()] == ["d1"]
    assert store.outbox_pending() == []


def test_the_practices_history_and_the_kiosks_merge_latest_wins(store):
    _, [patient], _ = add_clinic(store, TODAY, [("Pat", "Hist", date(1960, 1, 2))])
    store.record_events([], "s", NOW, history=HistoryEntry(patient, "form:phq-9", TODAY))
    old = TODAY - timedelta(days=400)
    record = PatientRecord(id=patient, first_name="Pat", last_name="Hist", birth_date=date(1960, 1, 2),
                           history={"form:phq-9": old.isoformat(), "form:gad-7": old.isoformat()})
    store.import_schedule(patients=[record])  # the practice has not heard of today's PHQ-9 yet
    assert store.patient_history(patient) == {"form:phq-9": TODAY, "form:gad-7": old}


def test_urgent_events_jump_the_queue_but_keep_their_own_order(store):
    normal = [store.record_event("visit.ended", {"i": i}, "s", NOW + timedelta(seconds=i)) for i in range(3)]
    urgent = [store.record_event("alert.raised", {"i": i}, "s", NOW + timedelta(minutes=1, seconds=i),
                                 priority=HIGH_PRIORITY) for i in range(2)]
    assert [e.id for e in store.outbox_pending()] == urgent + normal
    with pytest.raises(ValueError):
        store.record_event("x", {}, "s", NOW, priority=7)


def test_an_answer_and_the_alert_it_raised_are_saved_together(store, data_dir):
    add_trigger(data_dir, "no_alerts", "BEFORE INSERT ON outbox_events")
    with pytest.raises(Exception, match="simulated write failure"):
        store.record_events([NewEvent("alert.raised", {"f": 1}, HIGH_PRIORITY)], "s", NOW,
                            save_draft=("d1", {"answers": 9}))
    assert store.open_drafts() == []  # neither the answer nor the alert
    drop_trigger(data_dir, "no_alerts")
    store.record_events([NewEvent("alert.raised", {"f": 1}, HIGH_PRIORITY)], "s", NOW, save_draft=("d1", {"answers": 9}))
    assert [d.body for d in store.open_drafts()] == [{"answers": 9}]
    assert [e.event_type for e in store.outbox_pending()] == ["alert.raised"]
