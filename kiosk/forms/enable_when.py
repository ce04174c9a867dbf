"""Which items are enabled, by the FHIR R4 enableWhen rules.

- An item is disabled when its parent is disabled.
- A disabled question counts as unanswered for the conditions that refer to it, even if an
  answer is kept in memory for when it comes back.
- Operators, as the R4 code system defines them: `exists` compares "has an answer" with the
  boolean; `=` and the orderings are true when at least one answer satisfies them; `!=` is true
  when no answer equals the value (so it is true for an unanswered question).
- Codings are equal when their codes are, and their systems are when both name one.

Repeating groups: see EnableWhenEvaluator for which instance a condition reads.

The parser has already refused loops and mismatched types, so evaluation cannot recurse forever
or compare a date with a Coding.
"""
from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping, Sequence

from kiosk.forms.questionnaire import Coding, EnableWhen, Instance, Questionnaire, Value

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
    """Evaluates enablement for one Questionnaire and one set of answers, memoised per call.

    Answers come either as a plain mapping linkId -> answers (forms without repeating groups,
    or only their first instance) or through `lookup(linkId, instance)` and
    `instance_count(group linkId, instance of its parent)` for repeating groups. An instance
    beyond its group's count is disabled, with everything in it.

    Which occurrence a condition reads when its question sits in a repeating group (R4
    enableWhen.question): the same instance when the item is in that group too; otherwise the
    nearest one, i.e. the last instance of a group before the item, the first of one after it.
    """

    def __init__(
        self,
        questionnaire: Questionnaire,
        answers: Answers | None = None,
        *,
        lookup: Callable[[str, Instance], Sequence[Value]] | None = None,
        instance_count: Callable[[str, Instance], int] | None = None,
    ):
        self.questionnaire = questionnaire
        plain = answers if answers is not None else {}
        self._lookup = lookup or (lambda link_id, instance: plain.get(link_id) or ())
        self._count = instance_count or (lambda group, parent_instance: 1)
        self._cache: dict[tuple[str, Instance], bool] = {}

    def is_enabled(self, link_id: str, instance: Instance = ()) -> bool:
        q = self.questionnaire
        instance = q.instance_of(link_id, instance)  # KeyError for an unknown linkId: a bug
        key = (link_id, instance)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        item = q.by_link_id[link_id]
        parent = q.parent_of[link_id]
        if not self._exists(link_id, instance):
            enabled = False
        elif parent is not None and not self.is_enabled(parent, instance):
            enabled = False
        elif not item.enable_when:
            enabled = True
        else:
            results = (
                condition_holds(c, self.enabled_answers(c.question, self.target_instance(link_id, instance, c.question)))
                for c in item.enable_when
            )
            enabled = any(results) if item.enable_behavior == "any" else all(results)
        self._cache[key] = enabled
        return enabled

    def _exists(self, link_id: str, instance: Instance) -> bool:
        """Every repeating group around the item has the instance asked for."""
        groups = self.questionnaire.repeat_path[link_id]
        return all(instance[depth] < self._count(group, instance[:depth]) for depth, group in enumerate(groups))

    def target_instance(self, source: str, instance: Instance, target: str) -> Instance:
        """The instance of `target` that a condition on `source` (at `instance`) reads."""
        q = self.questionnaire
        source_groups = q.repeat_path[source]
        out: list[int] = []
        for depth, group in enumerate(q.repeat_path[target]):
            if depth < len(source_groups) and source_groups[depth] == group:
                out.append(instance[depth])
            elif q.order[group] < q.order[source]:
                out.append(max(0, self._count(group, tuple(out)) - 1))
            else:
                out.append(0)
        return tuple(out)

    def enabled_answers(self, link_id: str, instance: Instance = ()) -> Sequence[Value]:
        """The answers of a question as the rules see them: none while it is disabled."""
        instance = self.questionnaire.instance_of(link_id, instance)
        if not self.is_enabled(link_id, instance):
            return ()
        return self._lookup(link_id, instance) or ()


def enabled_link_ids(questionnaire: Questionnaire, answers: Answers) -> set[str]:
    evaluator = EnableWhenEvaluator(questionnaire, answers)
    return {item.link_id for item in questionnaire.walk() if evaluator.is_enabled(item.link_id)}


def is_enabled(questionnaire: Questionnaire, answers: Answers, link_id: str) -> bool:
    return EnableWhenEvaluator(questionnaire, answers).is_enabled(link_id)
