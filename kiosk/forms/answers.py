"""A patient's answers to one Questionnaire: validate, walk, and turn into a QuestionnaireResponse.

Answers are PHI: errors carry a stable id and a plain message for the screen, never the value.
Answers of a question that becomes disabled are kept (the patient may change their mind and
re-enable it) but are neither counted by enableWhen nor sent.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.forms.enable_when import EnableWhenEvaluator
from kiosk.forms.questionnaire import (
    BOOLEAN,
    CHOICE,
    DATE,
    DECIMAL,
    DISPLAY,
    GROUP,
    INTEGER,
    OPEN_CHOICE,
    STRING,
    TEXT,
    Coding,
    Item,
    Questionnaire,
    Value,
)
from kiosk.i18n_markers import N_

COMPLETED = "completed"
IN_PROGRESS = "in-progress"


@dataclass(frozen=True)
class AnswerError:
    error_id: str  # stable, for screens and drop-off analytics
    message: str  # marked for translation; the screen translates it


REQUIRED = AnswerError("required", N_("Please answer this question."))
ONE_ANSWER_ONLY = AnswerError("one_answer_only", N_("Please choose only one answer."))
NOT_ANSWERABLE = AnswerError("not_answerable", N_("This item does not take an answer."))
READ_ONLY = AnswerError("read_only", N_("This answer cannot be changed."))
NOT_YES_NO = AnswerError("not_yes_no", N_("Please answer yes or no."))
NOT_WHOLE_NUMBER = AnswerError("not_whole_number", N_("Please enter a whole number."))
NOT_A_NUMBER = AnswerError("not_a_number", N_("Please enter a number."))
NOT_A_DATE = AnswerError("not_a_date", N_("Please enter a date."))
NOT_TEXT = AnswerError("not_text", N_("Please type your answer."))
TOO_LONG = AnswerError("too_long", N_("This answer is too long. Please shorten it."))
NOT_AN_OPTION = AnswerError("not_an_option", N_("Please choose one of the answers shown."))


class IncompleteForm(ValueError):
    """A completed response was asked for while required questions are unanswered."""

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)  # linkIds only: no answers, no PHI
        super().__init__(f"required questions unanswered: {', '.join(self.missing)}")


def _match_option(item: Item, value: Value) -> Value | None:
    """The option the value stands for (so a Coding answer gets the option's system/display)."""
    for option in item.answer_options:
        expected = option.value
        if isinstance(expected, Coding):
            if isinstance(value, Coding) and value.matches(expected):
                return expected
        elif type(value) is type(expected) and value == expected:
            return expected
    return None


def _check_value(item: Item, value: Value) -> tuple[Value | None, AnswerError | None]:
    """Check one value; returns (value as stored, None) or (None, error)."""
    kind = item.type
    if kind == BOOLEAN:
        return (value, None) if isinstance(value, bool) else (None, NOT_YES_NO)
    if kind == INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return (value, None) if ok else (None, NOT_WHOLE_NUMBER)
    if kind == DECIMAL:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return (float(value), None) if ok else (None, NOT_A_NUMBER)
    if kind == DATE:
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return (value, None) if ok else (None, NOT_A_DATE)
    if kind in (STRING, TEXT):
        if not isinstance(value, str):
            return None, NOT_TEXT
        if not value.strip():
            return None, REQUIRED if item.required else NOT_TEXT
        if item.max_length is not None and len(value) > item.max_length:
            return None, TOO_LONG
        return value, None
    if kind in (CHOICE, OPEN_CHOICE):
        option = _match_option(item, value)
        if option is not None:
            return option, None
        if kind == OPEN_CHOICE and isinstance(value, str) and value.strip():
            if item.max_length is not None and len(value) > item.max_length:
                return None, TOO_LONG
            return value, None  # the patient's own words: open-choice allows them
        return None, NOT_AN_OPTION
    return None, NOT_ANSWERABLE


def validate_answer(item: Item, values: Sequence[Value]) -> tuple[tuple[Value, ...], AnswerError | None]:
    """Check the answers a patient gives to one item.

    Returns the values as they will be stored (choice answers become the matching option) and
    None, or () and the first error. An empty sequence means "no answer".
    """
    if not item.is_question:
        return (), NOT_ANSWERABLE
    if item.read_only:
        return (), READ_ONLY
    if not values:
        return (), REQUIRED if item.required else None
    if len(values) > 1 and not item.repeats:
        return (), ONE_ANSWER_ONLY
    stored: list[Value] = []
    for value in values:
        checked, error = _check_value(item, value)
        if error is not None:
            return (), error
        assert checked is not None
        if checked not in stored:  # choosing the same option twice is one answer
            stored.append(checked)
    return tuple(stored), None


class FormAnswers:
    """The answers given so far to one Questionnaire, by linkId."""

    def __init__(self, questionnaire: Questionnaire, *, use_initial: bool = True):
        self.questionnaire = questionnaire
        self._answers: dict[str, tuple[Value, ...]] = {}
        if use_initial:
            for item in questionnaire.walk():
                if not item.is_question:
                    continue
                initial = item.initial or tuple(o.value for o in item.answer_options if o.initial_selected)
                if initial:
                    self._answers[item.link_id] = initial if item.repeats else initial[:1]

    def get(self, link_id: str) -> tuple[Value, ...]:
        return self._answers.get(link_id, ())

    def as_mapping(self) -> dict[str, tuple[Value, ...]]:
        return dict(self._answers)

    def set(self, link_id: str, values: Sequence[Value]) -> AnswerError | None:
        """Store the answers if they are valid; otherwise keep the old ones and return the error."""
        item = self.questionnaire.by_link_id[link_id]  # KeyError: the screen asked for a wrong id
        stored, error = validate_answer(item, values)
        if error is not None:
            return error
        if stored:
            self._answers[link_id] = stored
        else:
            self._answers.pop(link_id, None)
        return None

    def clear(self, link_id: str) -> None:
        """Forget an answer (e.g. the patient taps "clear"); required-ness is checked at the end."""
        if link_id not in self.questionnaire.by_link_id:
            raise KeyError(link_id)
        self._answers.pop(link_id, None)

    def _evaluator(self) -> EnableWhenEvaluator:
        return EnableWhenEvaluator(self.questionnaire, self._answers)

    def enabled_items(self, *, include_display: bool = False) -> list[Item]:
        """The items to show one per screen, in order: enabled questions (and display texts)."""
        evaluator = self._evaluator()
        wanted = [i for i in self.questionnaire.walk() if i.is_question or (include_display and i.type == DISPLAY)]
        return [i for i in wanted if evaluator.is_enabled(i.link_id)]

    def missing_required(self) -> list[str]:
        evaluator = self._evaluator()
        return [
            item.link_id
            for item in self.questionnaire.walk()
            if item.is_question and item.required and evaluator.is_enabled(item.link_id)
            and not self._answers.get(item.link_id)
        ]

    def is_complete(self) -> bool:
        return not self.missing_required()

    def to_response(self, status: str, *, authored: str | None = None) -> dict[str, Any]:
        """A FHIR R4 QuestionnaireResponse as a dict. "completed" needs every enabled required
        answer (IncompleteForm otherwise); "in-progress" is for partial forms (timeout, crash)."""
        if status not in (COMPLETED, IN_PROGRESS):
            raise ValueError(f"unsupported response status {status!r}")
        if status == COMPLETED:
            missing = self.missing_required()
            if missing:
                raise IncompleteForm(missing)
        evaluator = self._evaluator()
        response: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": status}
        canonical = self.questionnaire.canonical()
        if canonical:
            response["questionnaire"] = canonical
        if authored:
            response["authored"] = authored
        items = self._response_items(self.questionnaire.items, evaluator)
        if items:
            response["item"] = items
        return response

    def _response_items(self, items: Sequence[Item], evaluator: EnableWhenEvaluator) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if item.type == DISPLAY or not evaluator.is_enabled(item.link_id):
                continue  # disabled: its answers are dropped, as R4 requires
            children = self._response_items(item.items, evaluator)
            entry: dict[str, Any] = {"linkId": item.link_id}
            if item.text:
                entry["text"] = item.text
            if item.type == GROUP:
                if not children:
                    continue
                entry["item"] = children
                out.append(entry)
                continue
            answers = [_answer_json(item, v) for v in self._answers.get(item.link_id, ())]
            if answers:
                # Items nested under a question belong under its answer (R4 qrs-1).
                if children:
                    answers[0]["item"] = children
                entry["answer"] = answers
            elif children:
                entry["item"] = children  # unanswered question: keep its children's answers
            else:
                continue
            out.append(entry)
        return out


def _coding_json(coding: Coding) -> dict[str, str]:
    out = {"code": coding.code}
    if coding.system:
        out["system"] = coding.system
    if coding.display:
        out["display"] = coding.display
    return out


def _answer_json(item: Item, value: Value) -> dict[str, Any]:
    if isinstance(value, Coding):
        return {"valueCoding": _coding_json(value)}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if item.type == DECIMAL:
        return {"valueDecimal": float(value)}  # type: ignore[arg-type]
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, dt.date):
        return {"valueDate": value.isoformat()}
    return {"valueString": value}
