import datetime as dt

import pytest

from kiosk.forms.enable_when import enabled_link_ids, is_enabled
from kiosk.forms.questionnaire import Coding, parse_questionnaire
from tests.forms.conftest import LOINC


def gated(question_type: str, operator: str, answer_key: str, answer, **question):
    """A question 'src' and an item 'dep' shown only when `src <operator> answer`."""
    return parse_questionnaire({
        "resourceType": "Questionnaire",
        "item": [
            {"linkId": "src", "type": question_type, "text": "src", **question},
            {"linkId": "dep", "type": "string", "text": "dep",
             "enableWhen": [{"question": "src", "operator": operator, answer_key: answer}]},
        ],
    })


NUMBERS = [  # (operator, given answer, expected) against the value 5
    ("=", 5, True), ("=", 4, False),
    ("!=", 4, True), ("!=", 5, False),
    (">", 6, True), (">", 5, False),
    ("<", 4, True), ("<", 5, False),
    (">=", 5, True), (">=", 4, False),
    ("<=", 5, True), ("<=", 6, False),
]


@pytest.mark.parametrize("operator, given, expected", NUMBERS)
def test_integer_operators(operator, given, expected):
    q = gated("integer", operator, "answerInteger", 5)
    assert is_enabled(q, {"src": (given,)}, "dep") is expected


@pytest.mark.parametrize("operator, given, expected", NUMBERS)
def test_decimal_operators(operator, given, expected):
    q = gated("decimal", operator, "answerDecimal", 5.0)
    assert is_enabled(q, {"src": (float(given),)}, "dep") is expected


@pytest.mark.parametrize("operator, given, expected", NUMBERS)
def test_date_operators(operator, given, expected):
    q = gated("date", operator, "answerDate", "2024-01-05")
    assert is_enabled(q, {"src": (dt.date(2024, 1, given),)}, "dep") is expected


@pytest.mark.parametrize("operator, given, expected", [
    ("=", "b", True), ("=", "a", False), ("!=", "a", True), ("!=", "b", False),
    (">", "c", True), ("<", "a", True), (">=", "b", True), ("<=", "c", False),
])
def test_string_operators(operator, given, expected):
    q = gated("string", operator, "answerString", "b")
    assert is_enabled(q, {"src": (given,)}, "dep") is expected


@pytest.mark.parametrize("wanted, answers, expected", [
    (True, ("x",), True), (True, (), False), (False, (), True), (False, ("x",), False),
])
def test_exists(wanted, answers, expected):
    q = gated("string", "exists", "answerBoolean", wanted)
    assert is_enabled(q, {"src": answers}, "dep") is expected


@pytest.mark.parametrize("operator", ["=", ">", "<", ">=", "<="])
def test_unanswered_question_satisfies_no_comparison(operator):
    q = gated("integer", operator, "answerInteger", 5)
    assert is_enabled(q, {}, "dep") is False


def test_not_equals_holds_when_unanswered():
    # R4: "True if no answer has a value that is equal to the enableWhen answer."
    assert is_enabled(gated("integer", "!=", "answerInteger", 5), {}, "dep") is True


def test_boolean_equality_is_not_numeric():
    q = gated("boolean", "=", "answerBoolean", True)
    assert is_enabled(q, {"src": (True,)}, "dep")
    assert not is_enabled(q, {"src": (False,)}, "dep")
    assert not is_enabled(q, {"src": (1,)}, "dep")  # 1 == True in Python, not in FHIR


def test_repeating_answers_any_one_satisfies_and_not_equals_needs_none():
    q = gated("integer", "=", "answerInteger", 2, repeats=True)
    assert is_enabled(q, {"src": (1, 2, 3)}, "dep")
    q = gated("integer", "!=", "answerInteger", 2, repeats=True)
    assert not is_enabled(q, {"src": (1, 2, 3)}, "dep")
    assert is_enabled(q, {"src": (1, 3)}, "dep")


def test_coding_compares_system_and_code_not_display():
    options = [{"valueCoding": {"system": LOINC, "code": "LA6568-5"}}]
    q = gated("choice", "=", "answerCoding", {"system": LOINC, "code": "LA6568-5", "display": "Not at all"},
              answerOption=options)
    assert is_enabled(q, {"src": (Coding(LOINC, "LA6568-5", "something else"),)}, "dep")
    assert not is_enabled(q, {"src": (Coding("http://snomed.info/sct", "LA6568-5"),)}, "dep")
    assert not is_enabled(q, {"src": (Coding(LOINC, "LA6569-3"),)}, "dep")
    assert not is_enabled(q, {"src": ("LA6568-5",)}, "dep")  # free text is not the Coding


def test_bare_code_matches_any_system():
    q = gated("choice", "=", "answerCoding", {"code": "yes"}, answerOption=[{"valueCoding": {"code": "yes"}}])
    assert is_enabled(q, {"src": (Coding("http://x", "yes"),)}, "dep")


def two_conditions(behavior):
    return parse_questionnaire({
        "resourceType": "Questionnaire",
        "item": [
            {"linkId": "a", "type": "boolean", "text": "a"},
            {"linkId": "b", "type": "integer", "text": "b"},
            {"linkId": "dep", "type": "string", "text": "dep", "enableBehavior": behavior,
             "enableWhen": [{"question": "a", "operator": "=", "answerBoolean": True},
                            {"question": "b", "operator": ">", "answerInteger": 10}]},
        ],
    })


@pytest.mark.parametrize("a, b, when_all, when_any", [
    (True, 11, True, True), (True, 10, False, True), (False, 11, False, True), (False, 10, False, False),
])
def test_enable_behavior_all_and_any(a, b, when_all, when_any):
    answers = {"a": (a,), "b": (b,)}
    assert is_enabled(two_conditions("all"), answers, "dep") is when_all
    assert is_enabled(two_conditions("any"), answers, "dep") is when_any


def nested():
    return parse_questionnaire({
        "resourceType": "Questionnaire",
        "item": [
            {"linkId": "smoke", "type": "boolean", "text": "Do you smoke?"},
            {"linkId": "g", "type": "group",
             "enableWhen": [{"question": "smoke", "operator": "=", "answerBoolean": True}],
             "item": [
                 {"linkId": "packs", "type": "integer", "text": "Packs a day?"},
                 {"linkId": "inner", "type": "group", "item": [
                     {"linkId": "quit", "type": "boolean", "text": "Want to quit?"}]},
             ]},
            {"linkId": "heavy", "type": "boolean", "text": "Heavy",
             "enableWhen": [{"question": "packs", "operator": ">=", "answerInteger": 1}]},
        ],
    })


def test_disabled_group_disables_everything_below():
    q = nested()
    assert enabled_link_ids(q, {"smoke": (False,)}) == {"smoke"}
    assert enabled_link_ids(q, {"smoke": (True,)}) == {"smoke", "g", "packs", "inner", "quit"}


def test_answers_of_disabled_questions_do_not_count():
    q = nested()
    # 'packs' keeps an answer from before the patient changed 'smoke' to no.
    assert is_enabled(q, {"smoke": (True,), "packs": (2,)}, "heavy")
    assert not is_enabled(q, {"smoke": (False,), "packs": (2,)}, "heavy")
    assert not is_enabled(q, {"packs": (2,)}, "heavy")


def test_phq2_follow_up_any_of_two_not_equals(phq2):
    q = parse_questionnaire(phq2)
    not_at_all = Coding(LOINC, "LA6568-5")
    several = Coding(LOINC, "LA6569-3")
    assert not is_enabled(q, {"44250-9": (not_at_all,), "44255-8": (not_at_all,)}, "talk")
    assert is_enabled(q, {"44250-9": (not_at_all,), "44255-8": (several,)}, "talk")
    assert is_enabled(q, {"44250-9": (several,), "44255-8": (not_at_all,)}, "talk")
