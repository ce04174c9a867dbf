"""Staff sign-in: PIN check, attempts left, lockout that survives a restart, and the audit log."""

from __future__ import annotations

import json
import sqlite3

import pytest

from kiosk.staff import FAILURES, LOCKED, LOCKED_UNTIL, OK, WRONG, StaffAuth
from kiosk.staff_pin import DEMO_PIN, DEMO_PIN_HASH
from kiosk.store import open_store

WRONG_PIN = "1357"


def audit_rows(data_dir) -> list[tuple[str, str, dict]]:
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        rows = conn.execute("SELECT actor, action, detail FROM audit_entries ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(actor, action, json.loads(detail)) for actor, action, detail in rows]


@pytest.fixture
def auth(store, clock) -> StaffAuth:
    return StaffAuth(store, DEMO_PIN_HASH, clock)


def test_right_pin_signs_in(auth, store, data_dir):
    result = auth.sign_in(DEMO_PIN)
    assert result.outcome == OK
    assert store.get_setting(FAILURES) == "0"
    assert audit_rows(data_dir) == [("staff", "staff.signed_in", {})]
    assert store.verify_audit()


def test_wrong_pin_counts_down_attempts(auth, store, data_dir):
    lefts = [auth.sign_in(WRONG_PIN) for _ in range(4)]
    assert [r.outcome for r in lefts] == [WRONG] * 4
    assert [r.attempts_left for r in lefts] == [4, 3, 2, 1]
    assert all(r.locked_seconds == 0 for r in lefts)
    assert store.get_setting(FAILURES) == "4"
    assert audit_rows(data_dir) == [
        ("staff", "staff.sign_in_failed", {"failures": n}) for n in (1, 2, 3, 4)
    ]
    assert store.verify_audit()


def test_right_pin_resets_the_count(auth):
    for _ in range(3):
        auth.sign_in(WRONG_PIN)
    assert auth.sign_in(DEMO_PIN).outcome == OK
    assert auth.sign_in(WRONG_PIN).attempts_left == 4


def test_lockout_after_five_and_it_survives_a_restart(auth, store, clock, data_dir, key_file):
    for _ in range(4):
        auth.sign_in(WRONG_PIN)
    locked = auth.sign_in(WRONG_PIN)
    assert locked.outcome == LOCKED
    assert locked.locked_seconds == 300
    assert auth.locked_seconds() == 300

    # Even the right PIN is refused while locked.
    clock.advance(100)
    refused = auth.sign_in(DEMO_PIN)
    assert refused.outcome == LOCKED and refused.locked_seconds == 200

    # A new StaffAuth on the same store (the app restarted) is still locked.
    again = StaffAuth(store, DEMO_PIN_HASH, clock)
    assert again.locked_seconds() == 200
    assert again.sign_in(DEMO_PIN).outcome == LOCKED

    # So is one on a freshly opened store (the process restarted).
    store.close()
    with open_store(data_dir, key_file) as reopened:
        restarted = StaffAuth(reopened, DEMO_PIN_HASH, clock)
        assert restarted.sign_in(DEMO_PIN).outcome == LOCKED
        clock.advance(199.5)
        assert restarted.locked_seconds() == 1  # rounded up
        assert restarted.sign_in(DEMO_PIN).outcome == LOCKED
        clock.advance(0.5)
        assert restarted.locked_seconds() == 0
        assert restarted.sign_in(DEMO_PIN).outcome == OK
        # The count started again from zero after the lockout.
        assert restarted.sign_in(WRONG_PIN).attempts_left == 4

        actions = [a for _, a, _ in audit_rows(data_dir)]
        assert actions == (
            ["staff.sign_in_failed"] * 4
            + ["staff.locked_out"]
            + ["staff.sign_in_refused_locked"] * 4
            + ["staff.signed_in", "staff.sign_in_failed"]
        )
        assert audit_rows(data_dir)[4] == ("staff", "staff.locked_out", {"failures": 5})
        assert reopened.verify_audit()


def test_wrong_pin_while_locked_does_not_extend_the_lockout(auth, store, clock):
    for _ in range(5):
        auth.sign_in(WRONG_PIN)
    until = store.get_setting(LOCKED_UNTIL)
    clock.advance(10)
    assert auth.sign_in(WRONG_PIN).outcome == LOCKED
    assert store.get_setting(LOCKED_UNTIL) == until
    assert store.get_setting(FAILURES) == "0"


def test_custom_limits(store, clock):
    auth = StaffAuth(store, DEMO_PIN_HASH, clock, max_failures=2, lockout_seconds=60)
    assert auth.sign_in(WRONG_PIN).attempts_left == 1
    locked = auth.sign_in(WRONG_PIN)
    assert (locked.outcome, locked.locked_seconds) == (LOCKED, 60)
    clock.advance(60)
    assert auth.sign_in(DEMO_PIN).outcome == OK


@pytest.mark.parametrize("pin", ["", "24680", "246", " 2468"])
def test_near_misses_are_wrong(auth, pin):
    assert auth.sign_in(pin).outcome == WRONG


def test_malformed_pin_hash_never_signs_in(store, clock):
    auth = StaffAuth(store, "not-a-hash", clock)
    assert auth.sign_in(DEMO_PIN).outcome == WRONG


def test_staff_actions_are_audited(auth, store, data_dir):
    auth.sign_in(DEMO_PIN)
    auth.record("staff.lifted_cooldown")
    auth.record("staff.exported_status", rows=3, kind="outbox")
    auth.record("staff.signed_out")
    assert audit_rows(data_dir) == [
        ("staff", "staff.signed_in", {}),
        ("staff", "staff.lifted_cooldown", {}),
        ("staff", "staff.exported_status", {"rows": 3, "kind": "outbox"}),
        ("staff", "staff.signed_out", {}),
    ]
    assert store.verify_audit()


def test_audit_tampering_is_detected(auth, store, data_dir):
    auth.sign_in(WRONG_PIN)
    auth.sign_in(DEMO_PIN)
    assert store.verify_audit()
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        # The schema refuses updates; a tamperer who drops the trigger is still caught by the chain.
        triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_entries'")]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE audit_entries SET action = 'staff.signed_in' WHERE seq = 1")
        conn.commit()
    finally:
        conn.close()
    assert not store.verify_audit()
