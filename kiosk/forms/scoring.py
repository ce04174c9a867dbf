"""Score a QuestionnaireResponse from the standard scoring extensions, never per-instrument code.

Answer scores come from `ordinalValue` (R4), `itemWeight` (R5/SDC) or `iso21090-CO-value`, on an
answerOption or on its valueCoding. The total comes from an SDC `calculatedExpression` (with the
`variable`s it uses) evaluated as FHIRPath by fhirpathpy; without one, it is the sum of the
answered items' scores. Both inputs are the FHIR JSON (dicts), so a response built by
`FormAnswers.to_response()` and one read from a file are scored the same way.

Errors name the linkId and the expression, never an answer value.
"""
from __future__ import annotations

import copy
from functools import lru_cache
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models as _fhirpath_models
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from kiosk.forms.value_sets import inline_value_sets

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
CO_VALUE = "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value"
SCORE_EXTENSIONS = (ORDINAL_VALUE, ITEM_WEIGHT, CO_VALUE)
CALCULATED_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
FHIRPATH_LANGUAGES = ("text/fhirpath", "fhirpath")
# Words that make an unknown extension on an answer option look like an attempt at a score.
_SCORE_HINTS = ("ordinal", "weight", "score")

# R4 model: without it FHIRPath cannot resolve `answer.value` to valueCoding/valueInteger.
_R4 = _fhirpath_models["r4"]


class ScoringError(ValueError):
    """An expression could not be evaluated. Carries the linkId and expression, no answers."""

    def __init__(self, link_id: str, expression: str, problem: str):
        self.link_id = link_id
        self.expression = expression
        self.problem = problem
        where = f"item {link_id!r}" if link_id else "questionnaire"
        super().__init__(f"{where}: cannot evaluate {expression!r}: {problem}")


@dataclass(frozen=True)
class Expression:
    link_id: str  # "" for the Questionnaire root
    expression: str
    name: str | None = None  # variables only


@dataclass(frozen=True)
class ScoringModel:
    """What a Questionnaire says about scoring, read once."""

    # linkId -> ((option value as JSON, score), ...); the value is e.g. {"valueCoding": {...}}.
    option_scores: dict[str, tuple[tuple[dict[str, Any], float], ...]]
    calculated: tuple[Expression, ...]  # calculatedExpressions in document order
    variables: dict[str, tuple[Expression, ...]]  # linkId ("" = root) -> variables, in order
    parents: dict[str, str]  # linkId -> parent linkId ("" at top level)
    item_codes: dict[str, tuple[str, ...]]  # linkId -> item.code codes, to match rules by code
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    total: float | None
    item_scores: dict[str, float] = field(default_factory=dict)  # answered, scorable items only
    total_link_id: str | None = None  # the item whose calculatedExpression gave the total


def _extensions(raw: Any) -> list[dict[str, Any]]:
    ext = raw.get("extension") if isinstance(raw, dict) else None
    return [e for e in ext if isinstance(e, dict)] if isinstance(ext, list) else []


def _number(ext: dict[str, Any]) -> float | None:
    for key in ("valueDecimal", "valueInteger"):
        value = ext.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


def extension_score(raw: Any) -> float | None:
    """The score a JSON element (answerOption or Coding) carries in a known extension, if any."""
    for ext in _extensions(raw):
        if ext.get("url") in SCORE_EXTENSIONS:
            value = _number(ext)
            if value is not None:
                return value
    return None


def option_score(raw_option: dict[str, Any]) -> float | None:
    """Score of an answerOption: on the option itself (R4/R5) or on its valueCoding (SDC, LHC)."""
    score = extension_score(raw_option)
    if score is None:
        score = extension_score(raw_option.get("valueCoding"))
    return score


def _option_value(raw_option: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("valueCoding", "valueString", "valueInteger"):
        if key in raw_option:
            return {key: raw_option[key]}
    if "code" in raw_option:  # a Coding written straight into the option; questionnaire.py warns
        return {"valueCoding": raw_option}
    return None


class _RaiseOnSyntaxError(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 (ANTLR API)
        raise SyntaxError(f"column {column + 1}")


def fhirpath_syntax_error(expression: str) -> str | None:
    """Where the expression stops being FHIRPath, or None. fhirpathpy's own parse() ignores
    syntax errors (its listener does nothing), so an author would only learn at scoring time."""
    listener = _RaiseOnSyntaxError()
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    try:
        parser.expression()
        if parser.getCurrentToken().type != parser.EOF:  # trailing text the grammar did not use
            return f"column {parser.getCurrentToken().column + 1}"
    except SyntaxError as exc:
        return str(exc)
    return None


def _expression_of(ext: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(name, language, expression) of an Expression-valued extension."""
    value = ext.get("valueExpression")
    if not isinstance(value, dict):
        return None, None, None
    return value.get("name"), value.get("language"), value.get("expression")


def read_scoring(raw_q: dict[str, Any]) -> ScoringModel:
    """Collect answer scores and expressions, with problems for the form authors' tool."""
    raw_q = inline_value_sets(raw_q)  # scores may sit on the concepts of a contained ValueSet
    option_scores: dict[str, tuple[tuple[dict[str, Any], float], ...]] = {}
    calculated: list[Expression] = []
    variables: dict[str, tuple[Expression, ...]] = {}
    parents: dict[str, str] = {}
    item_codes: dict[str, tuple[str, ...]] = {}
    errors: list[str] = []
    warnings: list[str] = []

    def read_expressions(element: dict[str, Any], link_id: str) -> None:
        where = f"item {link_id!r}" if link_id else "questionnaire"
        own_variables: list[Expression] = []
        for ext in _extensions(element):
            url = ext.get("url")
            if url not in (CALCULATED_EXPRESSION, VARIABLE):
                continue
            name, language, expression = _expression_of(ext)
            if not isinstance(expression, str) or not expression:
                errors.append(f"{where}: {url.rsplit('/', 1)[-1]} has no expression")
                continue
            if language not in FHIRPATH_LANGUAGES:
                errors.append(f"{where}: expression language {language!r} is not supported (only text/fhirpath)")
                continue
            syntax_error = fhirpath_syntax_error(expression)
            if syntax_error:
                errors.append(f"{where}: expression {expression!r} does not parse ({syntax_error})")
                continue
            if url == VARIABLE:
                if not isinstance(name, str) or not name:
                    errors.append(f"{where}: variable without a name: {expression!r}")
                    continue
                own_variables.append(Expression(link_id, expression, name))
            else:
                calculated.append(Expression(link_id, expression))
        if own_variables:
            variables[link_id] = tuple(own_variables)

    def read_items(items: Any, parent: str) -> None:
        for raw in items if isinstance(items, list) else []:
            if not isinstance(raw, dict) or not isinstance(raw.get("linkId"), str):
                continue  # parse_questionnaire reports these
            link_id = raw["linkId"]
            parents[link_id] = parent
            codes = raw.get("code") if isinstance(raw.get("code"), list) else []
            item_codes[link_id] = tuple(c["code"] for c in codes if isinstance(c, dict) and isinstance(c.get("code"), str))
            read_expressions(raw, link_id)
            scored: list[tuple[dict[str, Any], float]] = []
            options = raw.get("answerOption") or raw.get("option") or []
            for option in options if isinstance(options, list) else []:
                if not isinstance(option, dict):
                    continue
                for element in (option, option.get("valueCoding")):
                    for ext in _extensions(element):
                        url = str(ext.get("url", ""))
                        if url in SCORE_EXTENSIONS:
                            if _number(ext) is None:
                                errors.append(f"item {link_id!r}: {url.rsplit('/', 1)[-1]} has no numeric value")
                        elif any(hint in url.lower() for hint in _SCORE_HINTS):
                            warnings.append(f"item {link_id!r}: unknown scoring extension {url!r} ignored")
                score = option_score(option)
                value = _option_value(option)
                if score is not None and value is not None:
                    scored.append((value, score))
            if scored:
                option_scores[link_id] = tuple(scored)
                if len(scored) != len(options):
                    warnings.append(f"item {link_id!r}: only some answer options have a score")
            read_items(raw.get("item"), link_id)

    read_expressions(raw_q, "")
    read_items(raw_q.get("item"), "")
    return ScoringModel(option_scores, tuple(calculated), variables, parents, item_codes, tuple(errors), tuple(warnings))


# -- answers -------------------------------------------------------------------------------------


def _answers(items: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(linkId, answer) for every answer in a QuestionnaireResponse, nested ones too."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        for answer in item.get("answer") or []:
            if isinstance(answer, dict):
                yield item.get("linkId", ""), answer
                yield from _answers(answer.get("item"))
        yield from _answers(item.get("item"))


def _same_value(answer: dict[str, Any], option_value: dict[str, Any]) -> bool:
    (key, expected), = option_value.items()
    given = answer.get(key)
    if key != "valueCoding":
        return given is not None and type(given) is type(expected) and given == expected
    if not isinstance(given, dict) or not isinstance(expected, dict) or given.get("code") != expected.get("code"):
        return False
    # A bare code matches any system, as Coding.matches does.
    return not given.get("system") or not expected.get("system") or given["system"] == expected["system"]


def answer_score(model: ScoringModel, link_id: str, answer: dict[str, Any]) -> float | None:
    for option_value, score in model.option_scores.get(link_id, ()):
        if _same_value(answer, option_value):
            return score
    return None


def item_scores(model: ScoringModel, response: dict[str, Any]) -> dict[str, float]:
    """linkId -> score of its answers (summed when the item repeats), scorable answers only."""
    scores: dict[str, float] = {}
    for link_id, answer in _answers(response.get("item")):
        score = answer_score(model, link_id, answer)
        if score is not None:
            scores[link_id] = scores.get(link_id, 0) + score
    return scores


# -- FHIRPath ------------------------------------------------------------------------------------


def _with_weights(model: ScoringModel, response: dict[str, Any]) -> dict[str, Any]:
    """A copy of the response whose Coding answers carry their option's score as itemWeight.

    fhirpathpy hands user functions the bare Coding, without the item it belongs to; writing the
    score onto the Coding lets weight() find the right one even when the same code scores
    differently in two items (reverse-scored questions)."""
    annotated = copy.deepcopy(response)
    for link_id, answer in _answers(annotated.get("item")):
        coding = answer.get("valueCoding")
        score = answer_score(model, link_id, answer)
        if isinstance(coding, dict) and score is not None and extension_score(coding) is None:
            coding["extension"] = [*_extensions(coding), {"url": ITEM_WEIGHT, "valueDecimal": score}]
    return annotated


def _weight(inputs: list[Any]) -> list[float]:
    """SDC weight()/ordinal(): the score of each Coding in the input; empty for unscored ones.
    An answer (`answer.weight()`, as LHC-Forms writes it) counts as its valueCoding."""
    out = []
    for value in inputs:
        if isinstance(value, dict) and isinstance(value.get("valueCoding"), dict):
            value = value["valueCoding"]
        score = extension_score(value)
        if score is not None:
            out.append(score)
    return out


def _sdc_answers(inputs: list[Any]) -> list[Any]:
    """SDC answers(): every answer of the input items and of the items below them (the
    SDC PHQ-9 example totals with `answers()...`). The answers go back as typed nodes, so
    `.value` finds valueCoding as FHIRPath does on a path."""
    out: list[Any] = []

    def collect(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for answer in node.get("answer") or []:
            out.append(ResourceNode(answer, "QuestionnaireResponse.item.answer"))
            for nested in (answer.get("item") or []) if isinstance(answer, dict) else []:
                collect(nested)
        for item in node.get("item") or []:
            collect(item)

    for node in inputs:
        collect(node.data if isinstance(node, ResourceNode) else node)
    return out


_FUNCTIONS = {"weight": {"fn": _weight}, "ordinal": {"fn": _weight}, "answers": {"fn": _sdc_answers}}
# Exception messages from fhirpathpy that name only parts of the expression, never data.
_SAFE_MESSAGES = ("Not implemented", "expects no params", "wrong arity")


@lru_cache(maxsize=256)
def _compiled(expression: str):
    """Parsed once per expression: parsing costs more than evaluating a form's answers."""
    return fhirpathpy.compile(expression, _R4, {"userInvocationTable": _FUNCTIONS})


def _evaluate(expr: Expression, resource: dict[str, Any], env: dict[str, Any]) -> list[Any]:
    try:
        return _compiled(expr.expression)(resource, dict(env))
    except Exception as exc:  # fhirpathpy raises plain Exception for unknown functions
        message = str(exc)
        # fhirpathpy's messages that name a function ("sum expects no params") say what to fix.
        reason = message if any(safe in message for safe in _SAFE_MESSAGES) else f"evaluation failed ({type(exc).__name__})"
        raise ScoringError(expr.link_id, expr.expression, reason) from None


def _ancestors(model: ScoringModel, link_id: str) -> list[str]:
    """Root first, down to the item itself: the scopes whose variables an item can see."""
    chain = [link_id] if link_id else []
    while chain and model.parents.get(chain[-1], ""):
        chain.append(model.parents[chain[-1]])
    return [""] + chain[::-1]


def _calculate(model: ScoringModel, expr: Expression, raw_q: dict[str, Any], response: dict[str, Any]) -> float | None:
    env: dict[str, Any] = {"resource": response, "questionnaire": raw_q}
    for scope in _ancestors(model, expr.link_id):
        for variable in model.variables.get(scope, ()):
            env[variable.name] = _evaluate(variable, response, env)
    result = _evaluate(expr, response, env)
    if not result:
        return None  # e.g. iif(nothing answered, ..., {}): no total
    if len(result) != 1 or isinstance(result[0], bool) or not isinstance(result[0], (int, float)):
        raise ScoringError(expr.link_id, expr.expression, "did not give a single number")
    return result[0]


def score_response(raw_q: dict[str, Any], response: dict[str, Any], *, total_link_id: str | None = None,
                   model: ScoringModel | None = None) -> Score:
    """Item scores and total. The total is the calculatedExpression of `total_link_id` or else of
    the last calculated item (totals close a form); without any, the sum of item scores.
    `model`: read_scoring(raw_q) when the caller has it already (it parses every expression)."""
    raw_q = inline_value_sets(raw_q)
    model = model or read_scoring(raw_q)
    scores = item_scores(model, response)
    calculated = [c for c in model.calculated if total_link_id in (None, c.link_id)]
    if calculated:
        expr = calculated[-1]
        total = _calculate(model, expr, raw_q, _with_weights(model, response))
        return Score(total, scores, expr.link_id or None)
    total = sum(scores.values()) if scores else None
    return Score(total, scores, None)
