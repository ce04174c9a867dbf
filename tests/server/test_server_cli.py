"""python -m practice_server: plain-words refusals, init-db, the demo practice, health, logs."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from kiosk.store.demo_clinic import build_demo_schedule
from practice_server import __main__ as cli
from practice_server import admin, schedule
from practice_server.app import create_app
from practice_server.db import open_database
from practice_server.demo_practice import FAMILY, load_demo_practice
from practice_server.models import Appointment, Site
from practice_server.settings import ServerSettings, SettingsError, default_database_path
from server_helpers import add_schedule, event, raw_public_key, site_today


@pytest.fixture(autouse=True)
def _restore_logging():
    """cli.main configures process-wide logging; leave it as the other tests expect."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    access = logging.getLogger("uvicorn.access").disabled
    alembic_level = logging.getLogger("alembic").level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = access
    logging.getLogger("alembic").setLevel(alembic_level)


@pytest.mark.parametrize("argv, words", [
    (["serve", "--host", "0.0.0.0"], "without TLS"),
    (["serve", "--tls-cert", "/nope.pem", "--tls-key", "/nope.key", "--ca-cert", "/nope.pem"], "no such file"),
    (["serve", "--tls-cert", "/nope.pem"], "go together"),
    (["serve", "--port", "0"], "--port"),
    (["init-db", "--database", "nonsense"], "not a database URL"),
    (["init-db", "--database", "postgresql://u:secret@127.0.0.1:1/x"], "cannot connect"),
])
def test_refusals_are_plain_words_without_traceback(argv, words, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and "secret" not in err


def test_tls_needs_the_ca_for_kiosks(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(SettingsError, match="--ca-cert"):
        ServerSettings("sqlite:///x.db", tls_cert=str(cert), tls_key=str(cert)).check()


def test_init_db_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'p.db'}"
    assert cli.main(["init-db", "--database", url]) == 0
    engine, sessions = open_database(url)
    with sessions() as db:
        assert admin.list_sites(db) == []
    engine.dispose()


def test_default_database_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_database_path() == tmp_path / "clinic-practice" / "practice.db"


def test_demo_practice_shares_the_kiosk_demo_and_loads_once(tmp_path):
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    now = datetime.now(UTC)
    assert load_demo_practice(sessions, now) is True
    assert load_demo_practice(sessions, now) is False
    today = schedule.local_today(FAMILY[1], now)
    _, _, kiosk_appointments = build_demo_schedule(today)
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Site)) == 2
        family = admin.find_site(db, FAMILY[0])
        ids = set(db.scalars(select(Appointment.id).where(Appointment.site_id == family.id)))
        others = db.scalar(select(func.count()).select_from(Appointment).where(Appointment.site_id != family.id))
    assert ids == {a.id for a in kiosk_appointments}
    assert others > 0
    engine.dispose()


def test_demo_week_rolls_forward_when_it_has_run_out(tmp_path):
    """A demo server started again next week still has patients today (same ids, so
    kiosks move their rows), and a real practice's schedule is never touched."""
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    now = datetime.now(UTC)
    assert load_demo_practice(sessions, now) is True

    def schedule_rows():
        with sessions() as db:
            return {a.id: (a.day, a.status) for a in db.scalars(select(Appointment))}

    before = schedule_rows()
    assert load_demo_practice(sessions, now + timedelta(days=3)) is False  # still covers that day
    later = now + timedelta(days=9)
    assert load_demo_practice(sessions, later) is True
    after = schedule_rows()
    assert after.keys() == before.keys()
    today = schedule.local_today(FAMILY[1], later)
    assert min(day for day, _ in after.values()) == today
    assert {status for _, status in after.values()} == {"booked"}
    assert load_demo_practice(sessions, later) is False
    engine.dispose()

    real_engine, real_sessions = open_database(f"sqlite:///{tmp_path / 'real.db'}")
    with real_sessions.begin() as db:
        admin.create_site(db, "Northside Clinic", "America/Chicago")
    assert load_demo_practice(real_sessions, later) is False
    real_engine.dispose()


def test_health(server):
    r = server.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["database"] == "ok"


def test_health_says_503_when_the_database_is_gone(server):
    def down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    real = server.ctx
    server.app.state.context = dataclasses.replace(real, read=down)
    try:
        r = server.client.get("/api/v1/health")
    finally:
        server.app.state.context = real
    assert r.status_code == 503 and r.json()["database"] == "unavailable"


def test_openapi_document_is_served(server):
    doc = server.client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/enrol", "/api/v1/schedule", "/api/v1/events", "/api/v1/heartbeat",
            "/api/v1/bundles/{kind}", "/api/v1/health"} <= set(doc["paths"])
    assert "EventBatch" in doc["components"]["schemas"]


def test_logs_hold_no_patient_data(server, site, kiosk, caplog):
    with server.sessions.begin() as db:
        appts = add_schedule(db, site.id, [site_today()], per_day=1, tag="Qwertyuiop")
    caplog.set_level(logging.DEBUG)
    kiosk.push(event("patient.contact_changed", {"patient_id": appts[0]["patient_id"],
                                                 "changes": {"street": "77 Sunnyvale Boulevard"}}))
    kiosk.push(event("visit.ended", {"note": "Zanzibar"}))
    kiosk.pull_all()
    kiosk.post("/api/v1/events", body=b'{"events": [{"id": "Zanzibar"}]}')
    text = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "events.pushed" in text
    for phi in ("Qwertyuiop", "Sunnyvale", "Zanzibar", "1970-01-01"):
        assert phi not in text


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "practice.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_tls_settings_are_checked_before_listening(tmp_path):
    cert, key = _self_signed(tmp_path)
    ServerSettings("sqlite:///x.db", host="0.0.0.0", tls_cert=str(cert), tls_key=str(key),
                   ca_cert_file=str(cert)).check()
    (tmp_path / "other").mkdir()
    other_cert, _ = _self_signed(tmp_path / "other")
    with pytest.raises(SettingsError, match="is the key the certificate's"):
        ServerSettings("sqlite:///x.db", tls_cert=str(other_cert), tls_key=str(key), ca_cert_file=str(cert)).check()
    with pytest.raises(SettingsError, match="not a PEM certificate"):
        ServerSettings("sqlite:///x.db", tls_cert=str(cert), tls_key=str(key), ca_cert_file=str(key)).check()


def test_enrolment_hands_out_the_practice_ca(tmp_path, database_url):
    cert, _ = _self_signed(tmp_path)
    app = create_app(ServerSettings(database_url, ca_cert_file=str(cert)))
    sessions = app.state.context.write
    with sessions.begin() as db:
        site = admin.create_site(db, "TLS Clinic", "UTC")
        token = admin.issue_enrolment_token(db, site.id, timedelta(hours=1), datetime.now(UTC)).token
    with TestClient(app) as client:
        r = client.post("/api/v1/enrol", json={"token": token, "hostname": "h",
                                               "public_key": raw_public_key(Ed25519PrivateKey.generate())})
    assert r.status_code == 201 and r.json()["ca_certificate"] == cert.read_text()
    app.state.context.engine.dispose()
