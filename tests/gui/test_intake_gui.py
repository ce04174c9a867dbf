"""The intake after check-in, by touch: PHQ-9 and GAD-7 in English and Spanish, a consent
signed with a finger, the insurance card photographed from the replay camera."""
from __future__ import annotations

import base64
import hashlib

import cv2
import numpy as np
import pytest
from kivy.metrics import dp
from kivy.tests.common import UnitTestTouch

from kiosk import ui_driver as ui
from kiosk import ui_intake as intake
from kiosk.consent.documents import load_default_documents, text_for
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import check_in_to_review, copay_at_desk, finish_visit
from tests.logic.forms_helpers import GAD7_URL, ITEM_9, PHQ9_URL, bundle_of

GENERAL_INTAKE_URL = "http://clinic-kiosk.example/fhir/Questionnaire/general-intake"

pytestmark = pytest.mark.gui


def publish(app, forms=(), consents=False) -> None:
    """What the practice has published for this test: these forms, the default consents or none."""
    app.store.save_bundle("forms", {"kind": "forms", "items": bundle_of(*forms)}, "test")
    items = [d.as_dict() for d in load_default_documents()] if consents else []
    app.store.save_bundle("consents", {"kind": "consents", "items": items}, "test")


def pending(app, event_type):
    return [e.payload for e in app.store.outbox_pending(10_000) if e.event_type == event_type]


def to_intake(app, patient_key="maria", last_name="GARCIA LOPEZ") -> None:
    check_in_to_review(app, last_name, DEMO_PATIENTS[patient_key])
    ui.tap(app, "contact_ok")
    ui.tap(app, "card_none")
    copay_at_desk(app)


@pytest.mark.full_intake
def test_phq9_and_gad7_by_touch_in_english(app, shot):
    publish(app, forms=(PHQ9_URL, GAD7_URL))
    to_intake(app)
    assert app.manager.current == "forms"
    shot("intake-en-phq9-first")
    # Next without an answer: a plain message, the same question.
    ui.tap(app, "form_next")
    assert "Please answer this question." in ui.texts(app)
    shot("intake-en-required")
    pages = intake.fill_forms(app, choose=lambda page: 1 if page.options else None)  # "Several days"
    finish_visit(app)
    assert app.manager.current == "done"
    phq9, gad7 = pending(app, "form.response")
    assert phq9["questionnaire"]["url"] == PHQ9_URL and gad7["questionnaire"]["url"] == GAD7_URL
    assert (phq9["score"]["total"], phq9["score"]["band"]) == (9, "mild")
    assert (gad7["score"]["total"], gad7["status"]) == (7, "completed")
    assert pages >= 16  # 9 + 7 questions (and the difficulty question)
    assert pending(app, "alert.raised")  # item 9 "several days" is urgent: staff are told


@pytest.mark.full_intake
def test_phq9_and_gad7_by_touch_in_spanish_with_a_calm_message(app, shot):
    publish(app, forms=(PHQ9_URL, GAD7_URL))
    ui.tap(app, "language:es")
    walter = DEMO_PATIENTS["walter"]
    ui.tap(app, "check_in")
    ui.type_keys(app, "O'BRIEN")
    ui.tap(app, "next")
    d = walter.birth_date
    ui.type_keys(app, f"{d.day:02d}{d.month:02d}{d.year}")
    ui.tap(app, "next")
    ui.tap(app, "yes_me")
    ui.tap(app, "contact_ok")
    ui.tap(app, "card_none")
    copay_at_desk(app)
    assert "Ningún día" in ui.texts(app)
    shot("intake-es-phq9-first")
    seen_calm = []

    def choose(page):
        return 2 if page.link_id == ITEM_9 else (0 if page.options else None)

    def watch(label):
        seen_calm.append(label)
        assert "Gracias. Una persona de nuestro equipo lo atenderá en breve." in ui.texts(app)
        assert not any(str(n) in " ".join(ui.texts(app)) for n in ("puntuación", "score"))
        shot("intake-es-calm-message")

    intake.fill_forms(app, choose=choose, shot=watch)
    assert seen_calm == ["forms-calm-message"]
    finish_visit(app)
    assert app.manager.current == "done"
    [alert] = pending(app, "alert.raised")
    assert alert["flags"] == ["self-harm"]
    assert app.store.outbox_pending(1)[0].event_type == "alert.raised"  # first out of the kiosk
    phq9 = pending(app, "form.response")[0]
    assert phq9["language"] == "es" and phq9["score"]["total"] == 2


def test_an_arabic_answer_is_typed_on_arabic_letters_with_latin_a_key_away(app, shot):
    publish(app, forms=(GENERAL_INTAKE_URL,))
    to_intake(app)
    assert app.manager.current == "forms" and app.screen("forms").kind == "text"
    assert ui.exists(app, "key:Q") and not ui.exists(app, "key:switch")  # English: Latin letters only
    # The whole space bar types, its left end too (the hidden Back button lay over it).
    space = ui.find(app, "key: ")
    touch = UnitTestTouch(*space.to_window(space.x + dp(12), space.center_y))
    touch.touch_down()
    touch.touch_up()
    ui.pump(2)
    assert app.screen("forms")._entry.value == " "
    ui.type_keys(app, "\b")
    ui.type_keys(app, "X")
    ui.tap(app, "language:ar")  # she changes the language at the question
    assert ui.exists(app, "key:ض") and not ui.exists(app, "key:Q")  # Arabic letters first
    assert app.screen("forms")._entry.value == "X"  # what she had typed stays
    ui.type_keys(app, "\b")
    ui.type_keys(app, "ألم في الظهر")
    shot("intake-ar-typed-answer")
    ui.tap(app, "key:switch")
    assert ui.exists(app, "key:Q") and not ui.exists(app, "key:ض")
    shot("intake-ar-latin-letters")
    ui.type_keys(app, " L5")
    assert app.screen("forms")._entry.value == "ألم في الظهر L5"
    ui.tap(app, "form_next")
    ui.tap(app, "answer:0")  # Yes (allergies), then back to English: still chosen
    ui.tap(app, "language:en")
    assert [b.selected for b in app.screen("forms")._choices] == [True, False]
    ui.tap(app, "language:ar")
    intake.fill_forms(app)
    finish_visit(app)
    [response] = pending(app, "form.response")
    reason = next(i for i in response["response"]["item"] if i["linkId"] == "reason")
    assert reason["answer"] == [{"valueString": "ألم في الظهر L5"}]


@pytest.mark.full_intake
def test_back_keeps_the_answer_and_next_resumes(app, shot):
    publish(app, forms=(PHQ9_URL,))
    to_intake(app)
    ui.tap(app, "answer:3")
    ui.tap(app, "form_next")
    ui.tap(app, "answer:1")
    ui.tap(app, "form_next")
    ui.tap(app, "form_back")
    ui.tap(app, "form_back")
    screen = app.screen("forms")
    assert screen.position == 1
    assert [b.selected for b in screen._choices] == [False, False, False, True]
    shot("intake-en-back-keeps-answer")
    ui.tap(app, "form_next")
    assert [b.selected for b in app.screen("forms")._choices] == [False, True, False, False]


@pytest.mark.full_intake
def test_consent_is_signed_with_a_finger_and_a_scribble_is_refused(app, shot):
    publish(app, consents=True)
    to_intake(app)
    assert app.manager.current == "consent"
    shot("intake-consent-read")
    ui.tap(app, "consent_to_sign")
    ui.draw(app, "signature_pad", [(0.3, 0.6), (0.7, 0.6)])  # one straight line
    ui.tap(app, "consent_sign")
    assert "Please sign your name the way you usually do, not just a line." in ui.texts(app)
    shot("intake-consent-line-refused")
    ui.tap(app, "consent_clear")
    ui.sign(app)
    shot("intake-consent-signed")
    ui.tap(app, "consent_sign")
    [signed] = pending(app, "consent.signed")
    document = load_default_documents()[0]
    shown = text_for(document, "en")
    assert signed["document"]["id"] == document.id and signed["document"]["version"] == document.version
    assert signed["document"]["sha256"] == hashlib.sha256(shown.text.encode()).hexdigest()
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(signed["signature_png"]), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture.shape == (200, 600) and (picture < 128).sum() > 500  # ink on white
    # The other two documents: signed at the desk instead.
    while app.manager.current == "consent":
        ui.tap(app, "consent_defer")
    assert len(pending(app, "consent.deferred")) == 2
    finish_visit(app)
    assert app.manager.current == "done"
    history = app.store.patient_history(signed["patient_id"])
    assert f"consent:{document.id}@{document.version}" in history


@pytest.mark.full_intake
def test_card_is_photographed_from_the_replay_camera_with_a_retake(app, shot):
    publish(app)
    check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])
    ui.tap(app, "contact_ok")
    shot("intake-card-ask")
    ui.tap(app, "card_start")
    ui.wait_until(lambda: ui.exists(app, "card_keep"), 20)
    ui.tap(app, "card_retake")  # not happy with it: the camera comes back
    assert ui.exists(app, "card_take_photo")
    intake_photos = []

    for side in ("front", "back"):
        ui.wait_until(lambda: ui.exists(app, "card_keep"), 20)
        shot(f"intake-card-{side}")
        intake_photos.append(side)
        ui.tap(app, "card_keep")
    finish_visit(app)
    assert app.manager.current == "done"
    assert not app.card_camera().running, "the camera must be off once the patient has left the card step"
    photos = pending(app, "insurance_card.captured")
    assert [p["side"] for p in photos] == ["front", "back"]
    for photo in photos:
        jpeg = base64.b64decode(photo["image_jpeg"])
        assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) < 150_000
        assert photo["width"] <= 1000 and photo["capture"] == "auto"
    # Nothing of the photos outside the encrypted outbox: the screens forget them.
    app.end_visit("completed")
    assert app.screen("insurance_card").made_part("CardReviewPage").ids.photo.texture is None


@pytest.mark.full_intake
def test_without_a_working_camera_the_patient_is_sent_to_the_desk(app, shot):
    from hardware.camera import make_camera

    publish(app)
    kept, app._card_camera = app._card_camera, make_camera("opencv:/dev/video-that-is-not-there")
    try:
        check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])
        ui.tap(app, "contact_ok")
        ui.tap(app, "card_start")
        ui.wait_until(lambda: ui.exists(app, "card_continue"), 20)
        texts = " ".join(ui.texts(app))
        assert "Please show your insurance card at the front desk." in texts and "/dev/" not in texts
        shot("intake-card-no-camera")
        ui.tap(app, "card_continue")
        finish_visit(app)
        assert app.manager.current == "done"
        [skipped] = pending(app, "insurance_card.skipped")
        assert skipped["reason"] == "camera_unavailable"
    finally:
        app.release_card_camera()
        app._card_camera = kept
