"""Benchmark: memory growth of the kiosk over a day of check-ins, through the real window.

In one process (under a private Xvfb when $DISPLAY is unset): a throw-away encrypted
store with synthetic patients who all have an appointment today, the KioskApp built the
way the scripted tour builds it, then one full check-in per patient driven through the
GUI with kiosk.ui_driver (real touches on the on-screen keys):

    check in -> last name -> next -> birth date (month day year) -> next
    -> "yes, that's me" -> contact details OK -> "no card with me" -> copay at the desk
    -> no portal -> finish

(The practice publishes no forms and no consents here: bench_form_transitions measures those.)

After check-in 1 (and 2, 5, 10, 20) and after every 50th, each time after gc.collect(),
it records the RSS, the number of live Kivy widgets and the translator's observer count,
and at the end checks that every check-in landed (one appointment.arrived event each).

    python bench/bench_memory.py [--checkins 300] [--every 50]

Target: RSS after the last check-in < 10 MB above RSS after the first.
Exit code 1 if a check-in did not land or the GUI went somewhere unexpected.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import os
import random
import string
import sys
import tempfile
import time as clock
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _xvfb import ensure_display  # noqa: E402

TARGET_GROWTH_MB = 10.0
SLOTS = [time(8 + m // 60, m % 60) for m in range(0, 9 * 60, 20)]  # 08:00-16:40
# Besides 1 and every 50th: a few early points show the one-off warm-up of caches.
EARLY_SAMPLES = (1, 2, 5, 10, 20)
EXTRA_PATIENTS = 20  # booked but never checked in: the look-ups are not against a tiny table


class BenchFailure(Exception):
    pass


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil  # not Linux: fall back on psutil (the test extra)

    return psutil.Process().memory_info().rss / (1024 * 1024)


def live_widgets() -> int:
    from kivy.uix.widget import Widget

    return sum(1 for o in gc.get_objects() if isinstance(o, Widget))


def make_patients(n: int, rng: random.Random):
    """Synthetic patients whose last names use only A-Z (typeable on the name keyboard)."""
    from kiosk.store import PatientRecord

    seen: set[tuple[str, date]] = set()
    patients = []
    while len(patients) < n:
        last = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(4, 8)))
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 70))
        if (last, born) in seen:
            continue
        seen.add((last, born))
        i = len(patients)
        patients.append(PatientRecord(
            id=str(uuid.uuid4()),
            first_name="".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(3, 7))),
            last_name=last,
            birth_date=born,
            phone=f"(312) 555-{rng.randrange(10_000):04d}",
            email=f"patient{i}@example.org",
            street=f"{rng.randint(1, 999)} Bench Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
        ))
    return patients


def build_schedule(store, n: int, today: date, rng: random.Random):
    from kiosk.store import AppointmentRecord, ClinicianRecord

    patients = make_patients(n, rng)
    clinicians = [ClinicianRecord(str(uuid.uuid4()), f"Dr. Bench {i}") for i in range(n // len(SLOTS) + 1)]
    appointments = []
    for i, p in enumerate(patients):
        clinician, slot = divmod(i, len(SLOTS))
        appointments.append(AppointmentRecord(
            id=str(uuid.uuid4()), patient_id=p.id, clinician_id=clinicians[clinician].id,
            start=datetime.combine(today, SLOTS[slot]), visit_type="follow_up",
        ))
    store.import_schedule(clinicians, patients, appointments)
    return patients, appointments


def check_in(app, ui, patient) -> None:
    """One whole visit through the GUI; raises BenchFailure if a screen is not the expected one."""
    from kiosk import ui_intake  # Kivy is imported once the display is up (see main)

    def expect(state: str, after: str) -> None:
        if app.manager.current != state:
            notice = getattr(app.manager.current_screen, "notice", "")
            raise BenchFailure(f"after {after}: on screen {app.manager.current!r}, expected {state!r}"
                               + (f" (notice {notice!r})" if notice else ""))

    born = patient.birth_date
    expect("welcome", "the previous visit")
    ui.tap(app, "check_in")
    expect("last_name", "check_in")
    ui.type_keys(app, patient.last_name)
    ui.tap(app, "next")
    expect("birth_date", "last name")
    ui.type_keys(app, f"{born.month:02d}{born.day:02d}{born.year}")
    ui.tap(app, "next")
    expect("confirm", "birth date")
    ui.tap(app, "yes_me")
    expect("review_contact", "yes_me")
    ui.tap(app, "contact_ok")
    expect("insurance_card", "contact_ok")
    ui.tap(app, "card_none")
    ui_intake.pay_copay(app, by_card=False)  # the copay step (issue 6): at the desk
    ui_intake.skip_portal(app)
    expect("done", "card_none, copay and portal")
    if app.journey.session.check_in.already:
        raise BenchFailure("the kiosk says this patient was already checked in")
    ui.tap(app, "finish")
    expect("welcome", "finish")
    if app.journey.session is not None:
        raise BenchFailure("the visit did not end after finish")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="sample every N check-ins (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-msaa", action="store_true",
                        help="multisamples=0 instead of Kivy's default 2 (the kiosk's setting): "
                             "3-4x faster frames under software GL (Xvfb), not what the kiosk runs")
    args = parser.parse_args()
    ensure_display()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-memory-") as tmp:
        scratch = Path(tmp)
        os.environ.pop("KIOSK_CONFIG", None)
        os.environ["KIOSK_DATA_DIR"] = str(scratch / "data")
        os.environ["KIOSK_KEY_FILE"] = str(scratch / "keys" / "data.key")

        from kiosk.config import load_config
        from kiosk.logging_setup import configure_logging

        config = load_config(None)
        # Long idle limits: a slow frame under Xvfb must never time a visit out.
        config = dataclasses.replace(config, idle_warning_seconds=3600, idle_countdown_seconds=600)
        configure_logging(config.log_file, config.log_level, console=False)  # JSON to the temp log file

        from kiosk.kivy_setup import configure_kivy

        configure_kivy(config.data_dir / "kivy", fullscreen=False)
        if args.no_msaa:
            from kivy.config import Config

            Config.set("graphics", "multisamples", "0")

        from kiosk.i18n import init_translator
        from kiosk.store import open_store

        init_translator(config.languages, config.default_language)
        store = open_store(config.data_dir, config.key_file)
        store.save_bundle("forms", {"kind": "forms", "items": {"questionnaires": [], "rules": [], "policy": []}}, "none")
        store.save_bundle("consents", {"kind": "consents", "items": []}, "none")

        from kiosk import ui_driver as ui
        from kiosk.app import KioskApp, utc_now
        from kiosk.widgets.tr import tr

        today = utc_now().astimezone().date()
        patients, appointments = build_schedule(store, args.checkins + EXTRA_PATIENTS, today, rng)
        print(f"store: {len(patients)} synthetic patients with an appointment today; "
              f"checking in {args.checkins} through the GUI")

        app = KioskApp(config, store)
        app._run_prepare()  # build and show the window; we pump the event loop ourselves
        ui.pump(5)

        rows = []

        sampling = [0.0]  # seconds spent sampling, left out of the check-in time

        def sample(label: str, done: int) -> None:
            t = clock.perf_counter()
            ui.pump(3)
            gc.collect()
            gc.collect()
            rows.append((label, done, rss_mb(), live_widgets(), tr.observer_count()))
            sampling[0] += clock.perf_counter() - t

        sample("after start", 0)
        sampling[0] = 0.0
        failure = None
        started = clock.perf_counter()
        done = 0
        try:
            for done, patient in enumerate(patients[:args.checkins], start=1):
                check_in(app, ui, patient)
                if done in EARLY_SAMPLES or done % args.every == 0 or done == args.checkins:
                    sample(f"after check-in {done}", done)
                    label, _, rss, widgets, observers = rows[-1]
                    print(f"  {label:<22} RSS {rss:7.1f} MB   widgets {widgets:5d}   "
                          f"tr observers {observers:5d}   "
                          f"({clock.perf_counter() - started - sampling[0]:6.1f} s)",
                          flush=True)
        except (BenchFailure, LookupError) as problem:
            failure = f"check-in {done} failed: {problem}"
        elapsed = clock.perf_counter() - started - sampling[0]
        completed = done if failure is None else done - 1

        arrived = [e for e in store.outbox_pending(limit=100_000) if e.event_type == "appointment.arrived"]
        expected_ids = {a.id for a in appointments[:completed]}
        landed_ids = {e.payload.get("appointment_id") for e in arrived}
        app.stop()
        store.close()
        logging.shutdown()

    print()
    print(f"{'point':<24}{'RSS MB':>9}{'growth MB':>11}{'widgets':>9}{'tr observers':>14}")
    base = next((r for r in rows if r[1] == 1), rows[0])
    for label, _, rss, widgets, observers in rows:
        print(f"{label:<24}{rss:9.1f}{rss - base[2]:+11.1f}{widgets:9d}{observers:14d}")
    last = rows[-1]
    print()
    if completed:
        print(f"{completed} check-ins through the GUI in {elapsed:.1f} s "
              f"({elapsed / completed:.2f} s per check-in)")
    growth = last[2] - base[2]
    print(f"RSS growth after {last[1]} vs after 1: {growth:+.1f} MB; "
          f"live widgets {base[3]} -> {last[3]} ({last[3] - base[3]:+d}); "
          f"tr observers {base[4]} -> {last[4]} ({last[4] - base[4]:+d})")
    if last[1] > 1:
        per = growth * 1024 / (last[1] - 1)
        print(f"  = {per:.1f} KB per check-in after the first")
    # A one-off warm-up (under Xvfb mostly native memory of the software GL driver while
    # drawing) makes the first check-ins grow more than later ones; the later slope is what
    # would go on all day.
    mid = next((r for r in rows if r[1] >= args.every and r[1] < last[1]), None)
    if mid is not None:
        later = last[2] - mid[2]
        print(f"RSS growth after {last[1]} vs after {mid[1]}: {later:+.1f} MB "
              f"(= {later * 1024 / (last[1] - mid[1]):.1f} KB per check-in)")
    verdict = "meets" if growth < TARGET_GROWTH_MB else "MISSES"
    if args.no_msaa:
        print("(run with --no-msaa: multisamples=0, not the kiosk's own setting)")
    if failure is None:
        print(f"target growth < {TARGET_GROWTH_MB:.0f} MB: {verdict} the target")
    print(f"outbox: {len(arrived)} appointment.arrived events "
          f"({len(landed_ids & expected_ids)} of the {completed} check-ins made)")

    if failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    if len(arrived) != args.checkins or landed_ids != {a.id for a in appointments[:args.checkins]}:
        print(f"FAILED: expected {args.checkins} appointment.arrived events, one per check-in; "
              f"found {len(arrived)} covering {len(landed_ids & expected_ids)} of them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
