"""The staff dashboard (issue #8): web pages under /staff for front desk, clinicians
and IT, served by the practice server without any CDN.

    auth.py        sign-in, sessions, roles, idle logout, brute-force limits, PHI-view audit
    arrivals.py    arrivals per site and clinician, mark roomed (waiting_room.py: the data)
    live.py        the live stream (server-sent events) that keeps arrivals and alerts current
    alerts.py      alerts that need a person, dead letters with retry/resolve
    fleet.py       every kiosk for IT, silent ones flagged, revoke
    analytics.py   charts and CSV exports

Importing this package registers the dashboard tables on practice_server.models.Base.
"""

from fastapi import APIRouter

from . import models  # noqa: F401  (tables on Base.metadata)
from .alerts import router as alerts_router
from .analytics import router as analytics_router
from .arrivals import router as arrivals_router
from .auth import router as auth_router
from .fleet import router as fleet_router
from .live import router as live_router

router = APIRouter()
for _part in (auth_router, arrivals_router, alerts_router, live_router, fleet_router, analytics_router):
    router.include_router(_part)

__all__ = ["router"]
