"""Which items are enabled, by the FHIR R4 enableWhen rules.

- An item is disabled when its parent is disabled.
- A disabled question counts as unanswered for the conditions that refer to it, even if an
  answer is kept in memory for when it comes back.
- Operators, as the R4 code system defines them: `exists` compares "has an answer" with the
  boolean; `=` and the orderings are true when at least one answer satisfies them; `!=` is true
  when no answer equals the value (so it is true for an unanswered question).
- Codings are equal when their codes are, and their systems are when both name one.

The parser has already refused loops and mismatched types, so evaluation cannot recurse forever
or compare a date with a Coding.
"""
from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping, Sequence

from kiosk.forms.questionnaire import Coding, EnableWhen, Questionnaire, Value

Answers = Mapping[str, Sequence[Value]]  # linkId -> the answers given (empty or absent: none)

_ORDER: dict[str, Callable[[object, object], bool]] = {
    ">": op.gt,
    "<": op.lt,
    ">=": op.ge,
    "<=": op.le,
}


def values_equal(answer: Value, expected: Value) -> bool:
    if isinstance(answer, Coding) or isinstance(expected, Coding):
        return isinstance(answer, Coding) and isinstance(expected, Coding) and answer.matches(expected)
    if isinstance(answer, bool) or isinstance(expected, bool):
        return type(answer) is type(expected) and answer == expected  # True is not 1 here
    if isinstance(answer, (int, float)) and isinstance(expected, (int, float)):
        return answer == expected
    return type(answer) is type(expected) and answer == expected


def _ordered(answer: Value, expected: Value, operator: str) -> bool:
    comparable = (
        isinstance(answer, (int, float)) and isinstance(expected, (int, float))
    ) or type(answer) is type(expected)
    if not comparable or isinstance(answer, (bool, Coding)):
        return False  # e.g. a free-text answer to a numeric condition: not satisfied
    return _ORDER[operator](answer, expected)


def condition_holds(condition: EnableWhen, answers: Sequence[Value]) -> bool:
    """One enableWhen against the (enabled) answers of its question."""
    if condition.operator == "exists":
        return bool(answers) == condition.answer
    if condition.operator == "=":
        return any(values_equal(a, condition.answer) for a in answers)
    if condition.operator == "!=":
        return not any(values_equal(a, condition.answer) for a in answers)
    return any(_ordered(a, condition.answer, condition.operator) for a in answers)


class EnableWhenEvaluator:
    """Evaluates enablement for one Questionnaire and one set of answers, memoised per call."""

    def __init__(self, questionnaire: Questionnaire, answers: Answers):
        self.questionnaire = questionnaire
        self.answers = answers
        self._cache: dict[str, bool] = {}

    def is_enabled(self, link_id: str) -> bool:
        cached = self._cache.get(link_id)
        if cached is not None:
            return cached
        item = self.questionnaire.by_link_id[link_id]  # KeyError for an unknown linkId: a bug
        parent = self.questionnaire.parent_of[link_id]
        if parent is not None and not self.is_enabled(parent):
            enabled = False
        elif not item.enable_when:
            enabled = True
        else:
            results = (condition_holds(c, self.enabled_answers(c.question)) for c in item.enable_when)
            enabled = any(results) if item.enable_behavior == "any" else all(results)
        self._cache[link_id] = enabled
        return enabled

    def enabled_answers(self, link_id: str) -> Sequence[Value]:
        """The answers of a question as the rules see them: none while it is disabled."""
        if not self.is_enabled(link_id):
            return ()
        return self.answers.get(link_id) or ()


def enabled_link_ids(questionnaire: Questionnaire, answers: Answers) -> set[str]:
    evaluator = EnableWhenEvaluator(questionnaire, answers)
    return {item.link_id for item in questionnaire.walk() if evaluator.is_enabled(item.link_id)}


def is_enabled(questionnaire: Questionnaire, answers: Answers, link_id: str) -> bool:
    return EnableWhenEvaluator(questionnaire, answers).is_enabled(link_id)
