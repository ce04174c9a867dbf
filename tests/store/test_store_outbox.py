from datetime import timedelta

from store_helpers import NOW, raw


def test_pending_sent_dead_and_failed_states(store, data_dir):
    ids = [
        store.record_event("visit.step_timing", {"i": i}, "s", NOW + timedelta(seconds=i))
        for i in range(5)
    ]
    assert [e.id for e in store.outbox_pending(10)] == ids
    assert [e.id for e in store.outbox_pending(2)] == ids[:2]  # limit, oldest first

    assert store.mark_failed(ids[:2], "timeout") == 2
    first = store.outbox_pending(1)[0]
    assert first.id == ids[0] and first.attempts == 1 and first.last_error == "timeout"
    assert first.state == "pending"

    assert store.mark_sent(ids[:2]) == 2
    assert store.mark_sent(ids[:2]) == 0  # a duplicate ack changes nothing
    assert store.mark_sent([]) == 0
    assert store.mark_dead(ids[2], "rejected: schema") is True
    assert store.mark_dead(ids[2], "again") is False
    assert store.mark_dead(ids[0], "too late, already sent") is False

    assert [e.id for e in store.outbox_pending(10)] == ids[3:]
    rows = dict(raw(data_dir, "SELECT id, state FROM outbox_events"))
    assert [rows[i] for i in ids] == ["sent", "sent", "dead", "pending", "pending"]
    assert raw(data_dir, "SELECT attempts, last_error FROM outbox_events WHERE id = ?", ids[2]) == [
        (1, "rejected: schema")
    ]
    unstamped = "SELECT COUNT(*) FROM outbox_events WHERE state = 'sent' AND sent_at IS NULL"
    assert raw(data_dir, unstamped) == [(0,)]


def test_events_written_at_the_same_time_keep_their_order(store):
    ids = [store.record_event("identify.failed", {"i": i}, None, NOW) for i in range(20)]
    assert [e.id for e in store.outbox_pending(100)] == ids


def test_event_ids_are_uuid4_and_payload_is_encrypted(store, data_dir):
    import uuid

    event_id = store.record_event("identify.failed", {"typed": "Zyxwvut-Unique"}, None, NOW)
    assert uuid.UUID(event_id).version == 4
    [(payload,)] = raw(data_dir, "SELECT payload FROM outbox_events")
    assert payload[:1] == b"\x01" and b"Zyxwvut" not in payload


def test_error_text_is_bounded(store):
    event_id = store.record_event("x", {}, None, NOW)
    store.mark_failed([event_id], "e" * 10_000)
    assert len(store.outbox_pending(1)[0].last_error) == 500
