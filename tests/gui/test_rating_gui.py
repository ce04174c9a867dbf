"""The one-tap satisfaction rating on the done screen: one tap, a thank-you, one event
with no PHI, and a fresh row for the next patient."""
from __future__ import annotations

import pytest

from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import confirm_contact, identify, mdy

pytestmark = pytest.mark.gui


def ratings(store) -> list[dict]:
    return [e.payload for e in store.outbox_pending(limit=500) if e.event_type == "visit.rated"]


def reach_done(app) -> None:
    maria = DEMO_PATIENTS["maria"]
    identify(app, "GARCIA LOPEZ", mdy(maria.birth_date))
    ui.tap(app, "yes_me")
    if app.manager.current == "review_contact":
        confirm_contact(app)
    assert app.manager.current == "done"


def test_one_tap_rates_the_check_in_and_says_thank_you(app, shot):
    reach_done(app)
    assert "How was checking in today? Tap one." in ui.texts(app)
    shot("done-rating")
    ui.tap(app, "rate_easy")
    assert "Thank you for telling us." in ui.texts(app)
    [rated] = ratings(app.store)
    assert rated["rating"] == 3 and rated["language"] == "en" and rated["age_band"] in ("40-64", "65+")
    maria = DEMO_PATIENTS["maria"]
    assert maria.last_name not in str(rated) and maria.birth_date.isoformat() not in str(rated)
    shot("done-rated")
    assert not ui.exists(app, "rate_hard")  # hidden and disabled: no second rating
    assert len(ratings(app.store)) == 1
    ui.tap(app, "finish")
    reach_done(app)  # the next patient gets the question again
    assert "How was checking in today? Tap one." in ui.texts(app)
