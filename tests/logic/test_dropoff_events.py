"""Drop-off analytics: every step's start, completion, back-out and abandonment is an
event with timings, language, age band and visit type, and no PHI."""

from __future__ import annotations

import json

from logic_helpers import MARIA_BORN, events, identify
from kiosk.flow import BIRTH_DATE, CONFIRM, DONE, LAST_NAME, STEP_EVENT


def step_events(store) -> list[dict]:
    return [e.payload for e in store.outbox_pending(100_000) if e.event_type == STEP_EVENT]


def test_a_visit_records_each_step_started_completed_and_backed_out(journey, demo_store, clock):
    journey.begin()
    journey.enter_last_name("Garcia")
    clock.advance(7)
    journey.back()  # the patient goes back to fix the last name
    journey.enter_last_name("García-López")
    clock.advance(12)
    journey.enter_birth_date(MARIA_BORN)
    assert journey.state == CONFIRM
    journey.confirm(True)
    while journey.state != DONE:
        journey.complete_step(journey.state)
    journey.end("completed")

    seen = [(e["step"], e["action"]) for e in step_events(demo_store)]
    assert seen[:6] == [
        (LAST_NAME, "started"), (LAST_NAME, "completed"), (BIRTH_DATE, "started"),
        (BIRTH_DATE, "backed_out"), (LAST_NAME, "started"), (LAST_NAME, "completed"),
    ]
    assert seen[-1] == (DONE, "completed")
    backed_out = step_events(demo_store)[3]
    assert backed_out["seconds"] == 7.0 and backed_out["reason"] is None
    after_match = [e for e in step_events(demo_store) if e["step"] == CONFIRM]
    assert all(e["visit_type"] and e["age_band"] == "65+" and e["language"] == "en" for e in after_match)
    assert step_events(demo_store)[0]["age_band"] is None  # not known before the birth date


def test_leaving_mid_step_is_an_abandonment_with_its_reason(journey, demo_store, clock):
    identify(journey, "García-López", MARIA_BORN)
    clock.advance(30)
    journey.end("timeout")
    last = step_events(demo_store)[-1]
    assert (last["step"], last["action"], last["reason"], last["seconds"]) == (CONFIRM, "abandoned", "timeout", 30.0)


def test_drop_off_events_carry_no_phi(journey, demo_store):
    identify(journey, "García-López", MARIA_BORN)
    journey.confirm(True)
    journey.end("start_over")
    text = json.dumps(step_events(demo_store)).lower()
    assert "garc" not in text and "maria" not in text and MARIA_BORN.isoformat() not in text
    assert events(demo_store, "visit.ended")  # the visit summary is still written


def test_a_failing_analytics_write_does_not_stop_the_check_in(journey, demo_store, monkeypatch):
    def broken(*_args, **_kw):
        raise OSError("disk full")

    monkeypatch.setattr(demo_store, "record_events", broken)
    identify(journey, "García-López", MARIA_BORN)
    assert journey.state == CONFIRM
