"""Analytics (/staff/analytics, admins and clinicians): for a site and a date range, a
chart and its table for each question in practice_server/analytics.py, and each table as
CSV (/staff/analytics/<name>.csv). Charts are SVG images drawn on the server
(/staff/analytics/<name>.svg). Counts only, no patient data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import analytics, charts, schedule
from ..context import get_context
from .arrivals import choose_site
from .auth import require_staff
from .pages import refusal, render
from .sessions import StaffUser

router = APIRouter(prefix="/staff")
READERS = require_staff("clinician", "admin")
DEFAULT_DAYS = 30
MAX_DAYS = 366
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _range(request: Request, user: StaffUser, db, site_id: str, start: str | None, end: str | None,
           now) -> tuple[date, date]:
    today = schedule.local_today(choose_site(request, db, user, site_id)[0].timezone, now)
    try:
        day_to = date.fromisoformat(end) if end else today
        day_from = date.fromisoformat(start) if start else day_to - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise refusal(request, user, 400, "Dates not understood", "Use dates like 2026-11-01.") from None
    if day_from > day_to or (day_to - day_from).days >= MAX_DAYS:
        raise refusal(request, user, 400, "Range not possible",
                      f"Choose a start on or before the end, at most {MAX_DAYS} days apart.")
    return day_from, day_to


def _table(request, user, name, site, start, end):
    if name not in analytics.TABLES:
        raise refusal(request, user, 404, "No such table", "Go back to the analytics page.")
    ctx = get_context(request)
    with ctx.read() as db:
        chosen, _sites = choose_site(request, db, user, site)
        day_from, day_to = _range(request, user, db, chosen.id, start, end, ctx.clock())
        return chosen, analytics.TABLES[name](db, chosen.id, day_from, day_to), day_from, day_to


@router.get("/analytics")
def analytics_page(request: Request, site: str | None = None, start: str | None = None, end: str | None = None,
                   user: StaffUser = Depends(READERS)) -> Response:
    ctx = get_context(request)
    with ctx.read() as db:
        chosen, sites = choose_site(request, db, user, site)
        day_from, day_to = _range(request, user, db, chosen.id, start, end, ctx.clock())
        tables = [make(db, chosen.id, day_from, day_to) for make in analytics.TABLES.values()]
    query = f"site={chosen.id}&start={day_from}&end={day_to}"
    return render(request, "analytics.html", user, current="analytics", site=chosen, sites=sites, tables=tables,
                  start=day_from, end=day_to, query=query)


@router.get("/analytics/{name}.svg")
def chart(request: Request, name: str, site: str | None = None, start: str | None = None, end: str | None = None,
          user: StaffUser = Depends(READERS)) -> Response:
    _site, table, _a, _b = _table(request, user, name, site, start, end)
    return Response(charts.svg(table), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text  # a spreadsheet must not run it


@router.get("/analytics/{name}.csv")
def export(request: Request, name: str, site: str | None = None, start: str | None = None, end: str | None = None,
           user: StaffUser = Depends(READERS)) -> Response:
    chosen, table, day_from, day_to = _table(request, user, name, site, start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    filename = f"{name}-{day_from}-{day_to}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
