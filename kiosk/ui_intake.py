"""Go through the steps after check-in by touch, as a patient would (demo tour and GUI tests).

Every action is a tap or a drag on a real control found by its `action` name; nothing here
calls the journey directly.
"""
from __future__ import annotations

from collections.abc import Callable

from kiosk import ui_driver as ui

CAMERA_TIMEOUT = 20.0  # seconds for the replay camera to show a steady card and the capture


def photograph_card(app, shot: Callable[[str], None] | None = None) -> None:
    """Yes, I have my card: wait for the automatic capture of each side and keep it."""
    ui.tap(app, "card_start")
    screen = app.screen("insurance_card")
    for side in ("front", "back"):
        ui.wait_until(lambda: ui.exists(app, "card_keep"), CAMERA_TIMEOUT)
        if shot:
            shot(f"card-{side}-review")
        ui.tap(app, "card_keep")
        if side == "front":
            assert screen.side == "back" or app.manager.current != "insurance_card"


def sign_consents(app, shot: Callable[[str], None] | None = None, sign: int = 99) -> None:
    """Read and sign the first `sign` documents; the rest are left for the front desk."""
    number = 0
    while app.manager.current == "consent":
        number += 1
        if shot and number == 1:
            shot("consent-read")
        if number > sign:
            ui.tap(app, "consent_defer")
            continue
        ui.tap(app, "consent_to_sign")
        ui.sign(app)
        if shot and number == 1:
            shot("consent-signed")
        ui.tap(app, "consent_sign")


def fill_forms(app, choose: Callable[[object], object] | None = None,
               shot: Callable[[str], None] | None = None, shots_every: int = 0) -> int:
    """Answer every form page until the forms are done; returns how many pages were answered.

    `choose(page)` gives an option index to tap, a string to type, or None for the first
    option / "No" / a short typed answer. A calm message (after an urgent answer) is read
    and continued."""
    pages = 0
    while app.manager.current == "forms":
        if ui.exists(app, "calm_continue"):
            if shot:
                shot("forms-calm-message")
            ui.tap(app, "calm_continue")
            continue
        runner = app.journey.step("forms").runner(app.journey)
        page = runner.page
        picked = choose(page) if choose else None
        screen = app.screen("forms")
        if screen.kind == "choice":
            default = 1 if page.item_type == "boolean" or page.kind == "add_another" else 0  # "No", or the first
            ui.tap(app, f"answer:{picked if isinstance(picked, int) else default}")
        elif screen.kind == "text":
            ui.type_keys(app, picked if isinstance(picked, str) else "CHECK UP")
        elif screen.kind == "number":
            ui.type_keys(app, picked if isinstance(picked, str) else "1")
        pages += 1
        if shot and shots_every and pages % shots_every == 1:
            shot(f"forms-page-{pages:02d}")
        ui.tap(app, "form_next")
    return pages


def pay_copay(app, shot: Callable[[str], None] | None = None, by_card: bool = True) -> None:
    """Pay the copay on the card reader (and skip the receipt), or choose the front desk."""
    if app.manager.current != "copay":
        return
    if shot:
        shot("copay")
    if not by_card:
        ui.tap(app, "copay_desk")
        return
    ui.tap(app, "copay_card")
    ui.wait_until(lambda: not ui.exists(app, "copay_cancel"), 60)  # the reader answered
    if shot:
        shot("copay-result")
    for action in ("receipt_no", "copay_continue", "copay_desk"):
        if ui.exists(app, action):
            ui.tap(app, action)
            return


def skip_portal(app, shot: Callable[[str], None] | None = None) -> None:
    if app.manager.current == "portal":
        if shot:
            shot("portal")
        ui.tap(app, "portal_done")
