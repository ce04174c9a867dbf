"""Portal sign-ups per site and local day (the dashboard's count), and the portal tables'
migration (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from practice_server.db import alembic_config, make_engine, upgrade_to_head, writer
from practice_server.portal import portal_signups
from server_helpers import add_schedule, site_today
from tests.web.portal_steps import Enrolment, mint

PORTAL_TABLES = {"portal_accounts", "portal_invitation_uses", "portal_attempts", "portal_sessions"}


def sign_up(server, kiosk, appointment: dict, born: date, at: datetime) -> None:
    server.clock.pinned = at
    server.client.cookies.clear()
    text = mint(kiosk.key, kiosk.device_id, appointment["id"], expires_at=at + timedelta(days=1))
    assert Enrolment(server.client).to_terms(text, born).accept_terms().status_code == 303


def test_sign_ups_are_counted_per_site_and_clinic_day(server, site):
    north = server.kiosk(site.id, "north-1")
    south_site = server.site("Southside Clinic", "America/Los_Angeles")
    south = server.kiosk(south_site.id, "south-1")
    day = site_today()
    with server.sessions.begin() as db:
        north_visits = add_schedule(db, site.id, [day], per_day=3, tag="N")
        south_visits = add_schedule(db, south_site.id, [day], per_day=1, tag="S")
    # 03:30 UTC is still the evening before in Chicago: the clinic's day is what counts.
    evening_before = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3, minutes=30)
    sign_up(server, north, north_visits[0], date(1970, 1, 1), evening_before)
    sign_up(server, north, north_visits[1], date(1970, 1, 2), evening_before + timedelta(hours=12))
    sign_up(server, north, north_visits[2], date(1970, 1, 3), evening_before + timedelta(hours=13))
    sign_up(server, south, south_visits[0], date(1970, 1, 1), evening_before + timedelta(hours=13))

    with server.sessions() as db:
        north_counts = portal_signups(db, site.id, day - timedelta(days=2), day + timedelta(days=1))
        south_counts = portal_signups(db, south_site.id, day, day)
        assert portal_signups(db, site.id, day, day - timedelta(days=1)) == []
    assert north_counts == [(day - timedelta(days=2), 0), (day - timedelta(days=1), 1), (day, 2),
                            (day + timedelta(days=1), 0)]
    assert south_counts == [(day, 1)]


def test_the_portal_migration_goes_down_to_0003_and_up_again(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert PORTAL_TABLES <= set(sa.inspect(conn).get_table_names())
    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert not PORTAL_TABLES & tables and "patients" in tables
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert PORTAL_TABLES <= set(sa.inspect(conn).get_table_names())
    engine.dispose()
