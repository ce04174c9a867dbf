"""Read a FHIR R4 Questionnaire (JSON as a dict) into frozen dataclasses.

Questionnaires come from other publishers too, and not all are strictly valid FHIR. Where the
meaning is clear we accept the input and record a warning (for the form authors' tool); where it
is not, a `QuestionnaireError` names the linkId. `read_questionnaire` carries on after an error
and collects every problem in the file; `parse_questionnaire` raises the first one. Messages
never contain answers: a Questionnaire holds no PHI, but the same value types are reused for
patients' answers.

Repeating groups: each group with `repeats` makes *instances* (one per medication, say). An
item's instance is a tuple with one index per repeating group around it (itself included, for
a repeating group), outermost first; items outside repeating groups have the instance ().
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable, TypeVar, Union

from kiosk.forms.value_sets import inline_value_sets

GROUP = "group"
DISPLAY = "display"
BOOLEAN = "boolean"
DECIMAL = "decimal"
INTEGER = "integer"
DATE = "date"
STRING = "string"
TEXT = "text"
CHOICE = "choice"
OPEN_CHOICE = "open-choice"

SUPPORTED_TYPES = frozenset(
    {GROUP, DISPLAY, BOOLEAN, DECIMAL, INTEGER, DATE, STRING, TEXT, CHOICE, OPEN_CHOICE}
)
# Items that hold no answer of their own.
NON_QUESTION_TYPES = frozenset({GROUP, DISPLAY})

OPERATORS = frozenset({"exists", "=", "!=", ">", "<", ">=", "<="})
ORDERING_OPERATORS = frozenset({">", "<", ">=", "<="})

HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
MAX_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs"
CALCULATED_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
_SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-"
# SDC features that change what is asked; ignoring them would show the wrong questions.
UNSUPPORTED_EXTENSIONS = {
    _SDC + "enableWhenExpression": "enableWhenExpression is not supported (the item would always be shown); "
                                  "use enableWhen",
    _SDC + "answerExpression": "answerExpression is not supported (the answers would be missing); "
                               "list them as answerOption",
    _SDC + "answerOptionsToggleExpression": "answerOptionsToggleExpression is not supported",
}
# SDC features the kiosk can do without: the form still works, a little less helpfully.
IGNORED_EXTENSIONS = {
    _SDC + "initialExpression": "initialExpression (pre-filling from the record) is ignored",
    _SDC + "candidateExpression": "candidateExpression is ignored",
}


class QuestionnaireError(ValueError):
    """The Questionnaire cannot be understood. `link_id` is the item at fault ("" for the root).
    `others` holds the further problems `parse_questionnaire` found after this first one."""

    def __init__(self, link_id: str, problem: str):
        self.link_id = link_id
        self.problem = problem
        self.others: tuple[QuestionnaireError, ...] = ()
        where = f"item {link_id!r}" if link_id else "questionnaire"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str
    display: str | None = None

    def matches(self, other: Coding) -> bool:
        """Same concept: same code, and same system when both name one (a bare code has none)."""
        if self.code != other.code:
            return False
        return self.system is None or other.system is None or self.system == other.system


# An answer value, as the engine holds it. float for FHIR decimal (JSON numbers are floats anyway).
Value = Union[bool, int, float, str, dt.date, Coding]
Instance = tuple[int, ...]


@dataclass(frozen=True)
class AnswerOption:
    value: Coding | str | int
    initial_selected: bool = False


@dataclass(frozen=True)
class EnableWhen:
    question: str
    operator: str
    answer: Value  # a bool for "exists"


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    text: str | None = None
    required: bool = False
    repeats: bool = False
    read_only: bool = False
    max_length: int | None = None
    initial: tuple[Value, ...] = ()
    answer_options: tuple[AnswerOption, ...] = ()
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: str = "all"  # "all" or "any"; only matters with several enableWhen
    items: tuple[Item, ...] = ()
    prefix: str | None = None
    hidden: bool = False  # questionnaire-hidden: kept in the response, never shown
    calculated: bool = False  # has an SDC calculatedExpression (e.g. a total score)
    max_occurs: int | None = None  # questionnaire-maxOccurs, for repeating groups

    @property
    def is_question(self) -> bool:
        return self.type not in NON_QUESTION_TYPES

    @property
    def is_repeating_group(self) -> bool:
        return self.type == GROUP and self.repeats


@dataclass(frozen=True)
class Questionnaire:
    url: str | None
    version: str | None
    title: str | None
    status: str | None
    codes: tuple[Coding, ...]
    items: tuple[Item, ...]
    warnings: tuple[str, ...] = ()
    language: str | None = None  # the language of `text`s (Questionnaire.language)
    # Filled in __post_init__: linkId -> item, -> parent linkId (None at top level), -> the
    # repeating groups around it (itself included), outermost first, -> document position.
    # (init=False: dataclasses.replace() must not hand the old indexes to the new object.)
    by_link_id: dict[str, Item] = field(init=False, compare=False, repr=False)
    parent_of: dict[str, str | None] = field(init=False, compare=False, repr=False)
    repeat_path: dict[str, tuple[str, ...]] = field(init=False, compare=False, repr=False)
    order: dict[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("by_link_id", "parent_of", "repeat_path", "order"):
            object.__setattr__(self, name, {})

        def index(items: tuple[Item, ...], parent: str | None, groups: tuple[str, ...]) -> None:
            for item in items:
                own = groups + (item.link_id,) if item.is_repeating_group else groups
                self.by_link_id[item.link_id] = item
                self.parent_of[item.link_id] = parent
                self.repeat_path[item.link_id] = own
                self.order[item.link_id] = len(self.order)
                index(item.items, item.link_id, own)

        index(self.items, None, ())

    def walk(self) -> list[Item]:
        """Every item, depth first, in document order (the order screens show them)."""
        out: list[Item] = []

        def visit(items: tuple[Item, ...]) -> None:
            for item in items:
                out.append(item)
                visit(item.items)

        visit(self.items)
        return out

    def canonical(self) -> str | None:
        if not self.url:
            return None
        return f"{self.url}|{self.version}" if self.version else self.url

    def instance_of(self, link_id: str, instance: Instance = ()) -> Instance:
        """`instance` fitted to the item's repeating groups: cut when too long, padded with the
        first instance (0) when short, so callers that know nothing of repeats still work."""
        depth = len(self.repeat_path[link_id])
        return tuple(instance[:depth]) + (0,) * max(0, depth - len(instance))


@dataclass(frozen=True)
class ParseResult:
    """Everything found in one file. `questionnaire` is None only when not even the root could
    be read; with errors it is a best effort, good for further checks, not for patients."""

    questionnaire: Questionnaire | None
    errors: tuple[QuestionnaireError, ...]
    warnings: tuple[str, ...]


# -- parsing ------------------------------------------------------------------------------------


def parse_questionnaire(data: dict[str, Any]) -> Questionnaire:
    """The Questionnaire, or the first QuestionnaireError (the rest in its `others`)."""
    result = read_questionnaire(data)
    if result.errors:
        first = result.errors[0]
        first.others = result.errors[1:]
        raise first
    assert result.questionnaire is not None
    return result.questionnaire


def read_questionnaire(data: Any) -> ParseResult:
    """Parse and collect every error and warning, for the form authors' tool."""
    return _Reader().read(data)


T = TypeVar("T")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _extension(raw: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in _as_list(raw.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


class _Reader:
    def __init__(self) -> None:
        self.errors: list[QuestionnaireError] = []
        self.warnings: list[str] = []
        self.seen: set[str] = set()
        self.broken: set[str] = set()  # linkIds with their own errors: not checked further

    def error(self, link_id: str, problem: str) -> None:
        self.errors.append(QuestionnaireError(link_id, problem))

    def attempt(self, fn: Callable[[], T], default: T) -> T:
        """Run one part of the parse; on an error record it and carry on with `default`."""
        try:
            return fn()
        except QuestionnaireError as exc:
            self.errors.append(exc)
            return default

    def read(self, data: Any) -> ParseResult:
        if not isinstance(data, dict):
            return ParseResult(None, (QuestionnaireError("", "not a JSON object"),), ())
        data = inline_value_sets(data)
        kind = data.get("resourceType")
        if kind != "Questionnaire":
            if kind is None:
                self.warnings.append("questionnaire: resourceType missing, read as Questionnaire")
            else:
                return ParseResult(None, (QuestionnaireError("", f"resourceType is {kind!r}, not Questionnaire"),), ())
        if _as_list(data.get("modifierExtension")):
            self.error("", "has a modifierExtension, which changes its meaning in a way the kiosk cannot know")
        codes = tuple(
            c for c in (self.attempt(lambda raw=raw: _parse_coding(raw, "", self.warnings, "code"), None)
                        for raw in _as_list(data.get("code")))
            if c is not None
        )
        items = self.items(data.get("item"))
        q = Questionnaire(
            url=data.get("url"),
            version=data.get("version"),
            title=data.get("title") or data.get("name"),
            status=data.get("status"),
            codes=codes,
            items=items,
            language=data.get("language") if isinstance(data.get("language"), str) else None,
        )
        self.check_enable_when(q)
        self.check_no_cycles(q)
        return ParseResult(replace(q, warnings=tuple(self.warnings)), tuple(self.errors), tuple(self.warnings))

    def items(self, raw_items: Any) -> tuple[Item, ...]:
        parsed = (self.item(raw) for raw in _as_list(raw_items))
        return tuple(item for item in parsed if item is not None)

    def item(self, raw: Any) -> Item | None:
        if not isinstance(raw, dict):
            self.error("", "an item is not a JSON object")
            return None
        link_id = raw.get("linkId")
        if not isinstance(link_id, str) or not link_id:
            self.error("", f"an item has no linkId (text: {raw.get('text')!r})")
            self.items(raw.get("item"))  # still look for problems inside
            return None
        if link_id in self.seen:
            self.error(link_id, "duplicate linkId")
            self.items(raw.get("item"))
            return None
        self.seen.add(link_id)
        errors_before = len(self.errors)
        item = self.item_fields(raw, link_id)
        if len(self.errors) > errors_before:
            self.broken.add(link_id)
        return replace(item, items=self.items(raw.get("item")))

    def item_fields(self, raw: dict[str, Any], link_id: str) -> Item:
        warnings = self.warnings
        item_type = raw.get("type")
        if item_type is None:
            self.error(link_id, "item has no type")
        elif item_type not in SUPPORTED_TYPES:
            supported = ", ".join(sorted(SUPPORTED_TYPES))
            self.error(link_id, f"unsupported item type {item_type!r} (the kiosk reads: {supported})")
        if _as_list(raw.get("modifierExtension")):
            self.error(link_id, "has a modifierExtension, which changes its meaning in a way the kiosk cannot know")
        for url, problem in UNSUPPORTED_EXTENSIONS.items():
            if _extension(raw, url):
                self.error(link_id, problem)
        for url, problem in IGNORED_EXTENSIONS.items():
            if _extension(raw, url):
                warnings.append(f"item {link_id!r}: {problem}")

        max_length = self.attempt(lambda: _parse_max_length(raw, item_type, link_id, warnings), None)

        # STU3 called answerOption "option"; the meaning is the same.
        raw_options = raw.get("answerOption")
        if raw_options is None and "option" in raw:
            warnings.append(f"item {link_id!r}: 'option' (STU3) read as answerOption")
            raw_options = raw["option"]
        options = tuple(
            o for o in (self.attempt(lambda o=o: _parse_option(o, link_id, warnings), None) for o in _as_list(raw_options))
            if o is not None
        )
        kind = item_type if item_type in SUPPORTED_TYPES else str(item_type)
        option_type = {STRING: str, INTEGER: int}.get(kind)
        if options and option_type and all(type(o.value) is option_type for o in options):
            # R5 lets string/integer items list their answers; published R4 files do it too.
            warnings.append(f"item {link_id!r}: answerOption on a {kind} item (R5 style), read as a choice item")
            kind = CHOICE
        elif options and item_type not in (CHOICE, OPEN_CHOICE):
            warnings.append(f"item {link_id!r}: answerOption on a {item_type} item is ignored")
            options = ()
        value_set = raw.get("answerValueSet")
        if value_set is not None and not raw_options:
            # Expanding value sets needs a terminology source the kiosk does not have offline;
            # a ValueSet contained in the form and listing its codes was already read.
            self.error(link_id, f"answerValueSet {value_set!r} without answerOption is not supported (the kiosk "
                                "has no terminology server: list the answers as answerOption or in a contained "
                                "ValueSet that lists its codes)")
        elif item_type == CHOICE and not raw_options:
            self.error(link_id, "choice item has no answerOption")

        enable_when = tuple(
            c for c in (self.attempt(lambda e=e: _parse_enable_when(e, link_id, warnings), None)
                        for e in _as_list(raw.get("enableWhen")))
            if c is not None
        )
        behavior = raw.get("enableBehavior")
        if behavior is None:
            behavior = "all"
            if len(enable_when) > 1:
                warnings.append(f"item {link_id!r}: several enableWhen without enableBehavior, read as 'all'")
        elif behavior not in ("all", "any"):
            self.error(link_id, f"enableBehavior {behavior!r} is not 'all' or 'any'")
            behavior = "all"

        repeats = self.attempt(lambda: _parse_bool(raw, "repeats", link_id, warnings), False)
        item = Item(
            link_id=link_id,
            type=kind,
            text=raw.get("text") if isinstance(raw.get("text"), str) else None,
            required=self.attempt(lambda: _parse_bool(raw, "required", link_id, warnings), False),
            repeats=repeats,
            read_only=self.attempt(lambda: _parse_bool(raw, "readOnly", link_id, warnings), False),
            max_length=max_length,
            initial=self.attempt(lambda: _parse_initial(raw, link_id, warnings), ()),
            answer_options=options,
            enable_when=enable_when,
            enable_behavior=behavior,
            prefix=raw.get("prefix") if isinstance(raw.get("prefix"), str) else None,
            hidden=bool((_extension(raw, HIDDEN) or {}).get("valueBoolean")),
            calculated=_extension(raw, CALCULATED_EXPRESSION) is not None,
            max_occurs=self.attempt(lambda: _parse_max_occurs(raw, kind, repeats, link_id, warnings), None),
        )
        if item_type == GROUP and not _as_list(raw.get("item")):
            warnings.append(f"item {link_id!r}: group has no items")
        if item_type == DISPLAY and (item.required or item.initial):
            warnings.append(f"item {link_id!r}: display item cannot be required or answered; ignored")
            item = replace(item, required=False, initial=())
        if item.is_question and not item.text:
            warnings.append(f"item {link_id!r}: question has no text")
        return item

    def check_enable_when(self, q: Questionnaire) -> None:
        for item in q.walk():
            if item.link_id in self.broken:
                continue
            for condition in item.enable_when:
                problem = _enable_when_problem(q, item, condition)
                if problem:
                    self.error(item.link_id, problem)

    def check_no_cycles(self, q: Questionnaire) -> None:
        """An item depends on its parent and on the questions in its enableWhen; no loops allowed.
        Each loop is reported once, naming the item where it was found closed."""
        depends: dict[str, list[str]] = {}
        for item in q.walk():
            deps = [c.question for c in item.enable_when if c.question in q.by_link_id]
            parent = q.parent_of[item.link_id]
            if parent is not None:
                deps.append(parent)
            depends[item.link_id] = deps

        done: set[str] = set()
        on_path: set[str] = set()

        def visit(link_id: str) -> None:
            if link_id in done:
                return
            if link_id in on_path:
                self.error(link_id, "enableWhen conditions form a loop")
                done.add(link_id)  # do not report the same loop again
                return
            on_path.add(link_id)
            for dep in depends[link_id]:
                visit(dep)
            on_path.discard(link_id)
            done.add(link_id)

        for link_id in depends:
            visit(link_id)


def _parse_bool(raw: dict[str, Any], key: str, link_id: str, warnings: list[str]) -> bool:
    value = raw.get(key, False)  # absent means false in FHIR
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        warnings.append(f"item {link_id!r}: {key} is the string {value!r}, read as a boolean")
        return value == "true"
    raise QuestionnaireError(link_id, f"{key} is not a boolean")


def _parse_max_length(raw: dict[str, Any], item_type: Any, link_id: str, warnings: list[str]) -> int | None:
    max_length = raw.get("maxLength")
    if max_length is None:
        return None
    if isinstance(max_length, str) and max_length.isdigit():
        warnings.append(f"item {link_id!r}: maxLength is a string, read as a number")
        max_length = int(max_length)
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
        raise QuestionnaireError(link_id, "maxLength is not a positive integer")
    if item_type not in (STRING, TEXT, OPEN_CHOICE):
        warnings.append(f"item {link_id!r}: maxLength on a {item_type} item is ignored")
        return None
    return max_length


def _parse_max_occurs(raw: dict[str, Any], item_type: str, repeats: bool, link_id: str,
                      warnings: list[str]) -> int | None:
    ext = _extension(raw, MAX_OCCURS)
    if ext is None:
        return None
    value = ext.get("valueInteger")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise QuestionnaireError(link_id, "maxOccurs is not a positive valueInteger")
    if not (item_type == GROUP and repeats):
        warnings.append(f"item {link_id!r}: maxOccurs only limits repeating groups here; ignored")
        return None
    return value


def _parse_coding(raw: Any, link_id: str, warnings: list[str], what: str) -> Coding:
    if isinstance(raw, str):  # a bare code, e.g. "code": "LA6568-5"
        warnings.append(f"item {link_id!r}: {what} is a bare code, read as a Coding without system")
        return Coding(system=None, code=raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
        raise QuestionnaireError(link_id, f"{what} has no code")
    return Coding(system=raw.get("system"), code=raw["code"], display=raw.get("display"))


def _parse_option(raw: Any, link_id: str, warnings: list[str]) -> AnswerOption:
    if not isinstance(raw, dict):
        raise QuestionnaireError(link_id, "an answerOption is not a JSON object")
    selected = bool(raw.get("initialSelected", False))
    if "valueCoding" in raw:
        return AnswerOption(_parse_coding(raw["valueCoding"], link_id, warnings, "answerOption"), selected)
    if "valueString" in raw:
        return AnswerOption(str(raw["valueString"]), selected)
    if "valueInteger" in raw:
        value = raw["valueInteger"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise QuestionnaireError(link_id, "answerOption valueInteger is not an integer")
        return AnswerOption(value, selected)
    if "code" in raw:  # a Coding written straight into the option (seen in the wild)
        warnings.append(f"item {link_id!r}: answerOption without valueCoding, read as a Coding")
        return AnswerOption(_parse_coding(raw, link_id, warnings, "answerOption"), selected)
    for key in ("valueDate", "valueTime", "valueReference"):
        if key in raw:
            raise QuestionnaireError(link_id, f"answerOption {key} is not supported (only valueCoding, "
                                              "valueString and valueInteger)")
    raise QuestionnaireError(link_id, "answerOption has no value")


def _value_from(raw: dict[str, Any], prefix: str, link_id: str, warnings: list[str]) -> tuple[str, Value] | None:
    """Find `<prefix>Boolean` / `<prefix>Integer` / ... in raw. Returns (FHIR type, value)."""
    for suffix in ("Boolean", "Decimal", "Integer", "Date", "String", "Coding"):
        key = prefix + suffix
        if key not in raw:
            continue
        value = raw[key]
        if suffix == "Boolean" and isinstance(value, bool):
            return BOOLEAN, value
        if suffix == "Integer" and isinstance(value, int) and not isinstance(value, bool):
            return INTEGER, value
        if suffix == "Decimal" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return DECIMAL, float(value)
        if suffix == "Date" and isinstance(value, str):
            return DATE, _parse_date(value, link_id)
        if suffix == "String" and isinstance(value, str):
            return STRING, value
        if suffix == "Coding":
            return CHOICE, _parse_coding(value, link_id, warnings, key)
        raise QuestionnaireError(link_id, f"{key} has the wrong JSON type")
    for suffix in ("DateTime", "Time", "Quantity", "Reference", "Uri", "Attachment"):
        if prefix + suffix in raw:
            raise QuestionnaireError(link_id, f"{prefix}{suffix} is not supported")
    return None


def _parse_date(value: str, link_id: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        # Partial dates (YYYY, YYYY-MM) are valid FHIR but the engine does not compare them yet.
        raise QuestionnaireError(link_id, "date is not a full YYYY-MM-DD date") from None


def _parse_initial(raw: dict[str, Any], link_id: str, warnings: list[str]) -> tuple[Value, ...]:
    values: list[Value] = []
    for entry in _as_list(raw.get("initial")):
        if not isinstance(entry, dict):
            raise QuestionnaireError(link_id, "an initial entry is not a JSON object")
        found = _value_from(entry, "value", link_id, warnings)
        if found is None:
            raise QuestionnaireError(link_id, "initial has no supported value")
        values.append(found[1])
    # R3 style: initialBoolean, initialString ... on the item itself.
    if not values:
        found = _value_from(raw, "initial", link_id, warnings)
        if found is not None:
            warnings.append(f"item {link_id!r}: initial[x] (STU3) read as initial")
            values.append(found[1])
    return tuple(values)


def _parse_enable_when(raw: Any, link_id: str, warnings: list[str]) -> EnableWhen:
    if not isinstance(raw, dict):
        raise QuestionnaireError(link_id, "an enableWhen is not a JSON object")
    question = raw.get("question")
    if not isinstance(question, str) or not question:
        raise QuestionnaireError(link_id, "enableWhen has no question")
    operator = raw.get("operator")
    if operator is None and "hasAnswer" in raw:  # STU3
        warnings.append(f"item {link_id!r}: enableWhen.hasAnswer (STU3) read as operator 'exists'")
        return EnableWhen(question, "exists", bool(raw["hasAnswer"]))
    found = _value_from(raw, "answer", link_id, warnings)
    if found is None:
        raise QuestionnaireError(link_id, "enableWhen has no answer")
    if operator is None:  # STU3 had no operator and meant equality
        warnings.append(f"item {link_id!r}: enableWhen without operator, read as '='")
        operator = "="
    if operator not in OPERATORS:
        raise QuestionnaireError(link_id, f"enableWhen operator {operator!r} is unknown")
    answer_type, answer = found
    if operator == "exists" and answer_type != BOOLEAN:
        raise QuestionnaireError(link_id, "enableWhen 'exists' needs answerBoolean")
    if operator in ORDERING_OPERATORS and answer_type in (BOOLEAN, CHOICE):
        raise QuestionnaireError(link_id, f"enableWhen {operator!r} cannot order a {answer_type} answer")
    return EnableWhen(question, operator, answer)


# Which enableWhen answer types make sense for which question types.
_COMPATIBLE: dict[str, tuple[type, ...]] = {
    BOOLEAN: (bool,),
    DECIMAL: (int, float),
    INTEGER: (int, float),
    DATE: (dt.date,),
    STRING: (str,),
    TEXT: (str,),
    CHOICE: (Coding, str, int),
    OPEN_CHOICE: (Coding, str, int),
}


def _enable_when_problem(q: Questionnaire, item: Item, condition: EnableWhen) -> str | None:
    target = q.by_link_id.get(condition.question)
    if target is None:
        return f"enableWhen refers to unknown linkId {condition.question!r}"
    if condition.question == item.link_id:
        return "enableWhen refers to the item itself"
    if not target.is_question:
        return f"enableWhen refers to {target.type} {target.link_id!r}"
    if condition.operator == "exists" or target.type not in _COMPATIBLE:
        return None  # an unsupported target type is reported on the target
    answer = condition.answer
    bool_mismatch = isinstance(answer, bool) != (target.type == BOOLEAN)
    if bool_mismatch or not isinstance(answer, _COMPATIBLE[target.type]):
        return f"enableWhen answer type does not fit {target.type} question {target.link_id!r}"
    if condition.operator in ORDERING_OPERATORS and target.type in (CHOICE, OPEN_CHOICE):
        return f"enableWhen {condition.operator!r} on a choice question"
    return None
