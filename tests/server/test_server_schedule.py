"""GET /schedule: cursor paging, window, overlap, late changes, site scoping, bad cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from practice_server import schedule
from practice_server.models import Appointment
from server_helpers import add_schedule, arrived, backdate_changes, site_today


@pytest.fixture
def week(server, site):
    """Appointments from 3 days ago to 5 days ahead (3 a day), all changed an hour ago."""
    today = site_today()
    with server.sessions.begin() as db:
        rows = add_schedule(db, site.id, [today + timedelta(days=d) for d in range(-3, 6)], per_day=3)
        backdate_changes(db)
    return rows


def in_window(rows, days_ahead: int = 3) -> dict[str, dict]:
    today = site_today()
    return {a["id"]: a for a in rows if today - timedelta(days=1) <= a["day"] <= today + timedelta(days=days_ahead)}


def test_paging_returns_each_row_once_with_its_patient_and_clinician_on_the_page(server, kiosk, week):
    expected = in_window(week)
    cursor, seen, pages = "", [], 0
    while True:
        page = kiosk.get(f"/api/v1/schedule?cursor={cursor}&limit=4").json()
        pages += 1
        patients = {p["id"] for p in page["patients"]}
        clinicians = {c["id"] for c in page["clinicians"]}
        for a in page["appointments"]:
            assert a["patient_id"] in patients and a["clinician_id"] in clinicians
        seen += [a["id"] for a in page["appointments"]]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert sorted(seen) == sorted(expected)  # each once, nothing outside the window
    assert pages == -(-len(expected) // 4) or pages == -(-len(expected) // 4) + 1


def test_rows_have_the_contract_shape(server, kiosk, week):
    seen, _, _ = kiosk.pull_all()
    a = next(iter(seen["appointments"].values()))
    original = next(x for x in week if x["id"] == a["id"])
    assert a == {"id": original["id"], "patient_id": original["patient_id"],
                 "clinician_id": original["clinician_id"], "start": original["start"].isoformat(),
                 "visit_type": "follow_up", "status": "booked", "copay_cents": None}
    p = seen["patients"][a["patient_id"]]
    assert set(p) == {"id", "first_name", "last_name", "birth_date", "phone", "email", "street", "city",
                      "state", "postal_code", "history", "portal_account"}
    assert p["history"] == {}
    assert p["birth_date"].count("-") == 2


def test_second_pull_with_the_cursor_returns_nothing_new(server, kiosk, week):
    _, cursor, _ = kiosk.pull_all()
    seen, cursor2, _ = kiosk.pull_all(cursor)
    assert seen["appointments"] == {}
    seen, _, _ = kiosk.pull_all(cursor2)
    assert seen["appointments"] == {}


def test_a_change_after_the_cursor_comes_back(server, site, kiosk, week):
    _, cursor, _ = kiosk.pull_all()
    target = next(iter(in_window(week).values()))
    other = server.kiosk(site.id, "kiosk-2")
    assert other.push(arrived(target))[0]["status"] == "accepted"
    seen, cursor, _ = kiosk.pull_all(cursor)
    assert list(seen["appointments"]) == [target["id"]]
    assert seen["appointments"][target["id"]]["status"] == "arrived"
    assert list(seen["patients"]) == [target["patient_id"]]
    # Changed within the overlap: it may be sent again, and nothing else is.
    seen, _, _ = kiosk.pull_all(cursor)
    assert set(seen["appointments"]) <= {target["id"]}


def test_a_change_during_a_paged_pull_is_not_lost(server, site, kiosk, week):
    first = kiosk.get("/api/v1/schedule?limit=2").json()
    assert first["more"]
    sent = {a["id"] for a in first["appointments"]}
    target = next(a for a in in_window(week).values() if a["id"] in sent)
    with server.sessions.begin() as db:  # a row already sent changes mid-pull
        schedule.touch(db, Appointment.id == target["id"], {"status": "seen"})
    seen, cursor, _ = kiosk.pull_all(first["cursor"], limit=2)
    seen2, _, _ = kiosk.pull_all(cursor)
    assert {**seen["appointments"], **seen2["appointments"]}[target["id"]]["status"] == "seen"


def test_a_late_commit_below_the_cursor_is_re_sent_by_the_overlap(server, site, kiosk, week):
    """PostgreSQL can make a lower change number visible after a higher one was read."""
    _, cursor, _ = kiosk.pull_all()
    target = next(iter(in_window(week).values()))
    with server.sessions.begin() as db:  # changed just now, but with an old change number
        db.execute(Appointment.__table__.update().where(Appointment.id == target["id"])
                   .values(status="seen", changed_at=datetime.now(UTC)))
    seen, _, _ = kiosk.pull_all(cursor)
    assert seen["appointments"][target["id"]]["status"] == "seen"


def test_days_coming_into_the_window_are_sent(server, kiosk, week):
    _, cursor, _ = kiosk.pull_all()
    server.clock.pinned = datetime.now(UTC) + timedelta(days=1)
    seen, _, _ = kiosk.pull_all(cursor)
    new_day = site_today() + timedelta(days=4)
    assert {a["id"] for a in week if a["day"] == new_day} == set(seen["appointments"])
    assert seen["appointments"]


def test_days_ahead_follows_the_site_config(server, site, kiosk, week):
    from practice_server.bundles import DEFAULT_CONFIG, store_config

    with server.sessions.begin() as db:
        store_config(db, site.id, {**DEFAULT_CONFIG, "days_ahead": 1}, datetime.now(UTC))
    seen, _, _ = kiosk.pull_all()
    assert set(seen["appointments"]) == set(in_window(week, days_ahead=1))


def test_site_scoping(server, kiosk, week):
    other_site = server.site("Southside Clinic")
    with server.sessions.begin() as db:
        theirs = add_schedule(db, other_site.id, [site_today()], per_day=2, tag="S")
    stranger = server.kiosk(other_site.id, "south-1")
    seen, _, _ = stranger.pull_all()
    assert set(seen["appointments"]) == {a["id"] for a in theirs}
    mine, _, _ = kiosk.pull_all()
    assert not set(mine["appointments"]) & {a["id"] for a in theirs}
    assert not set(mine["patients"]) & {a["patient_id"] for a in theirs}


def _forge(fields: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["%25%25%25", "bm90IGpzb24", "e30", _forge({"v": 2, "site": "x", "since": 0}),
                                    _forge({"v": 1, "site": "x", "since": -1}), "A" * 2001])
def test_bad_cursor_is_400(server, kiosk, cursor):
    r = kiosk.get(f"/api/v1/schedule?cursor={cursor}")
    assert r.status_code in (400, 422), r.text
    if r.status_code == 400:
        assert r.json()["detail"]["code"] == "bad_cursor"


def test_another_sites_cursor_is_400(server, kiosk, week):
    other_site = server.site("Southside Clinic")
    stranger = server.kiosk(other_site.id, "south-1")
    _, theirs, _ = stranger.pull_all()
    r = kiosk.get(f"/api/v1/schedule?cursor={theirs}")
    assert (r.status_code, r.json()["detail"]["code"]) == (400, "bad_cursor")


@pytest.mark.parametrize("limit", [0, 2001, -5])
def test_limit_out_of_range_is_422(server, kiosk, limit):
    assert kiosk.get(f"/api/v1/schedule?limit={limit}").status_code == 422


def test_empty_site_gives_an_empty_page_and_a_cursor(server, kiosk):
    page = kiosk.get("/api/v1/schedule").json()
    assert page["appointments"] == [] and page["more"] is False and page["cursor"]
    assert server.scalar(select(Appointment.id)) is None
