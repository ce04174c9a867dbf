"""The privacy officer's accounting: `python -m practice_server access-report PATIENT_ID`
lists who saw or acted on one patient, from the rows the dashboard audits per patient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from practice_server import audit
from practice_server.__main__ import main
from practice_server.dashboard import accounts
from practice_server.dashboard.models import StaffSession
from practice_server.schedule_import import our_id

from server_helpers import add_schedule, arrived, site_today

PASSWORD = "maple kettle orbit lantern"


def sign_in(server, username: str, role: str) -> str:
    with server.sessions.begin() as db:
        accounts.create(db, username, username.title(), role, PASSWORD, datetime.now(UTC))
    r = server.client.post("/staff/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    return server.scalar(select(StaffSession.csrf_token).order_by(StaffSession.created_at.desc()))


def test_the_report_lists_each_view_and_action_on_one_patient_only(server, site, kiosk, capsys):
    with server.sessions.begin() as db:
        maria, other = add_schedule(db, site.id, [site_today()], per_day=2, tag="Acc")
    kiosk.push(arrived(maria))
    csrf = sign_in(server, "desk1", "front_desk")
    assert server.client.get(f"/staff/arrivals?site={site.id}").status_code == 200
    r = server.client.post(f"/staff/arrivals/{maria['id']}/roomed", data={"csrf": csrf, "site": site.id},
                           follow_redirects=False)
    assert r.status_code == 303

    assert main(["access-report", maria["patient_id"], "--database", server.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Accesses to patient {maria['patient_id']} since ") and out[0].endswith(": 2")
    assert "desk1" in out[1] and "front_desk" in out[1] and "staff.viewed_patient" in out[1]
    assert "arrivals" in out[1] and "Northside Clinic" in out[1]
    assert "appointment.roomed" in out[2] and maria["id"] in out[2]
    assert "ZyxAcc" not in "\n".join(out)  # ids and accounts, not the patient's name

    # The other patient was only seen on the board: once, then once more.
    assert server.client.get(f"/staff/arrivals?site={site.id}").status_code == 200
    assert main(["access-report", other["patient_id"].upper(), "--database", server.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": 2") and all("staff.viewed_patient" in line for line in out[1:])  # any case


def test_the_ehrs_own_patient_id_finds_the_same_rows_and_days_limit_them(server, site, capsys):
    now = datetime.now(UTC)
    with server.sessions.begin() as db:
        staff = accounts.create(db, "drwho", "Dr Who", "clinician", PASSWORD, now)
        audit.record_patients(db, "staff.viewed_patient", now - timedelta(days=40), [our_id("patient", "MRN-77")],
                              code="alerts", site_id=site.id, staff_user=staff.id)
        audit.record_patients(db, "staff.viewed_patient", now, [our_id("patient", "MRN-77")],
                              code="arrivals", site_id=site.id, staff_user=staff.id)
    assert main(["access-report", "MRN-77", "--database", server.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": 2") and "alerts" in out[1] and "arrivals" in out[2] and "clinician" in out[2]
    assert main(["access-report", "MRN-77", "--days", "30", "--database", server.url]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(": 1")
    assert main(["access-report", "MRN-77", "--days", "0", "--database", server.url]) == 2
    assert "--days must be 1 or more" in capsys.readouterr().err
