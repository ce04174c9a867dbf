"""Patient portal enrolment from the kiosk's QR invitation (issue #6).

    router           the pages under /portal (routes.py); app.py includes it
    portal_signups   sign-ups per site and local day, for the dashboard (signups.py)

Importing this package registers the portal tables on practice_server.models.Base.
"""

from .models import PortalAccount, PortalAttempt, PortalInvitationUse, PortalSession
from .routes import router
from .signups import portal_signups

__all__ = ["PortalAccount", "PortalAttempt", "PortalInvitationUse", "PortalSession", "portal_signups", "router"]
