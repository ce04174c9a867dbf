import copy

import pytest

from kiosk.forms.scoring import (
    CALCULATED_EXPRESSION,
    CO_VALUE,
    ITEM_WEIGHT,
    ORDINAL_VALUE,
    ScoringError,
    read_scoring,
    score_response,
)
from tests.forms.scoring_helpers import PHQ9_ITEMS, items_for_total, move_score_extension, phq9, response


def without_calculation(raw_q: dict) -> dict:
    q = copy.deepcopy(raw_q)
    q.pop("extension")
    q["item"] = [i for i in q["item"] if "extension" not in i]
    return q


def test_phq9_total_from_calculated_expression():
    q = phq9()
    scores = {link_id: n % 4 for n, link_id in enumerate(PHQ9_ITEMS)}  # 0,1,2,3,0,1,2,3,0
    result = score_response(q, response(q, scores))
    assert result.total == 12
    assert result.total_link_id == "44261-6"
    assert result.item_scores["44258-2"] == 1


def test_calculated_total_is_null_when_nothing_answered():
    q = phq9()
    assert score_response(q, response(q, {})).total is None


@pytest.mark.parametrize("url", [ORDINAL_VALUE, ITEM_WEIGHT, CO_VALUE])
@pytest.mark.parametrize("onto_coding", [False, True])
def test_each_score_extension_on_option_or_coding(url, onto_coding):
    q = move_score_extension(phq9(), url, onto_coding)
    scores = items_for_total(17, item9=2)
    assert score_response(q, response(q, scores)).total == 17  # through weight()
    assert score_response(without_calculation(q), response(q, scores)).total == 17  # plain sum


def test_sum_without_calculated_expression_and_null_when_nothing_scorable():
    q = without_calculation(phq9())
    assert score_response(q, response(q, {"44250-9": 3, "44255-8": 2})).total == 5
    assert score_response(q, response(q, {})).total is None


def test_weight_is_per_item_for_reverse_scored_questions():
    q = phq9()
    for option in q["item"][0]["answerOption"]:  # reverse the first item only
        option["extension"][0]["valueDecimal"] = 3 - option["extension"][0]["valueDecimal"]
    assert score_response(q, response(q, {"44250-9": 0, "44255-8": 0})).total == 3


def test_ordinal_function_is_available():
    q = phq9()
    q["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%resource.item.answer.value.ordinal().sum()"
    assert score_response(q, response(q, items_for_total(4))).total == 4


def test_unknown_function_gives_scoring_error_naming_link_id_and_expression():
    q = phq9()
    q["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%answers.score().sum()"
    with pytest.raises(ScoringError) as caught:
        score_response(q, response(q, items_for_total(3)))
    assert caught.value.link_id == "44261-6"
    assert "%answers.score().sum()" in str(caught.value)
    assert "LA65" not in str(caught.value)  # no answer values


def test_non_numeric_result_is_a_scoring_error_without_answer_values():
    q = phq9()
    q["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%answers.code"
    with pytest.raises(ScoringError, match="single number") as caught:
        score_response(q, response(q, items_for_total(3)))
    assert "LA65" not in str(caught.value)


def test_read_scoring_reports_bad_expressions_and_unknown_score_extensions():
    q = phq9()
    q["item"][-1]["extension"] = [{"url": CALCULATED_EXPRESSION,
                                   "valueExpression": {"language": "text/cql", "expression": "Sum(x)"}}]
    q["item"][0]["answerOption"][0]["extension"] = [{"url": "http://example.org/myScore", "valueInteger": 0}]
    q["item"][1]["answerOption"][0]["extension"][0] = {"url": ORDINAL_VALUE, "valueString": "zero"}
    model = read_scoring(q)
    assert any("'44261-6'" in e and "text/cql" in e for e in model.errors)
    assert any("'44255-8'" in e and "no numeric value" in e for e in model.errors)
    assert any("'44250-9'" in w and "myScore" in w for w in model.warnings)


def test_unparseable_expression_is_an_error():
    q = phq9()
    q["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%answers.weight(.sum("
    assert any("does not parse" in e for e in read_scoring(q).errors)
