"""Journey steps that run after check-in, in order. Add a step here and a screen of the same name."""
from kiosk.flow import Step
from kiosk.steps.consent import ConsentStep
from kiosk.steps.forms import FormsStep
from kiosk.steps.insurance_card import InsuranceCardStep
from kiosk.steps.review_contact import ReviewContactStep


def default_steps() -> list[Step]:
    # Details first, then the card and the signatures the desk needs, then the forms
    # (the longest part, which a patient called in early can leave half done).
    return [ReviewContactStep(), InsuranceCardStep(), ConsentStep(), FormsStep()]
