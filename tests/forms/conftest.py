"""A small PHQ-2-like Questionnaire, written inline (LOINC codes from the public PHQ-2 panel)."""
import pytest

LOINC = "http://loinc.org"
NOT_AT_ALL = {"system": LOINC, "code": "LA6568-5", "display": "Not at all"}
SEVERAL_DAYS = {"system": LOINC, "code": "LA6569-3", "display": "Several days"}
MORE_THAN_HALF = {"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}
NEARLY_EVERY_DAY = {"system": LOINC, "code": "LA6571-9", "display": "Nearly every day"}
FREQUENCY_OPTIONS = [
    {"valueCoding": c} for c in (NOT_AT_ALL, SEVERAL_DAYS, MORE_THAN_HALF, NEARLY_EVERY_DAY)
]


def phq2_json() -> dict:
    return {
        "resourceType": "Questionnaire",
        "url": "http://example.org/fhir/Questionnaire/phq-2",
        "version": "1.0",
        "status": "active",
        "title": "PHQ-2",
        "code": [{"system": LOINC, "code": "55757-9", "display": "PHQ-2"}],
        "item": [
            {"linkId": "intro", "type": "display", "text": "Over the last 2 weeks, how often..."},
            {
                "linkId": "phq2",
                "type": "group",
                "item": [
                    {"linkId": "44250-9", "type": "choice", "required": True,
                     "text": "Little interest or pleasure in doing things",
                     "answerOption": FREQUENCY_OPTIONS},
                    {"linkId": "44255-8", "type": "choice", "required": True,
                     "text": "Feeling down, depressed, or hopeless",
                     "answerOption": FREQUENCY_OPTIONS},
                ],
            },
            {
                "linkId": "talk",
                "type": "boolean",
                "required": True,
                "text": "Would you like to talk to someone today?",
                "enableWhen": [
                    {"question": "44250-9", "operator": "!=", "answerCoding": NOT_AT_ALL},
                    {"question": "44255-8", "operator": "!=", "answerCoding": NOT_AT_ALL},
                ],
                "enableBehavior": "any",
            },
            {"linkId": "comment", "type": "string", "maxLength": 20, "text": "Anything else?"},
        ],
    }


@pytest.fixture
def phq2() -> dict:
    return phq2_json()
