"""A patient's answers to one Questionnaire: validate, walk, and turn into a QuestionnaireResponse.

Answers are PHI: errors carry a stable id and a plain message for the screen, never the value.
Answers of a question that becomes disabled are kept (the patient may change their mind and
re-enable it) but are neither counted by enableWhen nor sent.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
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
    Instance,
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


Key = tuple[str, Instance]


class FormAnswers:
    """The answers given so far to one Questionnaire, by linkId and instance.

    Every method takes an optional `instance` (see questionnaire.py): the tuple of repeating
    group indexes, outermost first. Left out (or too short) it means the first instance, so a
    form without repeating groups never needs one. Each repeating group has 1 instance until
    told otherwise; answers of instances beyond the count are kept (the patient may add the
    entry back) but, like answers of disabled questions, neither counted nor sent.
    """

    def __init__(self, questionnaire: Questionnaire, *, use_initial: bool = True):
        self.questionnaire = questionnaire
        self._use_initial = use_initial
        self._answers: dict[Key, tuple[Value, ...]] = {}  # () stored = cleared on purpose
        self._counts: dict[Key, int] = {}  # (group linkId, parent instance) -> instances
        self._initial: dict[str, tuple[Value, ...]] = {}
        for item in questionnaire.walk():
            if item.is_question:
                initial = item.initial or tuple(o.value for o in item.answer_options if o.initial_selected)
                if initial:
                    self._initial[item.link_id] = initial if item.repeats else initial[:1]

    def _key(self, link_id: str, instance: Instance) -> Key:
        if link_id not in self.questionnaire.by_link_id:
            raise KeyError(link_id)  # the screen asked for a wrong id: a bug
        return link_id, self.questionnaire.instance_of(link_id, instance)

    def get(self, link_id: str, instance: Instance = ()) -> tuple[Value, ...]:
        key = self._key(link_id, instance)
        if key in self._answers:
            return self._answers[key]
        return self._initial.get(link_id, ()) if self._use_initial else ()

    def as_mapping(self) -> dict[str, tuple[Value, ...]]:
        """linkId -> answers of the first instance (the whole form when nothing repeats)."""
        out: dict[str, tuple[Value, ...]] = {}
        for item in self.questionnaire.walk():
            values = self.get(item.link_id) if item.is_question else ()
            if values:
                out[item.link_id] = values
        return out

    def set(self, link_id: str, values: Sequence[Value], instance: Instance = ()) -> AnswerError | None:
        """Store the answers if they are valid; otherwise keep the old ones and return the error."""
        key = self._key(link_id, instance)
        stored, error = validate_answer(self.questionnaire.by_link_id[link_id], values)
        if error is not None:
            return error
        self._answers[key] = stored
        return None

    def clear(self, link_id: str, instance: Instance = ()) -> None:
        """Forget an answer (e.g. the patient taps "clear"); required-ness is checked at the end."""
        self._answers[self._key(link_id, instance)] = ()

    def entries(self) -> list[tuple[str, Instance, tuple[Value, ...]]]:
        """Every answer set on purpose (cleared ones too, as ()), for saving and restoring."""
        return [(link_id, instance, values) for (link_id, instance), values in self._answers.items()]

    # -- repeating groups -------------------------------------------------------------------

    def _group_key(self, group: str, parent_instance: Instance) -> Key:
        item = self.questionnaire.by_link_id.get(group)
        if item is None or not item.is_repeating_group:
            raise KeyError(group)
        depth = len(self.questionnaire.repeat_path[group]) - 1
        return group, tuple(parent_instance[:depth]) + (0,) * max(0, depth - len(parent_instance))

    def instance_count(self, group: str, parent_instance: Instance = ()) -> int:
        return self._counts.get(self._group_key(group, parent_instance), 1)

    def set_instance_count(self, group: str, count: int, parent_instance: Instance = ()) -> None:
        """How many instances a repeating group has (at least 1, at most its maxOccurs)."""
        limit = self.questionnaire.by_link_id[group].max_occurs if group in self.questionnaire.by_link_id else None
        if count < 1 or (limit is not None and count > limit):
            raise ValueError(f"group {group!r}: {count} instances is outside 1..{limit or 'any'}")
        self._counts[self._group_key(group, parent_instance)] = count

    def add_instance(self, group: str, parent_instance: Instance = ()) -> Instance:
        """One more instance at the end; returns it."""
        key = self._group_key(group, parent_instance)
        count = self.instance_count(group, key[1])
        self.set_instance_count(group, count + 1, key[1])
        return key[1] + (count,)

    def remove_instance(self, group: str, instance: Instance) -> None:
        """Delete one instance and its answers; the later ones move up by one. Removing the
        only instance leaves one empty instance."""
        parent = self._group_key(group, instance)[1]
        depth = len(parent)
        count = self.instance_count(group, parent)
        index = instance[depth] if len(instance) > depth else -1
        if not 0 <= index < count:
            raise IndexError(f"group {group!r} has no such instance")
        inside = {link_id for link_id, path in self.questionnaire.repeat_path.items() if group in path}

        def shifted(link_id: str, inst: Instance) -> Instance | None:
            """Where an answer (or a nested group's count) goes; None when it is deleted."""
            if link_id not in inside or inst[:depth] != parent:
                return inst
            if inst[depth] == index:
                return None
            return inst[:depth] + (inst[depth] - 1,) + inst[depth + 1:] if inst[depth] > index else inst

        answers = {}
        for (link_id, inst), values in self._answers.items():
            new = shifted(link_id, inst)
            if new is not None:
                answers[(link_id, new)] = values
        counts = {}
        for (g, parent_inst), n in self._counts.items():
            new = parent_inst if g == group else shifted(g, parent_inst)
            if new is not None:
                counts[(g, new)] = n
        self._answers, self._counts = answers, counts
        self._counts[(group, parent)] = max(1, count - 1)

    # -- enableWhen, completeness, response ---------------------------------------------------

    def evaluator(self) -> EnableWhenEvaluator:
        """A fresh evaluator over the answers as they are now (memoised until they change)."""
        return EnableWhenEvaluator(self.questionnaire, lookup=self.get, instance_count=self.instance_count)

    def occurrences(self) -> list[tuple[Item, Instance]]:
        """Every item with each of its instances, in document order."""
        out: list[tuple[Item, Instance]] = []

        def visit(items: Sequence[Item], instance: Instance) -> None:
            for item in items:
                if item.is_repeating_group:
                    for index in range(self.instance_count(item.link_id, instance)):
                        out.append((item, instance + (index,)))
                        visit(item.items, instance + (index,))
                else:
                    out.append((item, instance))
                    visit(item.items, instance)

        visit(self.questionnaire.items, ())
        return out

    def enabled_items(self, *, include_display: bool = False) -> list[Item]:
        """The items to show one per screen, in order: enabled questions (and display texts),
        once per instance of their repeating groups."""
        evaluator = self.evaluator()
        return [
            item for item, instance in self.occurrences()
            if (item.is_question or (include_display and item.type == DISPLAY))
            and evaluator.is_enabled(item.link_id, instance)
        ]

    def missing_required_entries(self) -> list[tuple[str, Instance]]:
        evaluator = self.evaluator()
        return [
            (item.link_id, instance) for item, instance in self.occurrences()
            if item.is_question and item.required and evaluator.is_enabled(item.link_id, instance)
            and not self.get(item.link_id, instance)
        ]

    def missing_required(self) -> list[str]:
        return [link_id for link_id, _ in self.missing_required_entries()]

    def is_complete(self) -> bool:
        return not self.missing_required_entries()

    def to_response(self, status: str, *, authored: str | None = None,
                    computed: Mapping[str, Value] | None = None) -> dict[str, Any]:
        """A FHIR R4 QuestionnaireResponse as a dict. "completed" needs every enabled required
        answer (IncompleteForm otherwise); "in-progress" is for partial forms (timeout, crash).
        A repeating group gives one response item per instance that has answers (same linkId).
        `computed`: answers the kiosk worked out (e.g. a total score) for read-only items."""
        if status not in (COMPLETED, IN_PROGRESS):
            raise ValueError(f"unsupported response status {status!r}")
        if status == COMPLETED:
            missing = self.missing_required()
            if missing:
                raise IncompleteForm(missing)
        evaluator = self.evaluator()
        response: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": status}
        canonical = self.questionnaire.canonical()
        if canonical:
            response["questionnaire"] = canonical
        if authored:
            response["authored"] = authored
        items = self._response_items(self.questionnaire.items, (), evaluator, computed or {})
        if items:
            response["item"] = items
        return response

    def _response_items(self, items: Sequence[Item], instance: Instance, evaluator: EnableWhenEvaluator,
                        computed: Mapping[str, Value]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if item.type == DISPLAY:
                continue
            if item.is_repeating_group:
                for index in range(self.instance_count(item.link_id, instance)):
                    entry = self._response_item(item, instance + (index,), evaluator, computed)
                    if entry:
                        out.append(entry)
                continue
            entry = self._response_item(item, instance, evaluator, computed)
            if entry:
                out.append(entry)
        return out

    def _response_item(self, item: Item, instance: Instance, evaluator: EnableWhenEvaluator,
                       computed: Mapping[str, Value]) -> dict[str, Any] | None:
        if not evaluator.is_enabled(item.link_id, instance):
            return None  # disabled: its answers are dropped, as R4 requires
        children = self._response_items(item.items, instance, evaluator, computed)
        entry: dict[str, Any] = {"linkId": item.link_id}
        if item.text:
            entry["text"] = item.text
        if item.type == GROUP:
            if not children:
                return None
            entry["item"] = children
            return entry
        values = self.get(item.link_id, instance)
        if not values and item.link_id in computed:
            values = (computed[item.link_id],)
        answers = [value_to_json(item, v) for v in values]
        if answers:
            # Items nested under a question belong under its answer (R4 qrs-1).
            if children:
                answers[0]["item"] = children
            entry["answer"] = answers
        elif children:
            entry["item"] = children  # unanswered question: keep its children's answers
        else:
            return None
        return entry


def _coding_json(coding: Coding) -> dict[str, str]:
    out = {"code": coding.code}
    if coding.system:
        out["system"] = coding.system
    if coding.display:
        out["display"] = coding.display
    return out


def value_to_json(item: Item, value: Value) -> dict[str, Any]:
    """One answer as FHIR JSON ({"valueCoding": ...}, {"valueDate": "2024-05-01"} ...)."""
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


def value_from_json(answer: Any) -> Value:
    """The inverse of value_to_json; ValueError (naming no value) for anything else."""
    if not isinstance(answer, dict):
        raise ValueError("an answer is not a JSON object")
    keys = [k for k in answer if k.startswith("value")]
    if len(keys) != 1:
        raise ValueError("an answer needs exactly one value[x]")
    key, value = keys[0], answer[keys[0]]
    if key == "valueCoding" and isinstance(value, dict) and isinstance(value.get("code"), str):
        return Coding(value.get("system"), value["code"], value.get("display"))
    if key == "valueBoolean" and isinstance(value, bool):
        return value
    if key == "valueInteger" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if key == "valueDecimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if key == "valueDate" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("valueDate is not a YYYY-MM-DD date") from None
    if key == "valueString" and isinstance(value, str):
        return value
    raise ValueError(f"{key} is not supported or has the wrong JSON type")
