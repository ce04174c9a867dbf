"""The staff dashboard's analytics: one table per question, for a site and a range of its
local days. The same table draws the chart and fills the CSV export.

What each measures:
- kiosk_share: per day, appointments checked in at a kiosk (arrived_at set by the
  kiosk's appointment.arrived) of those not cancelled.
- checkin_time: per day, the median minutes from a patient's first kiosk screen to "You
  are checked in" (the time in each stage, summed from step events, completed visits only).
  It and the completion tables read kiosk_visits, the visits rolled up as events arrive.
- funnel: per step, started / completed / backed out / abandoned (step_events.dropoff_funnel).
- completion_by_<language|age_band|visit_type>: visits that reached "checked in", of the
  visits started at the kiosk, per group.
- portal_signups: portal accounts made from a kiosk invitation, per day.
- form_completion: per form, responses completed and left part-way.
- copay_collected: per day, copays paid at the kiosk (dollars) and how many.
- satisfaction: per week (Monday), the one-tap ratings hard / okay / easy and their average.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import Appointment, FormResponse, KioskVisit, SatisfactionRating, VisitPayment
from .portal.signups import portal_signups
from .step_events import dropoff_funnel

@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]
    chart: str  # line, bar, stacked
    note: str = ""


def _days(day_from: date, day_to: date) -> list[date]:
    return [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]


def kiosk_share(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    a = Appointment
    rows = dict((d, (int(k or 0), int(n or 0))) for d, k, n in db.execute(
        select(a.day, func.sum(case((a.arrived_at.is_not(None), 1), else_=0)), func.count())
        .where(a.site_id == site_id, a.day >= day_from, a.day <= day_to, a.status != "cancelled")
        .group_by(a.day)))
    out = []
    for d in _days(day_from, day_to):
        kiosk, total = rows.get(d, (0, 0))
        out.append((d.isoformat(), kiosk, total, round(100 * kiosk / total, 1) if total else None))
    return Table("kiosk_share", "Share of appointments checked in at a kiosk",
                 ("day", "at kiosk", "appointments", "percent"), out, "line")


def checkin_time(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    v = KioskVisit
    where = (v.site_id == site_id, v.day >= day_from, v.day <= day_to, v.checked_in.is_(True))
    minutes = v.seconds / 60.0
    if db.get_bind().dialect.name == "postgresql":
        found = {d: (float(m), int(n)) for d, m, n in db.execute(
            select(v.day, func.percentile_cont(0.5).within_group(minutes), func.count()).where(*where).group_by(v.day))}
    else:  # SQLite has no percentile: the median in Python
        grouped = defaultdict(list)
        for d, m in db.execute(select(v.day, minutes).where(*where)):
            grouped[d].append(m)
        found = {d: (statistics.median(ms), len(ms)) for d, ms in grouped.items()}
    rows = [(d.isoformat(), round(found[d][0], 2) if d in found else None, found.get(d, (0, 0))[1])
            for d in _days(day_from, day_to)]
    return Table("checkin_time", "Median check-in time at the kiosk (minutes)", ("day", "median minutes", "visits"),
                 rows, "line", "From the first screen to “You are checked in”, completed visits only.")


def funnel(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    steps = dropoff_funnel(db, site_id, day_from, day_to)
    return Table("funnel", "Where patients leave the kiosk (step by step)",
                 ("step", "started", "completed", "backed out", "abandoned"),
                 [(f.step, f.started, f.completed, f.backed_out, f.abandoned) for f in steps], "stacked")


def completion_by(db: Session, site_id: str, day_from: date, day_to: date, by: str) -> Table:
    v = KioskVisit
    group = {"language": v.language, "age_band": v.age_band, "visit_type": v.visit_type}[by]
    rows = db.execute(
        select(group, func.count(), func.sum(case((v.checked_in.is_(True), 1), else_=0)))
        .where(v.site_id == site_id, v.day >= day_from, v.day <= day_to).group_by(group).order_by(group))
    out = [(g or "unknown", int(started), int(done or 0), round(100 * (done or 0) / started, 1) if started else None)
           for g, started, done in rows]
    label = by.replace("_", " ")
    note = "A visit counts under the language it ended in." if by == "language" else ""
    return Table(f"completion_by_{by}", f"Check-ins completed, by {label}", (label, "started", "completed", "percent"),
                 out, "bar", note)


def signups(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    return Table("portal_signups", "Patient portal sign-ups from kiosk invitations", ("day", "sign-ups"),
                 [(d.isoformat(), n) for d, n in portal_signups(db, site_id, day_from, day_to)], "line")


def form_completion(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    f = FormResponse
    rows = db.execute(
        select(func.coalesce(f.questionnaire_title, f.questionnaire_url),
               func.sum(case((f.status == "completed", 1), else_=0)),
               func.sum(case((f.status != "completed", 1), else_=0)))
        .where(f.site_id == site_id, f.day >= day_from, f.day <= day_to)
        .group_by(func.coalesce(f.questionnaire_title, f.questionnaire_url)).order_by(func.count().desc()))
    return Table("form_completion", "Forms completed and left part-way", ("form", "completed", "part-way"),
                 [(name, int(c or 0), int(p or 0)) for name, c, p in rows], "stacked")


def copay_collected(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    v = VisitPayment
    found = {d: (int(c or 0), int(n)) for d, c, n in db.execute(
        select(v.day, func.sum(v.amount_cents), func.count())
        .where(v.site_id == site_id, v.state == "paid", v.day >= day_from, v.day <= day_to).group_by(v.day))}
    return Table("copay_collected", "Copays collected at the kiosk", ("day", "dollars", "payments"),
                 [(d.isoformat(), round(found.get(d, (0, 0))[0] / 100, 2), found.get(d, (0, 0))[1])
                  for d in _days(day_from, day_to)], "bar")


def satisfaction(db: Session, site_id: str, day_from: date, day_to: date) -> Table:
    r = SatisfactionRating
    weekly: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d, rating, n in db.execute(
            select(r.day, r.rating, func.count()).where(r.site_id == site_id, r.day >= day_from, r.day <= day_to)
            .group_by(r.day, r.rating)):
        weekly[d - timedelta(days=d.weekday())][rating - 1] += int(n)
    rows = []
    for week in sorted(weekly):
        hard, okay, easy = weekly[week]
        total = hard + okay + easy
        rows.append((week.isoformat(), hard, okay, easy, round((hard + 2 * okay + 3 * easy) / total, 2)))
    return Table("satisfaction", "How patients rated checking in (per week)",
                 ("week of", "hard", "okay", "easy", "average (1-3)"), rows, "stacked")


TABLES = {
    "kiosk_share": kiosk_share, "checkin_time": checkin_time, "funnel": funnel,
    "completion_by_language": lambda db, s, a, b: completion_by(db, s, a, b, "language"),
    "completion_by_age_band": lambda db, s, a, b: completion_by(db, s, a, b, "age_band"),
    "completion_by_visit_type": lambda db, s, a, b: completion_by(db, s, a, b, "visit_type"),
    "portal_signups": signups, "form_completion": form_completion, "copay_collected": copay_collected,
    "satisfaction": satisfaction,
}
