"""step.event: drop-off analytics without PHI, and the funnel by site, day and group."""

from __future__ import annotations

import uuid
from unittest.mock import ANY
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from intake_samples import step
from practice_server.models import StepEvent
from practice_server.step_events import FunnelStep, dropoff_funnel

MAY_1 = datetime(2025, 5, 1, 15, 0, tzinfo=UTC)  # 10:00 in Chicago
MAY_2_LATE = datetime(2025, 5, 3, 3, 30, tzinfo=UTC)  # May 2nd, 22:30 in Chicago


def funnel(server, site_id, day_from=date(2025, 5, 1), day_to=date(2025, 5, 2), by=None):
    with server.sessions() as db:
        return dropoff_funnel(db, site_id, day_from, day_to, by)


def journey(language: str, age_band: str | None, at: datetime, *, quit_forms: str | None = None) -> list[dict]:
    """One visit: identify, then forms (completed, backed out of, or abandoned)."""
    session = str(uuid.uuid4())
    kw = {"language": language, "age_band": age_band, "session_id": session}
    events = [step("identify", "started", created_at=at, **kw),
              step("identify", "completed", seconds=21.5, created_at=at + timedelta(seconds=21.5), **kw),
              step("forms", "started", created_at=at + timedelta(seconds=22), **kw)]
    end = at + timedelta(seconds=130)
    if quit_forms == "backed_out":
        events.append(step("forms", "backed_out", seconds=3, created_at=end, **kw))
    elif quit_forms:
        events.append(step("forms", "abandoned", seconds=108, reason=quit_forms, created_at=end, **kw))
    else:
        events.append(step("forms", "completed", seconds=108, created_at=end, **kw))
    return events


def test_the_funnel_counts_each_step_by_action(server, site, kiosk):
    events = (journey("en", "65+", MAY_1) + journey("es", "65+", MAY_1, quit_forms="timeout")
              + journey("es", "18-39", MAY_2_LATE, quit_forms="backed_out"))
    results = kiosk.push(*events)
    assert {r["status"] for r in results} == {"accepted"}
    assert kiosk.push(*events) == [{**r, "status": "duplicate"} for r in results]  # counted once
    assert funnel(server, site.id) == [
        FunnelStep("identify", None, started=3, completed=3, backed_out=0, abandoned=0),
        FunnelStep("forms", None, started=3, completed=1, backed_out=1, abandoned=1),
    ]
    assert funnel(server, site.id, by="language") == [
        FunnelStep("identify", "en", 1, 1, 0, 0), FunnelStep("forms", "en", 1, 1, 0, 0),
        FunnelStep("identify", "es", 2, 2, 0, 0), FunnelStep("forms", "es", 2, 0, 1, 1),
    ]
    by_age = {(s.step, s.group): s for s in funnel(server, site.id, by="age_band")}
    assert by_age[("forms", "65+")].abandoned == 1 and by_age[("forms", "18-39")].backed_out == 1
    by_visit = funnel(server, site.id, by="visit_type")
    assert {s.group for s in by_visit} == {"follow_up"}


def test_days_are_the_sites_local_days_and_the_range_is_inclusive(server, site, kiosk):
    kiosk.push(*journey("en", None, MAY_1), *journey("en", None, MAY_2_LATE))
    assert funnel(server, site.id, date(2025, 5, 1), date(2025, 5, 1))[0].started == 1
    assert funnel(server, site.id, date(2025, 5, 2), date(2025, 5, 2))[0].started == 1  # not May 3rd
    assert funnel(server, site.id, date(2025, 5, 3), date(2025, 5, 9)) == []
    rows = server.rows(select(StepEvent.day, StepEvent.session_id).order_by(StepEvent.created_at))
    assert rows[-1][0] == date(2025, 5, 2) and rows[-1][1] is not None


def test_other_sites_are_not_counted(server, site, kiosk):
    other_site = server.site("Southside Clinic")
    server.kiosk(other_site.id, "kiosk-s").push(*journey("en", None, MAY_1))
    kiosk.push(*journey("es", None, MAY_1))
    assert [s.started for s in funnel(server, site.id)] == [1, 1]
    assert [s.group for s in funnel(server, site.id, by="language")] == ["es", "es"]


def test_an_unknown_grouping_is_an_error(server, site):
    with pytest.raises(ValueError, match="by must be one of"):
        funnel(server, site.id, by="patient_id")


@pytest.mark.parametrize("payload_change, words", [
    ({"patient_id": str(uuid.uuid4())}, "patient_id"),  # no PHI, not even an id
    ({"action": "skipped"}, "action"),
    ({"seconds": -1}, "seconds"),
    ({"seconds": "4"}, "seconds"),
    ({"step": "x" * 65}, "step"),
    ({"age_band": "30-40"}, "age_band"),
    ({"reason": "timeout"}, "only for action 'abandoned'"),  # reason with action started
    ({"action": "abandoned", "reason": "Bored now!"}, "reason"),
    ({"language": "English!"}, "language"),
])
def test_bad_step_events_are_refused(server, site, kiosk, payload_change, words):
    e = step("forms", "started", created_at=MAY_1)
    e["payload"].update(payload_change)
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and words in result["reason"], result
    assert server.scalar(select(func.count()).select_from(StepEvent)) == 0


@pytest.mark.parametrize("field", ["step", "action", "seconds", "language", "age_band", "visit_type", "reason"])
def test_every_field_is_required_null_or_not(server, kiosk, field):
    e = step("forms", "started", created_at=MAY_1)
    del e["payload"][field]
    result = kiosk.push(e)[0]
    assert result["status"] == "rejected" and field in result["reason"]


def test_an_abandoned_step_may_carry_no_reason_or_a_new_one(server, site, kiosk):
    assert kiosk.push(step("forms", "abandoned", created_at=MAY_1),
                      step("forms", "abandoned", reason="power_cut", created_at=MAY_1)) == [
        {"id": ANY, "status": "accepted", "reason": None}] * 2
    assert funnel(server, site.id)[0].abandoned == 2
    assert {r for (r,) in server.rows(select(StepEvent.reason))} == {None, "power_cut"}
