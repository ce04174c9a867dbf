import copy

import pytest

from kiosk.forms.rules import RulesError, apply_rules, find_rules, load_rules, parse_rules
from kiosk.forms.scoring import ITEM_WEIGHT, read_scoring, score_response
from tests.forms.conftest import phq2_json
from tests.forms.scoring_helpers import items_for_total, move_score_extension, phq9, response


def outcome(raw_q: dict, scores: dict[str, int]):
    rules = find_rules(load_rules(), raw_q)
    assert rules is not None
    score = score_response(raw_q, response(raw_q, scores), total_link_id=rules.total_link_id)
    return score.total, apply_rules(rules, read_scoring(raw_q), score)


@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe"),
])
def test_phq9_bands_at_each_boundary(total, band):
    item9 = max(0, total - 24)  # 27 needs every item at 3, item 9 too
    got_total, result = outcome(phq9(), items_for_total(total, item9))
    assert (got_total, result.band) == (total, band)
    assert result.flags == (("self-harm",) if item9 else ())


def test_phq9_item9_positive_flags_self_harm_as_urgent_even_when_minimal():
    total, result = outcome(phq9(), items_for_total(1, item9=1))
    assert (total, result.band, result.flags, result.urgent) == (1, "minimal", ("self-harm",), True)


def test_no_band_when_nothing_answered():
    assert outcome(phq9(), {})[1].band is None


def test_phq9_published_elsewhere_with_item_weight_gets_same_band_and_flags():
    q = move_score_extension(phq9(), ITEM_WEIGHT, onto_coding=True)
    q["url"] = "http://other-publisher.example/Questionnaire/phq9"  # matched by code, not url
    for item in q["item"]:  # LHC-style linkIds: the flag finds item 9 by its code
        item["linkId"] = "/" + item["linkId"]
    q["extension"][0]["valueExpression"]["expression"] = "%resource.item.where(linkId != '/44261-6').answer.value"
    scores = {"/" + k: v for k, v in items_for_total(16, item9=2).items()}
    total, result = outcome(q, scores)
    assert (total, result.band, result.flags, result.urgent) == (16, "moderately severe", ("self-harm",), True)


def test_flag_found_by_item_code_when_link_id_is_opaque():
    q = phq9()
    for n, item in enumerate(q["item"]):
        item["linkId"] = f"q{n}"
    q["extension"][0]["valueExpression"]["expression"] = "%resource.item.where(linkId != 'q9').answer.value"
    scores = {"q0": 1, "q8": 1}  # q8 is item 9 (code 44260-8)
    assert outcome(q, scores)[1].flags == ("self-harm",)


@pytest.mark.parametrize("scores, band", [
    ({"44250-9": 1, "44255-8": 1}, "negative screen"),
    ({"44250-9": 2, "44255-8": 0}, "negative screen"),
    ({"44250-9": 2, "44255-8": 1}, "positive screen"),
    ({"44250-9": 3, "44255-8": 3}, "positive screen"),
])
def test_phq2_screen(scores, band):
    q = phq2_json()
    for item in q["item"][1]["item"]:
        item["answerOption"] = copy.deepcopy(phq9()["item"][0]["answerOption"])
    assert outcome(q, scores)[1].band == band


@pytest.mark.parametrize("total, band", [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
])
def test_gad7_bands(total, band):
    rules = find_rules(load_rules(), {"code": [{"system": "http://loinc.org", "code": "69737-5"}]})
    assert rules.name == "GAD-7" and rules.band_for(total) == band


def test_url_match_wins_over_code_match():
    mine = parse_rules({"name": "ours", "match": {"urls": ["http://example.org/fhir/Questionnaire/phq-9"]},
                        "bands": [{"min": 0, "max": 27, "band": "any"}]}, "ours.json")
    assert find_rules([*load_rules(), mine], phq9()).name == "ours"
    assert find_rules(load_rules(), {"code": [{"code": "0000-0"}]}) is None


@pytest.mark.parametrize("data, problem", [
    ({"name": "x", "bands": []}, "match"),
    ({"name": "x", "match": {"urls": ["u"]}, "bands": [{"min": 0, "max": 5, "band": "a"}, {"min": 5, "max": 9, "band": "b"}]}, "overlap"),
    ({"name": "x", "match": {"urls": ["u"]}, "flags": [{"flag": "f", "item": "i", "operator": "~", "score": 0}]}, "operator"),
])
def test_malformed_rules_are_refused_naming_the_file(data, problem):
    with pytest.raises(RulesError, match=f"bad.json.*{problem}"):
        parse_rules(data, "bad.json")
