"""What a patient does at the kiosk, step by step, by touch: shared by the GUI tests."""
from __future__ import annotations

from kiosk import ui_driver as ui
from kiosk import ui_intake


def mdy(d):
    return f"{d.month:02d}{d.day:02d}{d.year}"


def identify(app, last_name: str, date_keys: str) -> None:
    ui.tap(app, "check_in")
    assert app.manager.current == "last_name"
    ui.type_keys(app, last_name)
    ui.tap(app, "next")
    assert app.manager.current == "birth_date"
    ui.type_keys(app, date_keys)
    ui.tap(app, "next")


def arrived_events(store):
    return [e for e in store.outbox_pending(1000) if e.event_type == "appointment.arrived"]


def check_in_to_review(app, last_name_keys, patient):
    d = patient.birth_date
    identify(app, last_name_keys, mdy(d))
    ui.tap(app, "yes_me")
    assert app.manager.current == "review_contact"


def check_in_until_stopped(app, last_name_keys, patient):
    """check_in_to_review, but stopping wherever the kiosk stops (the disk may fail at any write)."""
    d = patient.birth_date
    ui.tap(app, "check_in")
    for action, keys in (("next", last_name_keys), ("next", mdy(d))):
        if app.manager.current == "problem":
            return
        ui.type_keys(app, keys)
        ui.tap(app, action)
    if app.manager.current == "confirm":
        ui.tap(app, "yes_me")


def confirm_contact(app) -> None:
    """Contact details are right; no insurance card with me today; the copay at the desk;
    no portal for now: the visit is done."""
    ui.tap(app, "contact_ok")
    if app.manager.current == "insurance_card":
        ui.tap(app, "card_none")
    copay_at_desk(app)
    skip_portal(app)


def skip_portal(app) -> None:
    """"No, thank you" to the portal invitation, when it is offered."""
    if app.manager.current == "portal":
        ui.tap(app, "portal_no")


def copay_at_desk(app) -> None:
    """"Pay at the front desk", when a copay is asked."""
    ui_intake.pay_copay(app, by_card=False)


def finish_visit(app) -> None:
    """Past whatever optional steps are left (copay at the desk, no portal)."""
    copay_at_desk(app)
    skip_portal(app)
