"""`python -m practice_server staff ...` and the demo practice's dashboard accounts."""

from __future__ import annotations

from datetime import UTC, datetime

from practice_server.__main__ import main
from practice_server.dashboard import accounts
from practice_server.db import open_database
from practice_server.demo_practice import DEMO_STAFF, DEMO_STAFF_PASSWORD, load_demo_practice


def test_add_list_reset_and_disable(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine, sessions = open_database(url)
    with sessions.begin() as db:
        from practice_server import admin

        admin.create_site(db, "Northside Clinic", "America/Chicago")
    monkeypatch.delenv("CLINIC_STAFF_PASSWORD", raising=False)
    assert main(["staff", "add", "Dana.Desk", "--name", "Dana Desk", "--role", "front_desk",
                 "--site", "Northside Clinic", "--database", url]) == 0
    made = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
    with sessions() as db:
        assert accounts.verify(db, "dana.desk", made) is not None
    assert main(["staff", "add", "x", "--name", "X", "--role", "admin", "--database", url]) == 2
    assert "username must be" in capsys.readouterr().err
    assert main(["staff", "add", "sam", "--name", "Sam", "--role", "admin", "--site", "Nowhere",
                 "--database", url]) == 2
    assert "no site named Nowhere" in capsys.readouterr().err
    monkeypatch.setenv("CLINIC_STAFF_PASSWORD", "tulip window cobalt river")
    assert main(["staff", "reset-password", "dana.desk", "--database", url]) == 0
    assert "tulip" not in capsys.readouterr().out  # a given password is never echoed
    assert main(["staff", "list", "--database", url]) == 0
    listed = capsys.readouterr().out
    assert "dana.desk" in listed and "front_desk" in listed and "Northside Clinic" in listed
    assert main(["staff", "disable", "dana.desk", "--database", url]) == 0
    with sessions() as db:
        assert accounts.verify(db, "dana.desk", "tulip window cobalt river") is None
    engine.dispose()


def test_the_demo_practice_has_one_account_per_role(tmp_path):
    engine, sessions = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    assert load_demo_practice(sessions, datetime.now(UTC))
    with sessions() as db:
        roles = {accounts.verify(db, username, DEMO_STAFF_PASSWORD).role for username, _n, _r in DEMO_STAFF}
    assert roles == set(accounts.ROLES)
    engine.dispose()
