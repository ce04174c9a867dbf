"""Journey steps that run after check-in, in order. Add a step here and a screen of the same name."""
from kiosk.flow import Step
from kiosk.steps.review_contact import ReviewContactStep


def default_steps() -> list[Step]:
    return [ReviewContactStep()]
