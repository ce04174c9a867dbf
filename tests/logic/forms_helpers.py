"""Builders for the forms step tests: a journey whose only step after check-in is the forms."""

from __future__ import annotations

from kiosk.flow import Journey
from kiosk.forms.selection import default_forms_bundle
from kiosk.steps.forms import FormsStep

PHQ9_URL = "http://clinic-kiosk.example/fhir/Questionnaire/phq-9"
GAD7_URL = "http://clinic-kiosk.example/fhir/Questionnaire/gad-7"
ITEM_9 = "44260-8"


def bundle_of(*urls: str) -> dict:
    """The default forms bundle cut down to `urls`, each due at every visit."""
    full = default_forms_bundle()
    return {
        "questionnaires": [q for q in full["questionnaires"] if q["url"] in urls],
        "rules": full["rules"],
        "policy": [{"form": url, "visit_types": None, "min_age": None, "max_age": None,
                    "every_days": 365, "order": n} for n, url in enumerate(urls)],
    }


def forms_journey(store, clock, *urls: str) -> Journey:
    bundle = bundle_of(*urls)
    return Journey(store, [FormsStep(bundle_source=lambda _store: bundle)], clock)


def option(runner, index: int):
    """The value of the page's option number `index` (0 = "Not at all")."""
    return runner.page.options[index][0]


def answer_all(journey: Journey, choose) -> None:
    """Answer every page of the open forms: `choose(page)` gives the option index or values."""
    step = journey.step("forms")
    while journey.state == "forms":
        if step.showing_calm_message(journey):
            step.dismiss_calm_message(journey)
            continue
        runner = step.runner(journey)
        page = runner.page
        if page.kind != "display":
            picked = choose(page)
            values = [page.options[picked][0]] if isinstance(picked, int) else picked
            assert step.answer(journey, values) is None
        assert step.next(journey) is None
