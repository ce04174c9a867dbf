"""The forms step: choice of forms, saving as the patient goes, escalation, partial forms."""

from __future__ import annotations

from datetime import timedelta

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from forms_helpers import GAD7_URL, ITEM_9, PHQ9_URL, answer_all, forms_journey
from logic_helpers import MARIA_BORN, events, identify
from kiosk.flow import DONE
from kiosk.forms.selection import history_key
from kiosk.steps.forms import CALM_MESSAGE, FormsStep


def checked_in(store, clock, *urls):
    journey = forms_journey(store, clock, *urls)
    identify(journey, "García-López", MARIA_BORN)
    journey.confirm(True)
    return journey


def test_a_completed_phq9_is_one_response_scored_and_remembered(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    assert journey.state == "forms"
    answer_all(journey, lambda page: 1 if page.options else [])  # "several days" throughout
    assert journey.state == DONE
    [sent] = events(demo_store, "form.response")
    payload = sent.payload
    assert payload["status"] == "completed" and payload["score"]["total"] == 9
    assert payload["score"]["band"] == "mild" and payload["score"]["flags"] == ["self-harm"]
    QuestionnaireResponse.model_validate({**payload["response"], "resourceType": "QuestionnaireResponse"})
    patient = journey.session.appointment.patient_id
    assert history_key(PHQ9_URL) in demo_store.patient_history(patient)
    assert demo_store.open_drafts() == []


def test_a_form_done_this_year_is_not_asked_again(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL, GAD7_URL)
    answer_all(journey, lambda page: 0 if page.options else [])
    journey.end("completed")
    clock.advance(60)
    again = checked_in(demo_store, clock, PHQ9_URL, GAD7_URL)  # same patient, same day
    assert again.state == DONE


def test_self_harm_raises_an_urgent_alert_at_once_and_a_calm_message_after_the_form(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    step = journey.step("forms")
    alerts = []
    while True:
        runner = step.runner(journey)
        page = runner.page
        index = 2 if page.link_id == ITEM_9 else 0
        assert step.answer(journey, [page.options[index][0]]) is None
        assert step.next(journey) is None
        if page.link_id == ITEM_9:
            # Raised with the answer, before the form is done: a patient who walks away still gets help.
            alerts = events(demo_store, "alert.raised")
            break
    [alert] = alerts
    assert alert.payload["flags"] == ["self-harm"] and alert.payload["priority"] == "high"
    assert demo_store.outbox_pending(1)[0].event_type == "alert.raised"  # sent before the backlog
    assert "total" not in alert.payload and "score" not in alert.payload
    while not step.showing_calm_message(journey):
        page = step.runner(journey).page
        if page.options:
            step.answer(journey, [page.options[0][0]])
        step.next(journey)
    assert CALM_MESSAGE == "Thank you. A member of our team will be with you shortly."
    step.dismiss_calm_message(journey)
    assert journey.state == DONE
    assert len(events(demo_store, "alert.raised")) == 1  # once per form, not once per answer


def test_required_answers_are_enforced_with_a_plain_message(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    step = journey.step("forms")
    error = step.next(journey)
    assert error is not None and error.message == "Please answer this question."
    assert step.runner(journey).position == 1


def test_back_keeps_answers_and_forward_resumes(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    step = journey.step("forms")
    for index in (3, 2):
        page = step.runner(journey).page
        step.answer(journey, [page.options[index][0]])
        step.next(journey)
    assert step.back(journey) and step.back(journey)
    runner = step.runner(journey)
    assert runner.position == 1 and runner.page.answer == (runner.page.options[3][0],)
    step.next(journey)
    assert step.runner(journey).page.answer == (step.runner(journey).page.options[2][0],)


def test_a_timeout_sends_the_confirmed_answers_as_a_partial_form(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL, GAD7_URL)
    step = journey.step("forms")
    for _ in range(3):
        page = step.runner(journey).page
        step.answer(journey, [page.options[1][0]])
        step.next(journey)
    page = step.runner(journey).page
    step.answer(journey, [page.options[3][0]])  # chosen but not confirmed with Next
    journey.end("timeout")
    [partial] = events(demo_store, "form.response")
    assert partial.payload["status"] == "in-progress"
    groups = [g for g in partial.payload["response"]["item"] if g["linkId"] == "frequency"]
    answered = [i for i in groups[0]["item"] if i.get("answer")]
    assert len(answered) == 3  # the three confirmed answers, not the unconfirmed fourth
    assert demo_store.open_drafts() == []
    patient_forms = demo_store.patient_history(partial.payload["patient_id"])
    assert history_key(PHQ9_URL) not in patient_forms  # partial is not "done this year"
    abandoned = [e.payload for e in events(demo_store, "step.event") if e.payload["step"] == "form:phq-9"]
    assert abandoned[-1]["action"] == "abandoned" and abandoned[-1]["reason"] == "timeout"


def test_a_crash_leaves_a_draft_that_the_next_start_sends_as_partial(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    step = journey.step("forms")
    for _ in range(2):
        page = step.runner(journey).page
        step.answer(journey, [page.options[2][0]])
        step.next(journey)
    # The process dies here: no end(), the session is gone. At the next start:
    assert len(demo_store.open_drafts()) == 1
    FormsStep().recover(demo_store, clock() + timedelta(minutes=5))
    [partial] = events(demo_store, "form.response")
    assert partial.payload["status"] == "in-progress" and partial.payload["score"]["total"] == 4
    assert demo_store.open_drafts() == []
    FormsStep().recover(demo_store, clock() + timedelta(minutes=6))  # nothing twice
    assert len(events(demo_store, "form.response")) == 1


def test_switching_language_mid_form_keeps_the_answers_and_changes_the_words(demo_store, clock):
    journey = checked_in(demo_store, clock, PHQ9_URL)
    step = journey.step("forms")
    english = step.runner(journey).page.text
    journey.set_language("es")
    spanish = step.runner(journey).page
    assert spanish.text != english and spanish.options[0][1] == "Ningún día"
