"""Schedule import from the EHR: CSV and FHIR Bundles (file or endpoint with paging); bad
rows reported line by line, good rows kept; re-runs and interrupted runs converge; kiosks
pull what was imported."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from practice_server import schedule_import
from practice_server.__main__ import main
from practice_server.models import Appointment, Patient, Site
from server_helpers import backdate_changes, site_today

HEADER = "appointment_id,start,visit_type,status,patient_id,first_name,last_name,birth_date,clinician_id,clinician_name,phone,copay"


def csv_text(day) -> str:
    return "\n".join([
        HEADER,
        f"A-100,{day} 09:00,Follow up,booked,P-1,Ana,Quintero,1961-05-17,D-7,Dr. Ruiz,(555) 301-2233,25.00",
        f"A-101,{day} 09:20,new_patient,,P-2,Ben,Osei,1990-02-03,D-7,Dr. Ruiz,,",
        f"A-102,{day} 9am,follow_up,booked,P-3,Cy,Lam,1980-01-01,D-7,Dr. Ruiz,,",  # bad time
        f"A-103,{day} 10:00,follow_up,booked,P-4,Di,Nkemelu,17/05/1961,D-7,Dr. Ruiz,,",  # bad birth date
        f"A-104,{day} 10:20,follow_up,maybe,P-5,Ed,Park,1970-07-07,D-7,Dr. Ruiz,,",  # bad status
        f"A-105,{day} 10:40,follow_up,booked,,Fay,Gold,1975-05-05,D-7,Dr. Ruiz,,",  # no patient id
    ]) + "\n"


def run(server, site, rows):
    with server.sessions.begin() as db:
        return schedule_import.store(db, db.get(Site, site.id), rows, datetime.now(UTC))


def test_bad_csv_rows_are_named_by_line_and_good_ones_kept(server, site, kiosk):
    report = run(server, site, schedule_import.rows_from_csv(csv_text(site_today())))
    assert (report.added, len(report.errors)) == (2, 4)
    assert report.errors[0].startswith("line 4: start '") and "YYYY-MM-DD HH:MM" in report.errors[0]
    assert report.errors[1].startswith("line 5: birth_date") and report.errors[2].startswith("line 6: status")
    assert report.errors[3] == "line 7: patient_id is empty"
    seen, _, _ = kiosk.pull_all()
    mine = {a["start"][11:16]: a for a in seen["appointments"].values()}
    assert set(mine) == {"09:00", "09:20"}
    assert mine["09:00"]["copay_cents"] == 2500 and mine["09:00"]["visit_type"] == "follow_up"
    assert {p["last_name"] for p in seen["patients"].values()} == {"Quintero", "Osei"}


def test_running_again_changes_nothing_and_changes_flow_to_kiosks(server, site, kiosk):
    day = site_today()
    run(server, site, schedule_import.rows_from_csv(csv_text(day)))
    with server.sessions.begin() as db:
        backdate_changes(db)  # so the pull's re-send of recent changes is empty
    _, cursor, _ = kiosk.pull_all()
    again = run(server, site, schedule_import.rows_from_csv(csv_text(day)))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert kiosk.pull_all(cursor)[0]["appointments"] == {}  # nothing new for the kiosks
    moved = csv_text(day).replace(f"A-100,{day} 09:00,Follow up,booked", f"A-100,{day} 11:00,Follow up,cancelled")
    report = run(server, site, schedule_import.rows_from_csv(moved))
    assert report.updated == 1
    [changed] = kiosk.pull_all(cursor)[0]["appointments"].values()
    assert changed["status"] == "cancelled" and changed["start"].endswith("11:00:00")


def test_an_interrupted_import_leaves_nothing_half_done(server, site, monkeypatch):
    real = schedule_import._upsert
    calls = []

    def crash_on_second(db, site_row, row, now):
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(db, site_row, row, now)

    monkeypatch.setattr(schedule_import, "_upsert", crash_on_second)
    with pytest.raises(RuntimeError):
        run(server, site, schedule_import.rows_from_csv(csv_text(site_today())))
    assert server.scalar(select(func.count()).select_from(Appointment)) == 0
    monkeypatch.setattr(schedule_import, "_upsert", real)
    assert run(server, site, schedule_import.rows_from_csv(csv_text(site_today()))).added == 2


def bundle(day, entries=None, next_url=None) -> dict:
    patient = {"resourceType": "Patient", "id": "pat-9", "name": [{"family": "Haddad", "given": ["Lina"]}],
               "birthDate": "1958-09-30", "telecom": [{"system": "email", "value": "lina@example.org"}],
               "communication": [{"language": {"coding": [{"code": "ar"}]}}]}
    doctor = {"resourceType": "Practitioner", "id": "doc-2", "name": [{"prefix": ["Dr."], "family": "Weiss"}]}

    def appointment(i, start, **changes):
        return {"resourceType": "Appointment", "id": f"appt-{i}", "status": "booked", "start": start,
                "appointmentType": {"coding": [{"code": "annual_physical"}]},
                "participant": [{"actor": {"reference": "Patient/pat-9"}}, {"actor": {"reference": "Practitioner/doc-2"}}],
                **changes}

    items = entries if entries is not None else [
        patient, doctor,
        appointment(1, f"{day}T14:30:00-06:00"),
        appointment(2, f"{day}T15:00:00"),  # no offset
        appointment(3, f"{day}T15:30:00-06:00", participant=[{"actor": {"reference": "Patient/pat-404"}}]),
        appointment(4, f"{day}T16:00:00-06:00", status="cancelled", contained=[
            {"resourceType": "Practitioner", "id": "c1", "name": [{"text": "Nurse Okoro"}]}],
            participant=[{"actor": {"reference": "Patient/pat-9"}}, {"actor": {"reference": "#c1"}}]),
    ]
    out = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in items]}
    if next_url:
        out["link"] = [{"relation": "next", "url": next_url}]
    return out


def test_a_fhir_bundle_keeps_good_entries_and_names_bad_ones(server, site):
    day = site_today()
    report = run(server, site, schedule_import.rows_from_bundle(bundle(day), "America/Chicago"))
    assert (report.added, len(report.errors)) == (2, 2)
    assert report.errors[0].startswith("entry 4 (Appointment/appt-2): start needs a time zone")
    assert report.errors[1].startswith("entry 5 (Appointment/appt-3): Patient/pat-404 is not in the bundle")
    rows = server.rows(select(Appointment.start, Appointment.status, Appointment.visit_type).order_by(Appointment.start))
    assert [(r.start.strftime("%H:%M"), r.status) for r in rows] == [("14:30", "booked"), ("16:00", "cancelled")]
    assert server.scalar(select(Patient.language)) == "ar"


def test_an_ehr_endpoint_is_followed_page_by_page(server, site, tmp_path, capsys):
    day = site_today()
    pages = {}

    class Ehr(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps(pages[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http = HTTPServer(("127.0.0.1", 0), Ehr)
    base = f"http://127.0.0.1:{http.server_port}"
    first = bundle(day, next_url=f"{base}/Appointment?page=2")
    first["entry"] = first["entry"][:3]
    pages["/Appointment?date=today"] = first
    pages["/Appointment?page=2"] = bundle(day, entries=[first["entry"][0]["resource"], first["entry"][1]["resource"],
                                                        {**first["entry"][2]["resource"], "id": "appt-7",
                                                         "start": f"{day}T17:00:00-06:00"}])
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        assert main(["import-schedule", f"{base}/Appointment?date=today", "--site", site.name,
                     "--database", server.url]) == 0
    finally:
        http.shutdown()
    assert "2 appointments kept (2 new" in capsys.readouterr().out


def test_the_command_reports_refused_rows_and_exits_1(server, site, tmp_path, capsys):
    path = tmp_path / "today.csv"
    path.write_text(csv_text(site_today()), encoding="utf-8")
    assert main(["import-schedule", str(path), "--site", site.name, "--database", server.url]) == 1
    out = capsys.readouterr().out
    assert "2 appointments kept (2 new, 0 changed, 0 unchanged), 4 rows refused" in out
    assert "  refused line 7: patient_id is empty" in out
    assert main(["import-schedule", str(path), "--site", "Nowhere", "--database", server.url]) == 2
    assert "no site named Nowhere" in capsys.readouterr().err
    path.write_text("name,when\nx,y\n", encoding="utf-8")
    assert main(["import-schedule", str(path), "--site", site.name, "--database", server.url]) == 2
    assert "the CSV header lacks appointment_id" in capsys.readouterr().err
