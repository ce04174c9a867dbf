import sqlite3

import pytest

from store_helpers import raw


def write_some(store):
    store.audit("staff:17", "staff.login", {"kiosk": "front-1"})
    store.audit("staff:17", "outbox.view_dead", {"count": 2})
    store.audit("staff:17", "staff.logout", {"reason": "timeout", "é": "ü"})


def test_empty_and_intact_chains_verify(store, data_dir):
    assert store.verify_audit()
    write_some(store)
    assert store.verify_audit()
    rows = raw(data_dir, "SELECT seq, prev_hash, hash FROM audit_entries ORDER BY seq")
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1] == "0" * 64
    assert rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]


def test_database_refuses_updates_and_deletes(store, data_dir):
    write_some(store)
    conn = sqlite3.connect(data_dir / "kiosk.db")
    for sql in (
        "UPDATE audit_entries SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 3",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert store.verify_audit()


def tamper(data_dir, *sql):
    """Someone with file access who knows to drop the triggers first."""
    conn = sqlite3.connect(data_dir / "kiosk.db")
    conn.execute("DROP TRIGGER audit_entries_no_update")
    conn.execute("DROP TRIGGER audit_entries_no_delete")
    for s in sql:
        conn.execute(s)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        ["UPDATE audit_entries SET detail = '{\"kiosk\":\"front-2\"}' WHERE seq = 1"],
        ["UPDATE audit_entries SET action = 'staff.nothing' WHERE seq = 2"],
        ["UPDATE audit_entries SET at = '2020-01-01 00:00:00.000000' WHERE seq = 2"],
        ["DELETE FROM audit_entries WHERE seq = 2"],
        ["DELETE FROM audit_entries WHERE seq = 3"],  # truncated tail: caught by the head
        ["DELETE FROM audit_entries"],
        ["UPDATE audit_entries SET seq = seq + 10"],
    ],
)
def test_tampering_is_detected(store, data_dir, sql):
    write_some(store)
    tamper(data_dir, *sql)
    assert not store.verify_audit()


def test_rehashing_one_row_is_not_enough(store, data_dir, caplog):
    """Recomputing the changed row's own hash still breaks the link to the next one."""
    import hashlib
    import json

    write_some(store)
    (seq, at, actor, action, detail, prev) = raw(
        data_dir, "SELECT seq, at, actor, action, detail, prev_hash FROM audit_entries WHERE seq = 1"
    )[0]
    forged_detail = '{"kiosk":"elsewhere"}'
    at_iso = at.replace(" ", "T") + "+00:00"
    body = json.dumps({"seq": seq, "at": at_iso, "actor": actor, "action": action, "detail": forged_detail},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    forged_hash = hashlib.sha256((prev + body).encode()).hexdigest()
    tamper(
        data_dir,
        f"UPDATE audit_entries SET detail = '{forged_detail}', hash = '{forged_hash}' WHERE seq = 1",
    )
    assert not store.verify_audit()
    assert "broken at seq 2" in caplog.text  # row 1 itself was forged consistently


def test_chain_continues_across_reopen(data_dir, key_file):
    from kiosk.store import open_store

    with open_store(data_dir, key_file) as s:
        write_some(s)
    with open_store(data_dir, key_file) as s:
        s.audit("staff:3", "staff.login", {})
        assert s.verify_audit()
    assert raw(data_dir, "SELECT MAX(seq) FROM audit_entries") == [(4,)]
