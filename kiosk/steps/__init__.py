"""Journey steps that run after check-in, in order. Add a step here and a screen of the same name."""
from kiosk.flow import Step
from kiosk.steps.consent import ConsentStep
from kiosk.steps.copay import CopayStep
from kiosk.steps.forms import FormsStep
from kiosk.steps.insurance_card import InsuranceCardStep
from kiosk.steps.portal import PortalStep
from kiosk.steps.review_contact import ReviewContactStep


def default_steps(portal_signer=None, terminal_source=None) -> list[Step]:
    # Details first, then the card, the signatures and the copay the desk needs, then the
    # forms (the longest part, which a patient called in early can leave half done), and
    # the portal invitation last (optional, on the patient's phone).
    return [ReviewContactStep(), InsuranceCardStep(), ConsentStep(), CopayStep(terminal_source), FormsStep(),
            PortalStep(portal_signer)]
