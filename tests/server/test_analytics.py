"""Analytics on known synthetic visits: each table's numbers, the page for the roles that
may see it, the charts as SVG without scripts, and CSV exports a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from intake_samples import step
from practice_server import analytics
from practice_server.dashboard import accounts
from server_helpers import add_schedule, arrived, event, site_today

PASSWORD = "maple kettle orbit lantern"
HTML = {"Accept": "text/html"}


def visit(language: str, minutes: list[float], done: bool, age_band="65+") -> list[dict]:
    """One kiosk visit's step events: each stage completed after `minutes`, then done."""
    session = str(uuid.uuid4())
    stages = ["last_name", "birth_date", "confirm", "review_contact"][:len(minutes)]
    events = []
    for stage, spent in zip(stages, minutes, strict=True):
        events += [step(stage, "started", seconds=0.0, language=language, age_band=age_band, session_id=session),
                   step(stage, "completed", seconds=spent * 60, language=language, age_band=age_band,
                        session_id=session)]
    if done:
        events.append(step("done", "started", seconds=0.0, language=language, age_band=age_band, session_id=session))
    else:  # left in the next stage when the screen timed out
        left = ["last_name", "birth_date", "confirm", "review_contact"][len(minutes)]
        events += [step(left, "started", seconds=0.0, language=language, age_band=age_band, session_id=session),
                   step(left, "abandoned", seconds=30.0, language=language, age_band=age_band, reason="timeout",
                        session_id=session)]
    return events


@pytest.fixture
def clinic_day(server, site, kiosk):
    with server.sessions.begin() as db:
        appointments = add_schedule(db, site.id, [site_today()], per_day=4, tag="An")
    kiosk.push(arrived(appointments[0]), arrived(appointments[1]))
    kiosk.push(*visit("en", [0.5, 0.5, 1.0], True), *visit("en", [1.0, 1.0, 2.0], True),
               *visit("es", [2.0, 2.0, 2.0], True), *visit("es", [1.0], False))
    kiosk.push(event("payment.recorded", {
        "appointment_id": appointments[0]["id"], "idempotency_key": uuid.uuid4().hex, "status": "approved",
        "amount_cents": 2500, "at": datetime.now(UTC).isoformat()}))
    for rating in (3, 3, 1):
        kiosk.push(event("visit.rated", {"rating": rating, "language": "en", "age_band": "65+",
                                         "visit_type": "follow_up", "rated_at": datetime.now(UTC).isoformat()}))
    return appointments


def table(server, site, name):
    with server.sessions() as db:
        return analytics.TABLES[name](db, site.id, site_today(), site_today())


def test_each_table_counts_what_happened(server, site, clinic_day):
    today = site_today().isoformat()
    assert table(server, site, "kiosk_share").rows == [(today, 2, 4, 50.0)]
    assert table(server, site, "checkin_time").rows == [(today, 4.0, 3)]  # 2, 4 and 6 minutes
    by_language = {r[0]: r[1:] for r in table(server, site, "completion_by_language").rows}
    assert by_language == {"en": (2, 2, 100.0), "es": (2, 1, 50.0)}
    funnel = {r[0]: r[1:] for r in table(server, site, "funnel").rows}
    assert funnel["birth_date"] == (4, 3, 0, 1) and funnel["last_name"] == (4, 4, 0, 0)
    assert table(server, site, "copay_collected").rows == [(today, 25.0, 1)]
    [week] = table(server, site, "satisfaction").rows
    assert week[1:] == (1, 0, 2, 2.33)


def sign_in(server, role):
    with server.sessions.begin() as db:
        accounts.create(db, role.replace("_", ""), role, role, PASSWORD, datetime.now(UTC))
    server.client.cookies.clear()
    server.client.post("/staff/login", data={"username": role.replace("_", ""), "password": PASSWORD},
                       follow_redirects=False)


def test_the_page_charts_and_exports_for_clinicians_not_the_front_desk(server, site, clinic_day):
    sign_in(server, "front_desk")
    assert server.client.get("/staff/analytics", headers=HTML).status_code == 403
    sign_in(server, "clinician")
    page = server.client.get(f"/staff/analytics?site={site.id}", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('<section class="card chart"') == len(analytics.TABLES)
    chart = server.client.get(f"/staff/analytics/kiosk_share.svg?site={site.id}")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<script" not in chart.text
    assert not re.search(r"""(?:href|src)\s*=\s*["'](?:https?:)?//""", chart.text)  # nothing loaded from elsewhere
    exported = server.client.get(f"/staff/analytics/completion_by_language.csv?site={site.id}")
    assert exported.headers["content-disposition"].startswith('attachment; filename="completion_by_language-')
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["language", "started", "completed", "percent"] and ["es", "2", "1", "50.0"] in rows
    assert server.client.get(f"/staff/analytics?site={site.id}&start=2026-13-01", headers=HTML).status_code == 400


def test_csv_cells_that_look_like_formulas_are_defused():
    from practice_server.dashboard.analytics import _cell

    assert _cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert _cell("-2+3") == "'-2+3" and _cell("Dr. Ruiz") == "Dr. Ruiz" and _cell(None) == ""
