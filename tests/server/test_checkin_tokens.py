"""The practice's check-in keys (practice_keys.py) as kiosks receive them (enrolment,
config bundle), key rotation, the demo practice's key, and what the schedule pull adds
for check-in (copay_cents, portal_account)."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from practice_server import admin, practice_keys, schedule
from practice_server.demo_practice import COPAY_CENTS, FAMILY, load_demo_practice
from practice_server.models import Appointment, CheckinKey, Patient
from practice_server.practice_keys import KeyFileError
from server_helpers import add_schedule, raw_public_key, site_today
from sync_protocol.checkin_token import (
    DEMO_KEY_ID,
    DEMO_SITE_ID,
    checkin_keys_from,
    demo_checkin_token,
    demo_public_keys,
    encode_public_key,
    expiry_for_day,
    key_id_for,
    make_checkin_token,
    verify_checkin_token,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def make_key(server, path, now=NOW) -> practice_keys.SigningKey:
    with server.sessions.begin() as db:
        return practice_keys.load_or_create(db, path, now)


def published(server, now=NOW) -> dict[str, str]:
    with server.sessions() as db:
        return practice_keys.published_keys(db, now)


def sign(key: practice_keys.SigningKey, server, expires_at, site_id="s", appointment_id="a") -> str:
    """A code signed the way reminders.py does it (note_signed first)."""
    with server.sessions.begin() as db:
        practice_keys.note_signed(db, key.key_id, expires_at)
    return make_checkin_token(key.private_key, appointment_id=appointment_id, site_id=site_id,
                              expires_at=expires_at, key_id=key.key_id)


def enrol_answer(server, site_id: str) -> dict:
    with server.sessions.begin() as db:
        token = admin.issue_enrolment_token(db, site_id, timedelta(hours=1), datetime.now(UTC)).token
    r = server.client.post("/api/v1/enrol", json={"token": token, "hostname": "k",
                                                  "public_key": raw_public_key(Ed25519PrivateKey.generate())})
    assert r.status_code == 201, r.text
    return r.json()


# -- the key file -------------------------------------------------------------------------------


def test_key_is_made_once_0600_and_registered(server, tmp_path):
    path = tmp_path / "keys" / "checkin.key"
    key = make_key(server, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.key_id == key_id_for(key.private_key.public_key())
    assert published(server) == {key.key_id: encode_public_key(key.private_key.public_key())}
    again = make_key(server, path, NOW + timedelta(days=3))
    assert again.key_id == key.key_id
    with server.sessions() as db:
        assert db.get(CheckinKey, key.key_id).created_at == NOW


def test_a_key_file_others_can_read_is_refused(server, tmp_path):
    path = tmp_path / "checkin.key"
    make_key(server, path)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        make_key(server, path)


@pytest.mark.parametrize("content, words", [
    (b"not a key", "not an unencrypted PEM"),
    (ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), "not an Ed25519"),
])
def test_a_file_that_is_no_ed25519_key_is_refused(server, tmp_path, content, words):
    path = tmp_path / "checkin.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=words):
        make_key(server, path)
    assert published(server) == {}


def test_the_default_key_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(practice_keys.KEY_FILE_ENV, raising=False)
    assert practice_keys.key_path(None) == tmp_path / "data" / "clinic-practice" / "checkin-signing.key"
    monkeypatch.setenv(practice_keys.KEY_FILE_ENV, str(tmp_path / "env.key"))
    assert practice_keys.key_path(None) == tmp_path / "env.key"
    assert practice_keys.key_path(tmp_path / "flag.key") == tmp_path / "flag.key"


# -- what kiosks receive ------------------------------------------------------------------------


def test_enrolment_answer_and_config_carry_the_keys(server, site, tmp_path):
    assert enrol_answer(server, site.id)["checkin_keys"] == {}  # no key made yet
    key = make_key(server, tmp_path / "k.key", datetime.now(UTC))
    answer = enrol_answer(server, site.id)
    assert answer["checkin_keys"] == answer["config"]["checkin_keys"] == published(server)
    code = sign(key, server, datetime.now(UTC) + timedelta(hours=3), site_id=site.id)
    assert verify_checkin_token(code, checkin_keys_from(answer), datetime.now(UTC), site_id=site.id)


def test_a_new_key_reaches_enrolled_kiosks_with_the_config_bundle(server, site, kiosk, tmp_path):
    first = kiosk.get("/api/v1/bundles/config")
    assert first.json()["items"]["checkin_keys"] == {}
    key = make_key(server, tmp_path / "k.key", datetime.now(UTC))
    r = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 200
    assert checkin_keys_from(r.json()["items"]).keys() == {key.key_id}


def test_config_overrides_cannot_plant_keys(server, site, kiosk, tmp_path):
    from practice_server.bundles import store_config

    fake = {"evil": encode_public_key(Ed25519PrivateKey.generate().public_key())}
    with server.sessions.begin() as db:
        store_config(db, site.id, {"checkin_keys": fake, "retention_days": 3}, datetime.now(UTC))
    items = kiosk.get("/api/v1/bundles/config").json()["items"]
    assert items["checkin_keys"] == {} and items["retention_days"] == 3


# -- rotation -----------------------------------------------------------------------------------


def test_rotation_new_key_signs_old_key_verifies_until_its_codes_expire(server, tmp_path):
    path = tmp_path / "k.key"
    old = make_key(server, path)
    old_code = sign(old, server, NOW + timedelta(days=2))
    copy = tmp_path / "old-copy.key"
    copy.write_bytes(path.read_bytes())
    copy.chmod(0o600)
    later = NOW + timedelta(hours=1)
    with server.sessions.begin() as db:
        new = practice_keys.rotate(db, path, later)
    assert new.key_id != old.key_id and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert make_key(server, path, later).key_id == new.key_id  # the file now holds the new key
    keys = published(server, later)
    assert set(keys) == {old.key_id, new.key_id}
    assert verify_checkin_token(old_code, checkin_keys_from({"checkin_keys": keys}), later)
    # once every code the old key signed has expired, it is no longer published
    assert set(published(server, NOW + timedelta(days=2))) == {new.key_id}
    # a host still holding the old key is told, instead of signing with it
    with pytest.raises(KeyFileError, match="replaced"):
        make_key(server, copy, later)


def test_a_retired_key_that_never_signed_drops_out_at_once(server, tmp_path):
    path = tmp_path / "k.key"
    old = make_key(server, path)
    with server.sessions.begin() as db:
        new = practice_keys.rotate(db, path, NOW)
    assert set(published(server)) == {new.key_id} and old.key_id != new.key_id


def test_revoking_a_leaked_key_withdraws_its_codes_at_once(server, tmp_path):
    path = tmp_path / "k.key"
    old = make_key(server, path)
    sign(old, server, NOW + timedelta(days=5))
    with server.sessions.begin() as db:
        new = practice_keys.rotate(db, path, NOW, revoke_old=True)
    assert set(published(server)) == {new.key_id}


def test_several_hosts_with_their_own_keys_are_all_published(server, tmp_path):
    a, b = make_key(server, tmp_path / "a.key"), make_key(server, tmp_path / "b.key")
    assert set(published(server)) == {a.key_id, b.key_id}


def test_note_signed_only_moves_forward(server, tmp_path):
    key = make_key(server, tmp_path / "k.key")
    sign(key, server, NOW + timedelta(days=5))
    sign(key, server, NOW + timedelta(days=1))
    with server.sessions() as db:
        assert db.get(CheckinKey, key.key_id).signed_until == NOW + timedelta(days=5)


# -- the schedule pull --------------------------------------------------------------------------


def test_schedule_pull_has_copay_and_portal_account(server, site, kiosk):
    today = site_today()
    with server.sessions.begin() as db:
        rows = add_schedule(db, site.id, [today], per_day=3)
    seen, cursor, _ = kiosk.pull_all()
    assert {a["copay_cents"] for a in seen["appointments"].values()} == {None}
    assert {p["portal_account"] for p in seen["patients"].values()} == {False}
    with server.sessions.begin() as db:
        db.execute(update(Appointment).where(Appointment.id == rows[0]["id"]).values(copay_cents=2500))
        schedule.touch(db, Appointment.id == rows[0]["id"])
        db.execute(update(Patient).where(Patient.id == rows[1]["patient_id"]).values(portal_account=True))
        schedule.touch_patient(db, rows[1]["patient_id"], datetime.now(UTC).date())
    changed, _, _ = kiosk.pull_all(cursor)
    assert changed["appointments"][rows[0]["id"]]["copay_cents"] == 2500
    assert changed["patients"][rows[1]["patient_id"]]["portal_account"] is True
    assert server.scalar(select(Patient.language).where(Patient.id == rows[2]["patient_id"])) == "en"


# -- the demo practice --------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path):
    from practice_server.db import open_database

    engine, sessions = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    now = datetime.now(UTC)
    assert load_demo_practice(sessions, now)
    yield sessions, now
    engine.dispose()


def test_demo_practice_signs_with_the_public_demo_key(demo):
    sessions, now = demo
    with sessions() as db:
        family = admin.find_site(db, FAMILY[0])
        keys = practice_keys.published_keys(db, now)
        appointment = db.scalars(select(Appointment).where(Appointment.site_id == family.id)).first()
    assert family.id == DEMO_SITE_ID
    assert list(keys) == [DEMO_KEY_ID]
    assert keys[DEMO_KEY_ID] == encode_public_key(demo_public_keys()[DEMO_KEY_ID])
    code = demo_checkin_token(appointment.id, day=appointment.day)
    got = verify_checkin_token(code, checkin_keys_from({"checkin_keys": keys}), now, site_id=DEMO_SITE_ID)
    assert got.appointment_id == appointment.id
    assert got.expires_at == expiry_for_day(appointment.day, FAMILY[1])


def test_demo_practice_has_copays_portal_accounts_and_spanish_readers(demo):
    sessions, _ = demo
    with sessions() as db:
        appointments = list(db.scalars(select(Appointment)))
        patients = {p.id: p for p in db.scalars(select(Patient))}
    assert {a.copay_cents for a in appointments} == {0, 2500, 4000}
    assert all(a.copay_cents == COPAY_CENTS[a.visit_type] for a in appointments)
    by_name = {(p.first_name, p.last_name): p for p in patients.values()}
    assert by_name[("John", "Smith")].portal_account and by_name[("Walter", "O'Brien")].portal_account
    assert not by_name[("Jane", "Smith")].portal_account and not by_name[("Maria", "García-López")].portal_account
    assert by_name[("Maria", "García-López")].language == "es"
    share = sum(p.portal_account for p in patients.values()) / len(patients)
    assert 0.15 < share < 0.45
    assert {p.language for p in patients.values()} == {"en", "es"}


def test_demo_roll_forward_keeps_the_demo_key_and_drops_old_reminders(demo):
    from practice_server.models import Reminder

    sessions, now = demo
    with sessions.begin() as db:
        appointment = db.scalars(select(Appointment)).first()
        db.add(Reminder(appointment_id=appointment.id, status="sent", attempts=1, last_attempt_at=now,
                        sent_at=now, token_id="00" * 8))
    assert load_demo_practice(sessions, now + timedelta(days=8))
    with sessions() as db:
        assert practice_keys.published_keys(db, now + timedelta(days=8)).keys() == {DEMO_KEY_ID}
        assert db.scalar(select(Reminder).where(Reminder.appointment_id == appointment.id)) is None


def test_the_demo_key_is_never_a_real_practices(server, tmp_path):
    key = make_key(server, tmp_path / "k.key")
    assert key.key_id != DEMO_KEY_ID
    assert encode_public_key(key.private_key.public_key()) != encode_public_key(demo_public_keys()[DEMO_KEY_ID])


def test_a_site_can_be_created_with_a_fixed_id(server):
    fixed = str(uuid.uuid4())
    with server.sessions.begin() as db:
        a = admin.create_site(db, "A clinic", "America/Chicago")
        b = admin.create_site(db, "B clinic", "America/Chicago", site_id=fixed)
    assert b.id == fixed and a.id != fixed and str(uuid.UUID(a.id)) == a.id
