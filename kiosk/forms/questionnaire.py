"""Read a FHIR R4 Questionnaire (JSON as a dict) into frozen dataclasses.

Questionnaires come from other publishers too, and not all are strictly valid FHIR. Where the
meaning is clear we accept the input and record a warning (for the form authors' tool); where it
is not, `QuestionnaireError` names the linkId. Messages never contain answers: a Questionnaire
holds no PHI, but the same value types are reused for patients' answers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Union

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


class QuestionnaireError(ValueError):
    """The Questionnaire cannot be understood. `link_id` is the item at fault ("" for the root)."""

    def __init__(self, link_id: str, problem: str):
        self.link_id = link_id
        self.problem = problem
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

    @property
    def is_question(self) -> bool:
        return self.type not in NON_QUESTION_TYPES


@dataclass(frozen=True)
class Questionnaire:
    url: str | None
    version: str | None
    title: str | None
    status: str | None
    codes: tuple[Coding, ...]
    items: tuple[Item, ...]
    warnings: tuple[str, ...] = ()
    # linkId -> item and linkId -> parent linkId (None at top level); filled in __post_init__.
    by_link_id: dict[str, Item] = field(default_factory=dict, compare=False, repr=False)
    parent_of: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        def index(items: tuple[Item, ...], parent: str | None) -> None:
            for item in items:
                self.by_link_id[item.link_id] = item
                self.parent_of[item.link_id] = parent
                index(item.items, item.link_id)

        index(self.items, None)

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


# -- parsing ------------------------------------------------------------------------------------


def parse_questionnaire(data: dict[str, Any]) -> Questionnaire:
    if not isinstance(data, dict):
        raise QuestionnaireError("", "not a JSON object")
    warnings: list[str] = []
    kind = data.get("resourceType")
    if kind != "Questionnaire":
        if kind is None:
            warnings.append("questionnaire: resourceType missing, read as Questionnaire")
        else:
            raise QuestionnaireError("", f"resourceType is {kind!r}, not Questionnaire")
    codes = tuple(_parse_coding(c, "", warnings, "code") for c in _as_list(data.get("code")))
    seen: set[str] = set()
    items = tuple(_parse_item(i, warnings, seen) for i in _as_list(data.get("item")))
    q = Questionnaire(
        url=data.get("url"),
        version=data.get("version"),
        title=data.get("title") or data.get("name"),
        status=data.get("status"),
        codes=codes,
        items=items,
        warnings=(),
    )
    _check_enable_when(q, warnings)
    _check_no_cycles(q)
    return Questionnaire(
        url=q.url, version=q.version, title=q.title, status=q.status, codes=q.codes,
        items=q.items, warnings=tuple(warnings),
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_bool(raw: dict[str, Any], key: str, link_id: str, warnings: list[str]) -> bool:
    value = raw.get(key, False)  # absent means false in FHIR
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        warnings.append(f"item {link_id!r}: {key} is the string {value!r}, read as a boolean")
        return value == "true"
    raise QuestionnaireError(link_id, f"{key} is not a boolean")


def _parse_item(raw: Any, warnings: list[str], seen: set[str]) -> Item:
    if not isinstance(raw, dict):
        raise QuestionnaireError("", "an item is not a JSON object")
    link_id = raw.get("linkId")
    if not isinstance(link_id, str) or not link_id:
        raise QuestionnaireError("", f"an item has no linkId (text: {raw.get('text')!r})")
    if link_id in seen:
        raise QuestionnaireError(link_id, "duplicate linkId")
    seen.add(link_id)

    item_type = raw.get("type")
    if item_type is None:
        raise QuestionnaireError(link_id, "item has no type")
    if item_type not in SUPPORTED_TYPES:
        raise QuestionnaireError(link_id, f"unsupported item type {item_type!r}")

    max_length = raw.get("maxLength")
    if max_length is not None:
        if isinstance(max_length, str) and max_length.isdigit():
            warnings.append(f"item {link_id!r}: maxLength is a string, read as a number")
            max_length = int(max_length)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
            raise QuestionnaireError(link_id, "maxLength is not a positive integer")
        if item_type not in (STRING, TEXT, OPEN_CHOICE):
            warnings.append(f"item {link_id!r}: maxLength on a {item_type} item is ignored")
            max_length = None

    # STU3 called answerOption "option"; the meaning is the same.
    raw_options = raw.get("answerOption")
    if raw_options is None and "option" in raw:
        warnings.append(f"item {link_id!r}: 'option' (STU3) read as answerOption")
        raw_options = raw["option"]
    options = tuple(_parse_option(o, link_id, warnings) for o in _as_list(raw_options))
    if options and item_type not in (CHOICE, OPEN_CHOICE):
        warnings.append(f"item {link_id!r}: answerOption on a {item_type} item is ignored")
        options = ()
    if item_type == CHOICE and not options and "answerValueSet" not in raw:
        raise QuestionnaireError(link_id, "choice item has no answerOption")
    if "answerValueSet" in raw and not options:
        # Expanding value sets needs a terminology source the kiosk does not have offline.
        raise QuestionnaireError(link_id, "answerValueSet without answerOption is not supported")

    enable_when = tuple(_parse_enable_when(e, link_id, warnings) for e in _as_list(raw.get("enableWhen")))
    behavior = raw.get("enableBehavior")
    if behavior is None:
        behavior = "all"
        if len(enable_when) > 1:
            warnings.append(f"item {link_id!r}: several enableWhen without enableBehavior, read as 'all'")
    elif behavior not in ("all", "any"):
        raise QuestionnaireError(link_id, f"enableBehavior {behavior!r} is not 'all' or 'any'")

    item = Item(
        link_id=link_id,
        type=item_type,
        text=raw.get("text"),
        required=_parse_bool(raw, "required", link_id, warnings),
        repeats=_parse_bool(raw, "repeats", link_id, warnings),
        read_only=_parse_bool(raw, "readOnly", link_id, warnings),
        max_length=max_length,
        initial=_parse_initial(raw, item_type, link_id, warnings),
        answer_options=options,
        enable_when=enable_when,
        enable_behavior=behavior,
        items=tuple(_parse_item(i, warnings, seen) for i in _as_list(raw.get("item"))),
    )
    if item_type == GROUP and not item.items:
        warnings.append(f"item {link_id!r}: group has no items")
    if item_type == DISPLAY and (item.required or item.initial):
        warnings.append(f"item {link_id!r}: display item cannot be required or answered; ignored")
        item = Item(**{**item.__dict__, "required": False, "initial": ()})
    if item.is_question and not item.text:
        warnings.append(f"item {link_id!r}: question has no text")
    return item


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
    if "valueDate" in raw or "valueTime" in raw or "valueReference" in raw:
        raise QuestionnaireError(link_id, "answerOption of this value type is not supported")
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


def _parse_initial(raw: dict[str, Any], item_type: str, link_id: str, warnings: list[str]) -> tuple[Value, ...]:
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


def _check_enable_when(q: Questionnaire, warnings: list[str]) -> None:
    for item in q.walk():
        for condition in item.enable_when:
            target = q.by_link_id.get(condition.question)
            if target is None:
                raise QuestionnaireError(item.link_id, f"enableWhen refers to unknown linkId {condition.question!r}")
            if condition.question == item.link_id:
                raise QuestionnaireError(item.link_id, "enableWhen refers to the item itself")
            if not target.is_question:
                raise QuestionnaireError(item.link_id, f"enableWhen refers to {target.type} {target.link_id!r}")
            if condition.operator == "exists":
                continue
            answer = condition.answer
            allowed = _COMPATIBLE[target.type]
            bool_mismatch = isinstance(answer, bool) != (target.type == BOOLEAN)
            if bool_mismatch or not isinstance(answer, allowed):
                raise QuestionnaireError(
                    item.link_id,
                    f"enableWhen answer type does not fit {target.type} question {target.link_id!r}",
                )
            if condition.operator in ORDERING_OPERATORS and target.type in (CHOICE, OPEN_CHOICE):
                raise QuestionnaireError(item.link_id, f"enableWhen {condition.operator!r} on a choice question")


def _check_no_cycles(q: Questionnaire) -> None:
    """An item depends on its parent and on the questions in its enableWhen; no loops allowed."""
    depends: dict[str, list[str]] = {}
    for item in q.walk():
        deps = [c.question for c in item.enable_when]
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
            raise QuestionnaireError(link_id, "enableWhen conditions form a loop")
        on_path.add(link_id)
        for dep in depends[link_id]:
            visit(dep)
        on_path.discard(link_id)
        done.add(link_id)

    for link_id in depends:
        visit(link_id)
