"""Analytics over one year of synthetic kiosk data for 20 sites, on PostgreSQL.

    eval "$(bash scripts/postgres.sh)"; python bench/bench_analytics.py [--visits-per-day 80]

Loads (with generate_series, in the database) appointments, step events, form responses,
copays, ratings and portal sign-ups for 20 sites x 365 days, then times each chart's
query for one site over the whole year (the dashboard's worst case: a year at once),
best of 3, and prints the figures with the row counts. Target: < 1 s per chart.
It works in a new database next to PRACTICE_TEST_POSTGRES_URL's, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from practice_server import analytics  # noqa: E402
from practice_server.db import open_database  # noqa: E402
from practice_server.models import Base  # noqa: E402
from tests.e2e.practice_db import drop_postgres, fresh_postgres  # noqa: E402

SITES, DAYS = 20, 365
FIRST = date(2025, 11, 24)
STEPS = ("last_name", "birth_date", "confirm", "review_contact", "forms", "copay")


def load(engine, visits_per_day: int) -> dict[str, int]:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    u = "md5({})::uuid::text"
    with engine.begin() as c:
        c.execute(sa.text("SET LOCAL statement_timeout = 0"))  # the server's guard; loading takes minutes
        c.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        c.execute(sa.text(f"""INSERT INTO sites SELECT {u.format("'site'||s")}, 'Site '||s, 'America/Chicago', now()
                              FROM generate_series(1,{SITES}) s"""))
        c.execute(sa.text(f"""INSERT INTO devices (id, site_id, public_key, hostname, version, enrolled_at)
                              SELECT {u.format("'dev'||s")}, {u.format("'site'||s")}, 'x', 'kiosk-'||s, '1', now()
                              FROM generate_series(1,{SITES}) s"""))
        c.execute(sa.text(f"""INSERT INTO clinicians SELECT {u.format("'doc'||i")}, 'Dr. '||i
                              FROM generate_series(1,{SITES * 4}) i"""))
        c.execute(sa.text(f"""INSERT INTO patients (id, first_name, last_name, birth_date, phone, email, street, city,
                              state, postal_code, language, portal_account, updated_at)
                              SELECT {u.format("'p'||i")}, 'Pat', 'Synthetic'||i, date '1940-01-01' + (i % 25000),
                              '', '', '', '', '', '', 'en', false, now() FROM generate_series(1,60000) i"""))
        # One row per (site, day, slot): visits_per_day slots a day.
        c.execute(sa.text(f"""CREATE TEMP TABLE v AS
            SELECT s, d, n, {u.format("'a'||s||'-'||d||'-'||n")} AS id, {u.format("'site'||s")} AS site_id,
                   {u.format("'dev'||s")} AS device_id, {u.format("'p'||(1 + (s*7919 + d*104729 + n*31) % 60000)")} AS patient_id,
                   date '{FIRST}' + d AS day, (ARRAY['en','es','zh','vi','ar'])[1 + (n*7 + d) % 5] AS language,
                   (ARRAY['18-39','40-64','65+','0-17'])[1 + (n*3 + s) % 4] AS age_band,
                   (ARRAY['follow_up','new_patient','annual_physical'])[1 + n % 3] AS visit_type,
                   (n*13 + d*7 + s) % 100 AS r
            FROM generate_series(1,{SITES}) s, generate_series(0,{DAYS - 1}) d, generate_series(1,{visits_per_day}) n"""))
        c.execute(sa.text(f"""INSERT INTO appointments (id, site_id, patient_id, clinician_id, start, day, visit_type,
                              status, arrived_at, copay_cents, change_seq, changed_at)
            SELECT id, site_id, patient_id, {u.format("'doc'||(1 + (s-1)*4 + n % 4)")}, day + time '08:00' + n * interval '5 min',
                   day, visit_type, CASE WHEN r < 5 THEN 'cancelled' WHEN r < 90 THEN 'seen' ELSE 'booked' END,
                   CASE WHEN r BETWEEN 5 AND 80 THEN (day + time '13:55' + n * interval '5 min') END, 2500,
                   row_number() OVER (), now() FROM v"""))
        steps = ", ".join(f"('{name}', {i})" for i, name in enumerate(STEPS))
        c.execute(sa.text(f"""INSERT INTO step_events (device_id, event_id, site_id, session_id, step, action, seconds,
                              language, age_band, visit_type, reason, created_at, day)
            SELECT v.device_id, {u.format("'e'||v.id||st.name||a.action")}, v.site_id, {u.format("'sess'||v.id")},
                   st.name, a.action, CASE WHEN a.action = 'started' THEN 0 ELSE 10 + (v.r * st.i) % 50 END,
                   v.language, v.age_band, v.visit_type, CASE WHEN a.action = 'abandoned' THEN 'timeout' END,
                   v.day + time '14:00', v.day
            FROM v CROSS JOIN (VALUES {steps}) AS st(name, i)
                   CROSS JOIN (VALUES ('started'), ('completed'), ('abandoned')) AS a(action)
            WHERE v.r BETWEEN 5 AND 84 AND (st.i <= (v.r % 6) + (CASE WHEN v.r < 78 THEN 6 ELSE 0 END))
              AND (a.action = 'started' OR (a.action = 'completed' AND (v.r < 78 OR st.i < v.r % 6))
                   OR (a.action = 'abandoned' AND v.r >= 78 AND st.i = v.r % 6))"""))
        c.execute(sa.text(f"""INSERT INTO step_events (device_id, event_id, site_id, session_id, step, action, seconds,
                              language, age_band, visit_type, reason, created_at, day)
            SELECT device_id, {u.format("'done'||id")}, site_id, {u.format("'sess'||id")}, 'done', 'started', 0,
                   language, age_band, visit_type, NULL, day + time '14:10', day FROM v WHERE r BETWEEN 5 AND 77"""))
        # What step_events.apply rolls up per visit as the events arrive, here in one go.
        c.execute(sa.text("""INSERT INTO kiosk_visits SELECT session_id, min(site_id), min(day), min(language),
                              min(age_band), min(visit_type), bool_or(step = 'done' AND action = 'started'),
                              coalesce(sum(seconds) FILTER (WHERE step <> 'done'
                                                            AND action IN ('completed', 'backed_out')), 0)
                              FROM step_events GROUP BY session_id"""))
        c.execute(sa.text(f"""INSERT INTO form_responses (id, site_id, device_id, event_id, patient_id, appointment_id,
                              questionnaire_url, questionnaire_title, codes, status, language, authored, day, items,
                              flags, urgent, received_at)
            SELECT {u.format("'f'||id")}, site_id, device_id, {u.format("'fe'||id")}, patient_id, id,
                   'http://example.org/phq-9', 'PHQ-9', '[]', CASE WHEN r < 70 THEN 'completed' ELSE 'in-progress' END,
                   language, day + time '14:05', day, '[]', '[]', false, now() FROM v WHERE r BETWEEN 5 AND 80"""))
        c.execute(sa.text("""INSERT INTO visit_payments SELECT id, site_id, CASE WHEN r < 60 THEN 'paid' ELSE 'deferred' END,
                              2500, day + time '14:06', day FROM v WHERE r BETWEEN 5 AND 80"""))
        c.execute(sa.text(f"""INSERT INTO satisfaction_ratings SELECT device_id, {u.format("'rt'||id")}, site_id,
                              {u.format("'sess'||id")}, 1 + r % 3, language, age_band, visit_type, day + time '14:11', day
                              FROM v WHERE r BETWEEN 5 AND 50"""))
        c.execute(sa.text(f"""INSERT INTO portal_accounts (id, patient_id, password_hash, totp_enabled, terms_version,
                              created_at, created_via_device, site_id, created_day)
            SELECT {u.format("'acct'||p.patient_id")}, p.patient_id, 'x', false, '1', now(), min(p.device_id),
                   min(p.site_id), min(p.day)
            FROM (SELECT DISTINCT ON (patient_id) patient_id, device_id, site_id, day FROM v WHERE r % 17 = 0
                  ORDER BY patient_id, day) p GROUP BY p.patient_id"""))
        c.execute(sa.text("ANALYZE"))
        return {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in (
            "appointments", "step_events", "kiosk_visits", "form_responses", "visit_payments", "satisfaction_ratings",
            "portal_accounts")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits-per-day", type=int, default=80)
    args = parser.parse_args()
    url = os.environ.get("PRACTICE_TEST_POSTGRES_URL")
    if not url:
        print("set PRACTICE_TEST_POSTGRES_URL: eval \"$(bash scripts/postgres.sh)\"", file=sys.stderr)
        return 2
    base_url, url = url, fresh_postgres(url)  # a database of its own, made at the newest schema
    engine, sessions = open_database(url)
    started = time.perf_counter()
    counts = load(engine, args.visits_per_day)
    print(f"loaded in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    site = engine.connect().execute(sa.text("SELECT id FROM sites ORDER BY name LIMIT 1")).scalar_one()
    day_to = FIRST + timedelta(days=DAYS - 1)
    with sessions() as db:
        db.execute(sa.text("SELECT 1"))
        baseline = []
        for _ in range(3):
            t = time.perf_counter()
            db.execute(sa.text("SELECT count(*) FROM sites")).scalar_one()
            baseline.append(time.perf_counter() - t)
        print(f"baseline round trip (SELECT count(*) FROM sites): {min(baseline) * 1000:.1f} ms")
        print(f"{'chart (one site, 365 days)':<28} {'best ms':>8} {'median ms':>10} {'rows':>6}  target < 1000 ms")
        worst = 0.0
        for name, make in analytics.TABLES.items():
            times = []
            for _ in range(3):
                t = time.perf_counter()
                table = make(db, site, FIRST, day_to)
                times.append(time.perf_counter() - t)
            worst = max(worst, min(times))
            print(f"{name:<28} {min(times) * 1000:8.0f} {statistics.median(times) * 1000:10.0f} {len(table.rows):6d}"
                  f"  {'ok' if min(times) < 1 else 'SLOW'}")
    print(f"slowest chart: {worst * 1000:.0f} ms ({'met' if worst < 1 else 'NOT met'})")
    engine.dispose()
    drop_postgres(base_url, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
