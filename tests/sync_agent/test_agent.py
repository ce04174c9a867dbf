"""SyncAgent against the fake practice server: the outbox is delivered exactly once in
effect whatever the network does, the schedule and bundles arrive, heartbeat, purge
and the health file tell the truth."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta

import pytest

from agent_helpers import START, make_agent
from fake_server import NETWORK_AFTER
from kiosk.store import HIGH_PRIORITY
from kiosk.sync_health import read_health
from sync_agent import agent as agent_module
from sync_agent.errors import PermanentError, TransientError

TODAY = START.date()


def record(store, n: int, event_type: str = "visit.step_timing") -> list[str]:
    return [
        store.record_event(event_type, {"i": i}, "s", START + timedelta(seconds=i)) for i in range(n)
    ]


def states(data_dir) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        return dict(conn.execute("SELECT id, state FROM outbox_events"))
    finally:
        conn.close()


# -- pushing the outbox --------------------------------------------------------------------


def test_backlog_is_drained_oldest_first_in_batches(agent, store, server, data_dir):
    ids = record(store, 7)
    report = agent.sync_once()
    assert server.batches == [ids[:3], ids[3:6], ids[6:]]
    assert report.pushed == report.accepted == 7 and report.backlog == 0
    assert set(states(data_dir).values()) == {"sent"}
    assert store.status().outbox_pending == 0


def test_a_duplicate_is_marked_sent(agent, store, server, data_dir):
    [first, second] = record(store, 2)
    server.fail("timeout_after")  # the server stores both, the answer is lost
    with pytest.raises(TransientError):
        agent.sync_once()
    assert server.received() == {first, second}
    assert set(states(data_dir).values()) == {"pending"}
    report = agent.sync_once()
    assert report.duplicates == 2 and report.accepted == 0
    assert set(states(data_dir).values()) == {"sent"}
    assert len(server.events) == 2


def test_a_rejected_event_becomes_a_dead_letter(agent, store, server, data_dir):
    good = record(store, 1)[0]
    bad = store.record_event("coffee.ordered", {"size": "large"}, None, START)
    report = agent.sync_once()
    assert report.rejected == 1 and report.accepted == 1
    assert states(data_dir) == {good: "sent", bad: "dead"}
    [letter] = store.dead_letters()
    assert letter.event_id == bad and letter.reason == "unknown event type 'coffee.ordered'"
    health = read_health(agent._health_path)
    assert health.dead_letters == 1 and health.state == "online"
    # Nothing is pushed again: a dead event is out of the queue.
    agent.sync_once()
    assert server.events[bad].times_received == 1


@pytest.mark.parametrize(
    "fault",
    ["garbage", "truncated", "missing_event", "wrong_order", "500", "502", "503", "429",
     "timeout", "connection", "timeout_after", "reset_after"],
)
def test_nothing_is_marked_on_a_bad_or_missing_reply(agent, store, server, data_dir, fault):
    ids = record(store, 3)
    server.fail(fault, path="/events")
    with pytest.raises(TransientError):
        agent.sync_once()
    assert set(states(data_dir).values()) == {"pending"}
    [e] = [e for e in store.outbox_pending(10) if e.id == ids[0]]
    assert e.attempts == 1 and e.last_error and len(e.last_error) <= 500
    # The next try delivers them: accepted or, if the server had them, duplicate.
    report = agent.sync_once()
    assert report.accepted + report.duplicates == 3
    assert set(states(data_dir).values()) == {"sent"}
    assert server.received("accepted") == set(ids)
    # (garbage comes from "a proxy": the server never saw the batch)
    expect_dup = fault in (*NETWORK_AFTER, "truncated", "missing_event", "wrong_order")
    assert report.duplicates == (3 if expect_dup else 0)


def test_retries_through_a_storm_of_faults_lose_nothing_and_send_nothing_as_new_twice(
    agent, store, server, data_dir
):
    ids = record(store, 10)
    for fault in ["timeout", "500", "garbage", "timeout_after", "503", "connection",
                  "missing_event", "truncated", "reset_after", "429"]:
        server.fail(fault)
    agent._sync_with_retries(full=True)  # stamina retries (waits off in tests)
    assert set(states(data_dir).values()) == {"sent"}
    assert set(server.events) == set(ids)
    assert all(e.status == "accepted" for e in server.events.values())
    assert agent.backoff.failures == 0  # reset by the success
    assert read_health(agent._health_path).state == "online"


def test_a_crash_between_push_and_mark_sent_is_healed_by_a_duplicate(agent, store, server, data_dir, monkeypatch):
    ids = record(store, 4)

    def crash(_ids):
        raise OSError("simulated power cut")

    with monkeypatch.context() as m:
        m.setattr(store, "mark_sent", crash)
        with pytest.raises(OSError):
            agent.sync_once()
    # The second batch went out (the server had answered for the first) while the first
    # was being recorded; then the crash. Both stay pending.
    assert server.received() == set(ids)
    assert set(states(data_dir).values()) == {"pending"}
    report = agent.sync_once()
    assert report.duplicates == 4 and report.accepted == 0
    assert set(states(data_dir).values()) == {"sent"}
    assert {i: server.events[i].times_received for i in ids} == {i: 2 for i in ids}


def test_a_permanent_refusal_leaves_events_pending_and_says_not_enrolled(agent, store, server, data_dir):
    record(store, 2)
    server.revoked = True
    with pytest.raises(PermanentError) as err:
        agent.sync_once()
    assert err.value.code == "revoked"
    assert set(states(data_dir).values()) == {"pending"}
    health = read_health(agent._health_path)
    assert health.state == "not_enrolled" and "revoked" in health.last_error
    server.revoked = False  # IT re-admits the kiosk
    agent.sync_once()
    assert set(states(data_dir).values()) == {"sent"}


def test_too_large_batches_are_split_and_an_oversized_event_set_aside(agent, store, server, data_dir):
    ids = record(store, 3)
    server.fail("413", times=2, path="/events")  # batch of 3 -> refused, of 1 -> refused
    report = agent.sync_once()
    assert server.batches == [ids[1:2], ids[2:3]] and report.rejected == 1
    assert store.dead_letters()[0].reason == "too large for the practice server (HTTP 413)"
    assert states(data_dir)[ids[0]] == "dead"
    assert all(states(data_dir)[i] == "sent" for i in ids[1:])


def test_clock_skew_is_corrected_and_reported(store, client, config, clock, server, device_id, device_key,
                                              adapter, ca_file):
    import requests

    from fake_server import Clock
    from sync_agent.agent import SyncAgent
    from sync_agent.client import SyncClient

    kiosk_clock = Clock(START - timedelta(hours=2))  # CMOS battery flat, no NTP
    session = requests.Session()
    session.mount("https://practice.test", adapter)
    c = SyncClient("https://practice.test", device_id, device_key, session=session, ca_file=ca_file,
                   clock=kiosk_clock)
    a = SyncAgent(store, c, config, clock=kiosk_clock, health_path=config.health_file)
    record(store, 1)
    a.sync_once()
    assert store.status().outbox_pending == 0
    health = read_health(config.health_file)
    assert 7199 <= health.clock_skew_seconds <= 7201
    assert server.heartbeats[0]["clock"].startswith((START - timedelta(hours=2)).date().isoformat())


# -- schedule and bundles -------------------------------------------------------------------------


def test_schedule_is_pulled_page_by_page_and_the_cursor_saved(agent, store, server, monkeypatch):
    monkeypatch.setattr(agent_module, "SCHEDULE_PAGE_LIMIT", 3)
    ids = [server.add_appointment(day=TODAY, hour=9 + i) for i in range(7)]
    report = agent.sync_once()
    assert report.schedule_pages == 3
    assert store.schedule_cursor() == "7"
    [m] = store.find_appointments("Doe0", date(1950, 2, 3), TODAY)
    assert m.appointment_id == ids[0] and m.status == "booked"
    pulls = [p for _, p in server.requests if p.endswith("/schedule")]
    assert len(pulls) == 3

    # Only the changes come next time; a cancellation arrives as status "cancelled".
    server.set_status(ids[1], "cancelled")
    report = agent.sync_once()
    assert report.schedule_pages == 1 and report.schedule_rows == 3  # clinician, patient, appointment
    assert store.find_appointments("Doe1", date(1950, 2, 3), TODAY) == []
    assert store.schedule_cursor() == "8"


def test_a_local_arrival_survives_a_pull_and_reaches_the_server(agent, store, server):
    aid = server.add_appointment(day=TODAY)
    agent.sync_once()
    store.check_in(aid, "s", START)
    server.set_status(aid, "booked")  # the practice re-sends the row, still booked
    agent.sync_once()
    assert store.find_appointments("Doe0", date(1950, 2, 3), TODAY)[0].status == "arrived"
    assert server.appointments[aid]["status"] == "arrived"


def test_a_bad_cursor_starts_again_from_the_beginning(agent, store, server):
    server.add_appointment(day=TODAY)
    store.apply_schedule_page([], [], [], "12345")  # a cursor from another server's life
    report = agent.sync_once()
    assert report.schedule_pages == 1 and store.schedule_cursor() == "1"


def test_bundles_are_fetched_once_then_304_until_they_change(agent, store, server):
    report = agent.sync_once()
    assert report.bundles_updated == ["config", "forms", "consents", "content"]
    assert store.get_setting("checkin.minutes_per_visit") == "20"
    report = agent.sync_once()
    assert report.bundles_updated == []
    server.bundles["config"] = {**server.bundles["config"], "version": "2",
                                "items": {**server.bundles["config"]["items"], "minutes_per_visit": 12}}
    report = agent.sync_once()
    assert report.bundles_updated == ["config"]
    assert store.get_setting("checkin.minutes_per_visit") == "12"
    assert store.bundle_etag("config") == '"config-2"'


# -- heartbeat, purge, health ---------------------------------------------------------------------


def test_heartbeat_says_how_the_kiosk_is(agent, store, server, clock, config):
    record(store, 1, "coffee.ordered")  # will be a dead letter
    agent.sync_once()
    [hb] = server.heartbeats
    assert set(hb) == {"version", "backlog", "oldest_unsent_age_seconds", "clock", "disk_free_bytes",
                       "dead_letters", "last_error"}
    assert hb["backlog"] == 0 and hb["dead_letters"] == 1 and hb["last_error"] is None
    assert hb["disk_free_bytes"] > 0 and isinstance(hb["version"], str)
    assert datetime.fromisoformat(hb["clock"]) == START
    # Not again before heartbeat_interval_seconds ...
    agent.sync_once()
    assert len(server.heartbeats) == 1
    # ... and the next one reports the backlog and the last error.
    server.fail("503", path="/events")
    store.record_event("visit.ended", {}, None, START)
    with pytest.raises(TransientError):
        agent.sync_once()
    clock.advance(seconds=config.heartbeat_interval_seconds)
    store.record_event("visit.ended", {}, None, START)
    server.fail("503", path="/events")
    with pytest.raises(TransientError):
        agent.sync_once()
    agent_pushless = make_agent(store, agent.client, config, clock)
    agent_pushless.last_error = agent.last_error
    info = agent_pushless.heartbeat_info()
    assert info["backlog"] == 2 and info["oldest_unsent_age_seconds"] == 60.0
    assert "503" in info["last_error"]


def test_purge_after_retention_keeps_undelivered_events(store, client, config, server, clock):
    old = server.add_appointment(day=TODAY - timedelta(days=10))
    server.add_appointment(day=TODAY - timedelta(days=2))
    practice = server.bundles["config"]
    server.bundles["config"] = {**practice, "version": "30d", "items": {**practice["items"], "retention_days": 30}}
    make_agent(store, client, config, clock).sync_once()
    store.check_in(old, "s", START - timedelta(days=10))  # arrived back then, never delivered
    server.bundles["config"] = practice  # the practice shortens retention to 7 days
    agent = make_agent(store, client, config, clock)
    server.fail("connection", path="/events")
    with pytest.raises(TransientError):
        agent.sync_once()
    # Past retention, but its arrival is not delivered yet: the patient stays.
    assert store.patients_with_identity("Doe0", date(1950, 2, 3)) == 1
    agent.sync_once()
    assert server.appointments[old]["status"] == "arrived"
    clock.advance(hours=2)  # the purge runs at most hourly
    report = agent.sync_once()
    assert report.purged_patients == 1
    assert store.patients_with_identity("Doe0", date(1950, 2, 3)) == 0
    assert store.patients_with_identity("Doe1", date(1950, 2, 3)) == 1  # inside the window


def test_purge_runs_even_while_offline(agent, store, server):
    store.import_schedule(*_old_patient())
    server.fail("connection", times=5)
    with pytest.raises(TransientError):
        agent.sync_once()
    assert store.patients_with_identity("Old", date(1940, 1, 1)) == 0


def _old_patient():
    from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord

    c = ClinicianRecord("c-old", "Dr. Old")
    p = PatientRecord(id="p-old", first_name="Olive", last_name="Old", birth_date=date(1940, 1, 1))
    a = AppointmentRecord(id="a-old", patient_id="p-old", clinician_id="c-old",
                          start=datetime(2025, 2, 1, 9, 0), visit_type="new")
    return [c], [p], [a]


def test_health_file_states_and_no_phi(agent, store, server, config):
    store.import_schedule(*_old_patient())
    record(store, 2)
    server.fail("connection", path="/events")
    with pytest.raises(TransientError):
        agent.sync_once()
    h = read_health(config.health_file)
    assert h.state == "offline" and h.backlog == 2 and h.oldest_unsent == START
    assert "reach" in h.last_error and h.last_success is None and h.last_attempt == START
    assert h.pid is not None

    agent.sync_once()
    h = read_health(config.health_file)
    assert h.state == "online" and h.backlog == 0 and h.oldest_unsent is None
    assert h.last_success == START and h.last_error is None
    assert store.status().last_sync == START

    server.fail("unknown_device")
    with pytest.raises(PermanentError):
        agent.sync_once()
    h = read_health(config.health_file)
    assert h.state == "not_enrolled" and "python -m provisioning enrol" in h.last_error
    text = config.health_file.read_text()
    for phi in ("Olive", "Doe", "1950-02-03"):
        assert phi not in text
    json.loads(text)


def test_errors_in_logs_carry_no_phi(agent, store, server, caplog):
    server.add_appointment(day=TODAY, patient={"id": "p1", "first_name": "Zebulon", "last_name": "Quixotic",
                                               "birth_date": "1931-07-04"})
    server.fail("orphan")
    caplog.set_level("DEBUG")
    with pytest.raises(TransientError) as err:
        agent.sync_once()
    for phi in ("Zebulon", "Quixotic", "1931"):
        assert phi not in caplog.text and phi not in str(err.value)


# -- forever ------------------------------------------------------------------------------------


def test_run_forever_syncs_pushes_new_events_promptly_and_stops(store, client, config, clock, server,
                                                                monkeypatch):
    monkeypatch.setattr(agent_module, "BACKLOG_POLL_SECONDS", 0.02)
    a = make_agent(store, client, config, clock, sync_interval_seconds=3600)
    stop = threading.Event()
    t = threading.Thread(target=a.run_forever, args=(stop,))
    server.fail("503", times=3)  # the first round needs retries
    t.start()
    try:
        _wait_for(lambda: read_health(config.health_file).state == "online")
        event_id = store.record_event("visit.ended", {}, None, START)
        _wait_for(lambda: event_id in server.events)  # long before the hour is up
        _wait_for(lambda: store.status().outbox_pending == 0)
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()
    assert [p for _, p in server.requests].count("/api/v1/schedule") == 1  # the push was push-only


def test_run_forever_keeps_going_after_a_permanent_error(store, client, config, clock, server, monkeypatch):
    waits = []
    a = make_agent(store, client, config, clock)

    def fake_idle(stop, seconds):
        waits.append(seconds)
        if len(waits) >= 2:
            stop.set()
        return True

    monkeypatch.setattr(a, "_idle", fake_idle)
    server.fail("revoked")
    stop = threading.Event()
    a.run_forever(stop)
    assert waits[0] == 300.0  # the cap: someone must act, no hammering
    assert read_health(config.health_file).state == "online"  # the second round worked


def _wait_for(condition, timeout: float = 10.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_full_jitter_backoff_is_capped():
    from sync_agent.backoff import FullJitterBackoff

    b = FullJitterBackoff(rng=lambda: 1.0)
    waits = [b.next_wait() for _ in range(30)]
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0] and max(waits) == 300.0
    b.reset()
    assert FullJitterBackoff(rng=lambda: 0.5).next_wait(retry_after=7) == 7
    low = FullJitterBackoff(rng=lambda: 0.0)
    assert [low.next_wait() for _ in range(5)] == [0.0] * 5  # full jitter: anywhere from zero
    assert b.hook(ValueError()) is False and b.hook(PermanentError("x", "y")) is False
    stop = threading.Event()
    stop.set()
    assert FullJitterBackoff(stop=stop).hook(TransientError("t", "u")) is False


def test_the_practice_sets_the_sync_policy_through_the_config_bundle(agent, store, server, config):
    """Until a config bundle arrives the kiosk's own values hold; then the practice's do,
    unless one is out of range (the kiosk's own value is kept for that one)."""
    for name in agent_module.SERVER_POLICY:
        assert agent.setting(name) == getattr(config, name)
    items = server.bundles["config"]["items"]
    server.bundles["config"] = {**server.bundles["config"], "version": "2", "items": {
        **items, "retention_days": 3, "sync_interval_seconds": 45, "heartbeat_interval_seconds": 1}}
    agent.sync_once()
    assert agent.setting("retention_days") == 3
    assert agent.setting("sync_interval_seconds") == 45
    assert agent.setting("heartbeat_interval_seconds") == config.heartbeat_interval_seconds  # 1 < 5
    with pytest.raises(KeyError):
        agent.setting("sync_batch_size")  # not the practice's to set


def test_a_bad_schedule_page_still_lets_the_fleet_view_see_the_kiosk(agent, server):
    """The server answered, but with a page that does not follow the API: the round fails
    (nothing half-applied), yet IT sees the kiosk alive and why it is stuck."""
    server.fail("garbage", path="/schedule")
    with pytest.raises(TransientError):
        agent.sync_once()
    [beat] = server.heartbeats
    assert beat["last_error"].startswith("bad_reply")


def test_no_extra_heartbeat_when_the_network_is_down(agent, server):
    server.fail("connection", path="/schedule")
    with pytest.raises(TransientError):
        agent.sync_once()
    assert server.heartbeats == []


# -- intake forms: urgent first, big events, the patient's history ----------------------------


def test_an_urgent_alert_is_sent_before_the_backlog(agent, store, server):
    backlog = record(store, 5)
    alert = store.record_event("alert.raised", {"i": 99}, "s", START + timedelta(minutes=5),
                               priority=HIGH_PRIORITY)
    agent.sync_once()
    assert server.batches[0][0] == alert
    assert [i for batch in server.batches for i in batch][1:] == backlog


def test_batches_stay_under_the_byte_limit_whatever_their_count(agent, store, server, monkeypatch):
    monkeypatch.setattr(agent_module, "MAX_BATCH_BYTES", 10_000)
    photo = "x" * 4_000  # stands in for a card photo's base64
    ids = [store.record_event("insurance_card.captured", {"image_jpeg": photo}, "s", START + timedelta(seconds=i))
           for i in range(5)]
    agent.sync_once()
    assert [i for batch in server.batches for i in batch] == ids
    assert max(len(batch) for batch in server.batches) == 2  # 3 x 4 KB + envelopes > 10 KB
    assert store.status().outbox_pending == 0


def test_one_event_over_the_byte_limit_still_goes_alone(agent, store, server, monkeypatch):
    monkeypatch.setattr(agent_module, "MAX_BATCH_BYTES", 1_000)
    big = store.record_event("insurance_card.captured", {"image_jpeg": "x" * 5_000}, "s", START)
    agent.sync_once()
    assert server.batches == [[big]]


def test_the_practices_history_of_a_patient_arrives_with_the_schedule(agent, store, server):
    patient = {"id": "2b1f7c7e-2f0e-4a43-9b0e-3f6a7f1d7a10", "first_name": "Pat", "last_name": "Hist",
               "birth_date": "1950-02-03",
               "history": {"form:http://loinc.org/q/44249-1": "2026-01-15", "consent:hipaa-notice@2026-11": "2026-11-02"}}
    server.add_appointment(day=TODAY, patient=patient)
    agent.sync_once()
    assert store.patient_history(patient["id"]) == {
        "form:http://loinc.org/q/44249-1": date(2026, 1, 15), "consent:hipaa-notice@2026-11": date(2026, 11, 2)}


def test_a_bad_history_date_is_a_bad_page(agent, store, server):
    server.add_appointment(day=TODAY, patient={"id": "2b1f7c7e-2f0e-4a43-9b0e-3f6a7f1d7a11", "first_name": "P",
                                               "last_name": "Bad", "birth_date": "1950-02-03",
                                               "history": {"form:x": "last spring"}})
    with pytest.raises(TransientError, match="history"):
        agent.sync_once()


def test_the_agent_restarts_itself_between_rounds_in_the_nightly_window(store, client, config, clock, server):
    """START is 15:00 UTC; a window around it on the machine's clock, after a day's uptime."""
    local = START.astimezone()
    window = f"{(local - timedelta(minutes=5)):%H:%M}-{(local + timedelta(minutes=30)):%H:%M}"
    a = make_agent(store, client, config, clock, restart_window=window)
    a._started -= 21 * 3600  # up since yesterday
    stop = threading.Event()
    t = threading.Thread(target=a.run_forever, args=(stop,))
    t.start()
    t.join(5)
    assert not t.is_alive() and a.restarting  # ended by itself; systemd starts it again
    assert not server.requests  # nothing was in flight: it stopped before a round
    b = make_agent(store, client, config, clock, restart_window=window)  # just started: no restart
    stop = threading.Event()
    t = threading.Thread(target=b.run_forever, args=(stop,))
    t.start()
    try:
        _wait_for(lambda: read_health(config.health_file).state == "online")
    finally:
        stop.set()
        t.join(5)
    assert not b.restarting
