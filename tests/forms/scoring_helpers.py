"""The PHQ-9 under data/ and responses to it, for the scoring, rules and CLI tests."""
import copy
import json
from pathlib import Path

from kiosk.forms.answers import IN_PROGRESS, FormAnswers
from kiosk.forms.questionnaire import Coding, parse_questionnaire
from tests.forms.conftest import LOINC

DATA = Path(__file__).with_name("data")
PHQ9_ITEMS = ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8")
CODES_BY_SCORE = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def phq9() -> dict:
    return json.loads((DATA / "phq-9.json").read_text())


def response(raw_q: dict, scores: dict[str, int]) -> dict:
    """A QuestionnaireResponse built by the engine, choosing the option worth each score."""
    answers = FormAnswers(parse_questionnaire(raw_q))
    for link_id, score in scores.items():
        assert answers.set(link_id, [Coding(LOINC, CODES_BY_SCORE[score])]) is None
    return answers.to_response(IN_PROGRESS)


def items_for_total(total: int, item9: int = 0) -> dict[str, int]:
    """Scores for the nine items adding up to `total`, with item 9 fixed."""
    scores = {"44260-8": item9}
    left = total - item9
    for link_id in PHQ9_ITEMS[:-1]:
        scores[link_id] = min(3, left)
        left -= scores[link_id]
    assert left == 0
    return scores


def move_score_extension(raw_q: dict, url: str, onto_coding: bool) -> dict:
    """The same PHQ-9, but its option scores published with another extension / on the Coding."""
    q = copy.deepcopy(raw_q)
    for item in q["item"]:
        for option in item.get("answerOption", []):
            (ext,) = option.pop("extension")
            target = option["valueCoding"] if onto_coding else option
            target["extension"] = [{"url": url, "valueDecimal": ext["valueDecimal"]}]
    return q
