"""The audio-and-keypad mode in the real window: a whole check-in with key presses only.

The speech engine gets a recording backend, so the test checks what a patient wearing
headphones would have heard at every step, in order.
"""
from __future__ import annotations

import time

import pytest

from kiosk import audio_keys as keys
from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import mdy
from tests.logic.forms_helpers import PHQ9_URL
from tests.gui.test_intake_gui import pending, publish

pytestmark = pytest.mark.gui

MAX_PRESSES = 60


def said(backend) -> str:
    return " | ".join(u.text for u in backend.utterances)


def hears(backend, words: str, timeout: float = 8.0) -> bool:
    """Speech is asynchronous (the guide looks a few times a second; the speaker has its
    own thread): wait, running frames, until `words` have been heard. On failure the
    assertion shows everything that was said."""
    try:
        ui.wait_until(lambda: words.lower() in said(backend).lower(), timeout)
    except TimeoutError:
        raise AssertionError(f"never heard {words!r}; heard: {said(backend)}") from None
    return True


def last_said(backend) -> str:
    return backend.utterances[-1].text if backend.utterances else ""


def focus(app, action: str) -> None:
    """Press the down arrow until the focus ring is on `action` (as a listener would)."""
    for _ in range(MAX_PRESSES):
        widget = app.audio.focused()
        if widget is not None and getattr(widget, "action", "") == action:
            return
        ui.press_key(keys.DOWN)
    raise AssertionError(f"the focus never reached {action!r} on {app.manager.current!r}")


def choose(app, action: str) -> None:
    focus(app, action)
    ui.press_key(keys.ENTER, frames=4)


@pytest.mark.full_intake
def test_whole_check_in_by_keys_only(app, heard, shot):
    publish(app, forms=(PHQ9_URL,))
    patient = DEMO_PATIENTS["maria"]

    ui.press_key(keys.ENTER)  # any keypad key on the welcome screen turns the mode on
    assert app.audio.on
    assert hears(heard, "Audio help is on") and hears(heard, "Welcome to")
    assert app.visit_idle.warn_after == app.kiosk_config.idle_warning_seconds * 3
    shot("audio-welcome-focus")

    choose(app, "check_in")
    assert app.manager.current == "last_name"
    assert hears(heard, "What is your last name?")
    ui.type_on_keyboard("garcia lopez")
    assert app.screen("last_name").ids.entry.value == "GARCIA LOPEZ"
    assert hears(heard, "| Z") and last_said(heard) == "Z"  # every key is echoed
    choose(app, "next")

    assert app.manager.current == "birth_date"
    assert hears(heard, "What is your date of birth?")
    ui.type_on_keyboard(mdy(patient.birth_date))
    choose(app, "next")

    assert app.manager.current == "confirm"
    assert hears(heard, "Is this you?")
    choose(app, "yes_me")

    assert app.manager.current == "review_contact"
    shot("audio-review-focus")
    choose(app, "contact_ok")
    if app.manager.current == "insurance_card":
        choose(app, "card_none")
    if app.manager.current == "copay":
        choose(app, "copay_desk")

    assert app.manager.current == "forms"
    assert hears(heard, "Little interest or pleasure in doing things")
    shot("audio-form-question")
    questions = 0
    while app.manager.current == "forms" and questions < 20:
        before = len(heard.utterances)
        choose(app, "answer:0")  # "Not at all"
        assert hears(heard, "Not at all, selected") and len(heard.utterances) > before
        choose(app, "form_next")
        questions += 1
    assert questions >= 9

    if app.manager.current == "portal":
        choose(app, "portal_no")
    assert app.manager.current == "done"
    assert hears(heard, "You are checked in")
    response, = pending(app, "form.response")
    assert response["score"]["total"] == 0


def test_help_repeat_more_time_volume_and_back(app, heard):
    ui.press_key(keys.F1)  # the help key anywhere turns the mode on
    assert app.audio.on
    choose(app, "check_in")
    ui.press_key(keys.F1)
    assert hears(heard, "Press Enter to choose.")
    count = len(heard.utterances)
    ui.press_key(keys.F2)
    assert hears(heard, "What is your last name?") and "last name" in heard.texts[count].lower()

    # Quiet past the (longer) warning time: the warning opens and is read out.
    app.visit_idle.last_activity = time.monotonic() - app.visit_idle.warn_after - 1
    ui.wait_until(lambda: app.warning is not None, 3)
    ui.pump(5)
    assert hears(heard, "still there")
    ui.press_key(keys.F3)
    assert hears(heard, "You have more time.") and app.warning is None

    volume = app.speaker().volume
    ui.press_key(keys.KP_MINUS)
    assert app.speaker().volume == volume - 10
    assert hears(heard, "percent")

    ui.press_key(keys.ESCAPE, frames=4)  # Escape is Back (the kiosk still never quits)
    assert app.manager.current == "welcome"


def test_the_mode_turns_off_for_the_next_patient(app, heard):
    ui.tap(app, "audio_mode")  # by touch too
    assert app.audio.on
    choose(app, "check_in")
    ui.tap(app, "start_over")
    assert not app.audio.on
    assert app.visit_idle.warn_after == app.kiosk_config.idle_warning_seconds
