"""One Questionnaire, one question per screen: the plain-Python state machine a kiosk screen drives.

    runner = FormRunner(raw_questionnaire, "es", rules)    # QuestionnaireError if unreadable
    page = runner.page                 # what to show now (None once finished)
    runner.answer([value, ...])        # AnswerError | None; stores, does not move
    runner.next()                      # AnswerError (REQUIRED) | None; moves on
    runner.back()                      # False on the first page; answers stay
    runner.position, runner.total      # for "3 of 12"; total follows enableWhen
    runner.finished                    # True after next() on the last page
    runner.outcome()                   # FormOutcome of the confirmed answers
    runner.to_response("completed", authored="2025-03-10T09:00:00Z")
    saved = runner.snapshot()          # JSON; save after every confirmed answer
    runner = FormRunner.restore(raw_questionnaire, saved, rules)

Pages, in document order, for enabled items only:
- "question": a question the patient answers. Read-only, hidden (questionnaire-hidden) and
  calculated items (a total score) are never shown; their values still reach the response.
- "display": a text to read (answer() refuses it).
- "add_another": after each instance of a repeating group ("medications": name + dose), a
  yes/no question. Yes adds an instance whose pages come next; the answers of an instance the
  patient later takes back ("no" again) are kept, unsent, in case they say yes once more. Not
  shown once the group reaches its questionnaire-maxOccurs. Its `text` is a kiosk message id
  (marked with N_), to translate with the kiosk catalog and format with `text_params`
  ({"group": the group's text in the patient's language}); every other text on a page is
  already in the patient's language.

Confirmed answers: an answer counts as confirmed once the patient presses Next on its page
(next() succeeds). A partial ("in-progress") response, outcome() and snapshot() hold confirmed
answers only, so a tap the patient never confirmed is not sent; once finished, every answer
shown was confirmed.

Texts come in `language` from the form's translation extensions, falling back to the form's own
text only where it has no translation. Boolean pages carry no options: the screen shows its own
yes/no buttons and answers True/False.

Speed: enablement is recomputed once per change of answers, in one pass over the items with a
memoised evaluator (linear in the number of items and conditions), and only when a page, the
position or the total is asked for.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.forms.answers import (
    COMPLETED,
    IN_PROGRESS,
    NOT_ANSWERABLE,
    NOT_YES_NO,
    REQUIRED,
    AnswerError,
    FormAnswers,
    value_from_json,
    value_to_json,
)
from kiosk.forms.questionnaire import (
    BOOLEAN,
    CHOICE,
    DECIMAL,
    DISPLAY,
    GROUP,
    INTEGER,
    OPEN_CHOICE,
    Coding,
    Instance,
    Item,
    Questionnaire,
    Value,
    parse_questionnaire,
)
from kiosk.forms.rules import Rules, apply_rules, find_rules, load_rules
from kiosk.forms.scoring import Score, ScoringError, item_scores, read_scoring, score_response
from kiosk.forms.translations import text_in
from kiosk.forms.value_sets import inline_value_sets
from kiosk.i18n_markers import N_

QUESTION = "question"
DISPLAY_PAGE = "display"
ADD_ANOTHER = "add_another"
ADD_ANOTHER_TEXT = N_("Do you want to add another to “{group}”?")
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class Page:
    kind: str  # QUESTION, DISPLAY_PAGE or ADD_ANOTHER
    link_id: str  # for ADD_ANOTHER: the repeating group's
    instance: Instance  # repeating-group indexes, outermost first; () outside repeating groups
    item_type: str  # FHIR item type; BOOLEAN for ADD_ANOTHER
    text: str
    context: tuple[str, ...] = ()  # texts of the enclosing groups (and questions), outermost first
    options: tuple[tuple[Value, str], ...] = ()  # (value to answer, label) for choice items
    required: bool = False
    repeats: bool = False  # several answers allowed (check boxes)
    max_length: int | None = None
    answer: tuple[Value, ...] = ()  # the current answers
    prefix: str | None = None  # e.g. "1."
    text_params: Mapping[str, str] = field(default_factory=dict)  # only for ADD_ANOTHER


@dataclass(frozen=True)
class FormOutcome:
    total: float | None  # None when the form has no scoring or nothing scored was answered
    band: str | None
    flags: tuple[str, ...]
    urgent: bool
    rules: str | None = None  # the rules file used
    problem: str | None = None  # why no total could be worked out (names items, never answers)


class SnapshotError(ValueError):
    """A snapshot cannot be restored onto this Questionnaire. Never contains answers."""


@dataclass(frozen=True)
class _Key:
    kind: str
    link_id: str
    instance: Instance


def fingerprint(raw_questionnaire: Any) -> str:
    """Identifies the exact form a snapshot was made on (a new version is another form)."""
    text = json.dumps(raw_questionnaire, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def is_shown(item: Item) -> bool:
    """A question the patient answers on a page of its own."""
    return item.is_question and not (item.read_only or item.hidden or item.calculated)


def _index_raw_items(raw_q: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Any) -> None:
        for raw in items if isinstance(items, list) else []:
            if isinstance(raw, dict) and isinstance(raw.get("linkId"), str):
                out.setdefault(raw["linkId"], raw)
                walk(raw.get("item"))

    walk(raw_q.get("item"))
    return out


class FormRunner:
    """One patient filling one form; see the module docstring. Not thread-safe: one screen."""

    def __init__(self, raw_questionnaire: dict[str, Any], language: str, rules: Iterable[Rules] | None = None):
        """QuestionnaireError when the form cannot be read. `rules`: the clinic's rules
        (find_rules picks the one for this form); None means the bundled rules."""
        self._fingerprint = fingerprint(raw_questionnaire)
        self.raw = inline_value_sets(raw_questionnaire)
        self.questionnaire: Questionnaire = parse_questionnaire(self.raw)
        self.language = language
        self._rules = load_rules() if rules is None else list(rules)
        self.answers = FormAnswers(self.questionnaire)
        self._raw_items = _index_raw_items(self.raw)
        self._scoring = read_scoring(self.raw)  # read once: it parses every FHIRPath expression
        self._more: dict[tuple[str, Instance], bool] = {}  # add_another answers
        # What the patient confirmed with Next (an answer chosen but not confirmed is shown on
        # its page but goes into no partial response, outcome or snapshot).
        self._confirmed: dict[tuple[str, Instance], tuple[Value, ...]] = {}
        self._confirmed_more: dict[tuple[str, Instance], bool] = {}
        self._pages: list[_Key] | None = None
        self._page_index: dict[_Key, int] = {}
        self._contexts: dict[_Key, tuple[str, ...]] = {}
        self._hint = 0  # last known position, for when the current page goes away
        self.finished = False
        pages = self._keys()
        self._current: _Key | None = pages[0] if pages else None
        if not pages:
            self.finished = True

    # -- where we are ---------------------------------------------------------------------------

    def set_language(self, language: str) -> None:
        """The patient switched language: the next page comes in it."""
        self.language = language

    @property
    def page(self) -> Page | None:
        if self.finished or self._current is None:
            return None
        self._locate()
        return None if self.finished else self._render(self._current)

    @property
    def position(self) -> int:
        """1-based position of the current page among the enabled pages (total once finished)."""
        if self.finished:
            return self.total
        return self._locate() + 1

    @property
    def total(self) -> int:
        return len(self._keys())

    def _keys(self) -> list[_Key]:
        if self._pages is None:
            self._pages, self._contexts = self._build()
            self._page_index = {key: i for i, key in enumerate(self._pages)}
        return self._pages

    def _locate(self) -> int:
        """Index of the current page; if it is no longer enabled, the page now in its place."""
        pages = self._keys()
        index = self._page_index.get(self._current) if self._current is not None else None
        if index is None:
            if not pages:
                self.finished = True
                return 0
            index = min(self._hint, len(pages) - 1)
            self._current = pages[index]
        self._hint = index
        return index

    def _invalidate(self) -> None:
        self._pages = None

    def _build(self) -> tuple[list[_Key], dict[_Key, tuple[str, ...]]]:
        evaluator = self.answers.evaluator()
        keys: list[_Key] = []
        contexts: dict[_Key, tuple[str, ...]] = {}

        def add(key: _Key, context: tuple[str, ...]) -> None:
            keys.append(key)
            contexts[key] = context

        def visit(items: Sequence[Item], instance: Instance, context: tuple[str, ...]) -> None:
            for item in items:
                if item.hidden:
                    continue
                if item.is_repeating_group:
                    for index in range(self.answers.instance_count(item.link_id, instance)):
                        inner = instance + (index,)
                        if not evaluator.is_enabled(item.link_id, inner):
                            continue
                        visit(item.items, inner, context + (item.link_id,))
                        if item.max_occurs is None or index + 1 < item.max_occurs:
                            add(_Key(ADD_ANOTHER, item.link_id, inner), context)
                    continue
                if not evaluator.is_enabled(item.link_id, instance):
                    continue
                if item.type == DISPLAY:
                    add(_Key(DISPLAY_PAGE, item.link_id, instance), context)
                elif is_shown(item):
                    add(_Key(QUESTION, item.link_id, instance), context)
                visit(item.items, instance, context + (item.link_id,))

        visit(self.questionnaire.items, (), ())
        return keys, contexts

    # -- what a page shows ------------------------------------------------------------------------

    def _text(self, link_id: str, key: str = "text") -> str | None:
        return text_in(self._raw_items.get(link_id), key, self.language)

    def _render(self, key: _Key) -> Page:
        item = self.questionnaire.by_link_id[key.link_id]
        context = tuple(t for t in (self._text(link_id) for link_id in self._contexts.get(key, ())) if t)
        if key.kind == ADD_ANOTHER:
            chosen = self._more.get((key.link_id, key.instance))
            return Page(
                kind=ADD_ANOTHER, link_id=key.link_id, instance=key.instance, item_type=BOOLEAN,
                text=ADD_ANOTHER_TEXT, text_params={"group": self._text(key.link_id) or ""},
                context=context, required=True, answer=() if chosen is None else (chosen,),
            )
        return Page(
            kind=key.kind, link_id=key.link_id, instance=key.instance, item_type=item.type,
            text=self._text(key.link_id) or "", context=context, options=self._options(item),
            required=item.required and key.kind == QUESTION, repeats=item.repeats,
            max_length=item.max_length, answer=self.answers.get(key.link_id, key.instance) if item.is_question else (),
            prefix=self._text(key.link_id, "prefix"),
        )

    def _options(self, item: Item) -> tuple[tuple[Value, str], ...]:
        if item.type not in (CHOICE, OPEN_CHOICE):
            return ()
        raw = self._raw_items.get(item.link_id, {})
        raw_options = raw.get("answerOption") or raw.get("option") or []
        out = []
        for option, raw_option in zip(item.answer_options, raw_options):
            value = option.value
            if isinstance(value, Coding):
                owner = raw_option.get("valueCoding") if isinstance(raw_option.get("valueCoding"), dict) else raw_option
                label = text_in(owner, "display", self.language) or value.code
            elif isinstance(value, str):
                label = text_in(raw_option, "valueString", self.language) or value
            else:
                label = str(value)
            out.append((value, label))
        return tuple(out)

    # -- moving ---------------------------------------------------------------------------------

    def answer(self, values: Sequence[Value]) -> AnswerError | None:
        """Store the answers for the current page (validated); the page does not change."""
        if self.finished or self._current is None:
            return NOT_ANSWERABLE
        self._locate()
        key = self._current
        if key.kind == DISPLAY_PAGE:
            return NOT_ANSWERABLE
        if key.kind == ADD_ANOTHER:
            if len(values) != 1 or not isinstance(values[0], bool):
                return NOT_YES_NO
            self._more[(key.link_id, key.instance)] = values[0]
            self._sync_count(key.link_id, key.instance[:-1])
        else:
            error = self.answers.set(key.link_id, values, key.instance)
            if error is not None:
                return error
        self._invalidate()
        return None

    def _sync_count(self, group: str, parent: Instance) -> None:
        """Instances = 1 + the unbroken run of "yes" to "add another?" from the first one."""
        count = 1
        while self._more.get((group, parent + (count - 1,))):
            count += 1
        limit = self.questionnaire.by_link_id[group].max_occurs
        self.answers.set_instance_count(group, min(count, limit) if limit else count, parent)

    def next(self) -> AnswerError | None:
        """Check the current page (REQUIRED when a required answer is missing) and move on;
        after the last page `finished` becomes True."""
        if self.finished or self._current is None:
            return None
        index = self._locate()
        key = self._current
        if key.kind == QUESTION:
            item = self.questionnaire.by_link_id[key.link_id]
            if item.required and not self.answers.get(key.link_id, key.instance):
                return REQUIRED
        elif key.kind == ADD_ANOTHER and (key.link_id, key.instance) not in self._more:
            return REQUIRED
        self._confirm(key)
        pages = self._keys()
        if index + 1 < len(pages):
            self._current = pages[index + 1]
            self._hint = index + 1
        else:
            self.finished = True
        return None

    def _confirm(self, key: _Key) -> None:
        if key.kind == QUESTION:
            self._confirmed[(key.link_id, key.instance)] = self.answers.get(key.link_id, key.instance)
        elif key.kind == ADD_ANOTHER:
            self._confirmed_more[(key.link_id, key.instance)] = self._more[(key.link_id, key.instance)]

    def _confirmed_answers(self) -> FormAnswers:
        """The answers as the patient confirmed them: the basis of partial responses."""
        answers = FormAnswers(self.questionnaire)
        for (group, instance) in self._confirmed_more:
            parent = instance[:-1]
            count = 1
            while self._confirmed_more.get((group, parent + (count - 1,))):
                count += 1
            limit = self.questionnaire.by_link_id[group].max_occurs
            answers.set_instance_count(group, min(count, limit) if limit else count, parent)
        for (link_id, instance), values in self._confirmed.items():
            if values:
                answers.set(link_id, values, instance)
            else:
                answers.clear(link_id, instance)
        return answers

    def back(self) -> bool:
        """Back one page (from the end: to the last page). False on the first page."""
        pages = self._keys()
        if self.finished:
            if not pages:
                return False
            self.finished = False
            self._current = pages[-1]
            self._hint = len(pages) - 1
            return True
        index = self._locate()
        if index == 0:
            return False
        self._current = pages[index - 1]
        self._hint = index - 1
        return True

    # -- results --------------------------------------------------------------------------------

    def _score(self, answers: FormAnswers) -> tuple[Score, Rules | None, str | None]:
        response = answers.to_response(IN_PROGRESS)
        rules = find_rules(self._rules, self.raw)
        try:
            total_link_id = rules.total_link_id if rules else None
            score = score_response(self.raw, response, total_link_id=total_link_id, model=self._scoring)
            return score, rules, None
        except ScoringError as exc:
            # Flags on single answers (self-harm) must survive a total that cannot be worked out.
            return Score(None, item_scores(self._scoring, response)), rules, str(exc)

    def outcome(self) -> FormOutcome:
        """Total, band and flags of the confirmed answers (all of them once finished)."""
        score, rules, problem = self._score(self._confirmed_answers())
        if rules is None:
            return FormOutcome(score.total, None, (), False, None, problem)
        result = apply_rules(rules, self._scoring, score)
        return FormOutcome(score.total, result.band, result.flags, result.urgent, rules.name, problem)

    def to_response(self, status: str = COMPLETED, authored: str | None = None) -> dict[str, Any]:
        """The QuestionnaireResponse. "completed" raises IncompleteForm while required answers
        are missing, and puts a calculated total score into its read-only item, where the EHR
        expects it. "in-progress" (timeout, crash) holds only what the patient confirmed with
        Next, and no total: a total of half the answers would mislead."""
        if status != COMPLETED:
            return self._confirmed_answers().to_response(status, authored=authored)
        score, _, _ = self._score(self.answers)
        computed: dict[str, Value] = {}
        target = self.questionnaire.by_link_id.get(score.total_link_id or "")
        if score.total is not None and target is not None and not target.repeats:
            if target.type == DECIMAL:
                computed[target.link_id] = float(score.total)
            elif target.type == INTEGER and float(score.total).is_integer():
                computed[target.link_id] = int(score.total)
        return self.answers.to_response(status, authored=authored, computed=computed)

    # -- saving and restoring ---------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The confirmed answers (every instance), add-another choices, position and language,
        as JSON. Take one after every confirmed answer; an answer chosen but not yet confirmed
        is not in it."""
        current = None
        if self._current is not None and not self.finished:
            self._locate()
            current = {"kind": self._current.kind, "linkId": self._current.link_id,
                       "instance": list(self._current.instance)}
        by_id = self.questionnaire.by_link_id
        return {
            "format": SNAPSHOT_FORMAT,
            "form": self._fingerprint,
            "language": self.language,
            "finished": self.finished,
            "position": current,
            "answers": [
                {"linkId": link_id, "instance": list(instance),
                 "values": [value_to_json(by_id[link_id], v) for v in values]}
                for (link_id, instance), values in self._confirmed.items()
            ],
            "more": [{"linkId": group, "instance": list(instance), "value": value}
                     for (group, instance), value in self._confirmed_more.items()],
        }

    @classmethod
    def restore(cls, raw_questionnaire: dict[str, Any], snapshot: Any,
                rules: Iterable[Rules] | None = None) -> FormRunner:
        """The runner as it was when the snapshot was taken. SnapshotError when the snapshot is
        damaged, made on another form (or another version of it), or holds an answer the form
        no longer accepts."""
        if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError("not a form snapshot of a known format")
        if snapshot.get("form") != fingerprint(raw_questionnaire):
            raise SnapshotError("the snapshot was made on another form or another version of it")
        language = snapshot.get("language")
        if not isinstance(language, str) or not language:
            raise SnapshotError("the snapshot has no language")
        runner = cls(raw_questionnaire, language, rules)
        q = runner.questionnaire
        try:
            for entry in snapshot.get("more") or []:
                group, instance = entry["linkId"], _instance(entry["instance"])
                item = q.by_link_id.get(group)
                if item is None or not item.is_repeating_group or not isinstance(entry["value"], bool):
                    raise SnapshotError(f"add-another entry for {group!r} does not fit the form")
                runner._more[(group, instance)] = runner._confirmed_more[(group, instance)] = entry["value"]
            for group, instance in list(runner._more):
                runner._sync_count(group, instance[:-1])
            for entry in snapshot.get("answers") or []:
                link_id, instance = entry["linkId"], _instance(entry["instance"])
                if link_id not in q.by_link_id:
                    raise SnapshotError(f"answer for unknown item {link_id!r}")
                values = [value_from_json(v) for v in entry["values"]]
                if values:
                    if runner.answers.set(link_id, values, instance) is not None:
                        raise SnapshotError(f"the saved answer to item {link_id!r} does not fit the form")
                else:
                    runner.answers.clear(link_id, instance)
                runner._confirmed[(link_id, q.instance_of(link_id, instance))] = runner.answers.get(link_id, instance)
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SnapshotError("the snapshot is damaged") from None
        runner._invalidate()
        runner.finished = bool(snapshot.get("finished")) and runner.total > 0
        position = snapshot.get("position")
        if isinstance(position, dict):
            try:
                key = _Key(position["kind"], position["linkId"], _instance(position["instance"]))
            except (KeyError, TypeError, ValueError):
                raise SnapshotError("the snapshot is damaged") from None
            runner._keys()
            if key in runner._page_index:
                runner._current = key
                runner._hint = runner._page_index[key]
        return runner


def _instance(raw: Any) -> Instance:
    if not isinstance(raw, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in raw):
        raise ValueError("bad instance")
    return tuple(raw)


# -- what the form authors' tool adds ---------------------------------------------------------------


def kiosk_problems(raw_questionnaire: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(errors, warnings) about what the kiosk screens would meet in a form that parses: a
    question no one can answer, an empty page, an option shown as a bare code..."""
    raw_q = inline_value_sets(raw_questionnaire)
    q = parse_questionnaire(raw_q)
    raw_items = _index_raw_items(raw_q)
    errors: list[str] = []
    warnings: list[str] = []
    shown = 0
    for item in q.walk():
        where = f"item {item.link_id!r}"
        if item.type == DISPLAY:
            shown += 1
            if not item.text:
                warnings.append(f"{where}: display item has no text (the kiosk would show an empty page)")
            if item.repeats:
                warnings.append(f"{where}: a display item cannot repeat; shown once")
        if is_shown(item):
            shown += 1
        elif item.is_question and not (item.initial or item.calculated or any(o.initial_selected for o in item.answer_options)):
            if item.required:
                errors.append(f"{where}: required but read-only or hidden, with no initial value or "
                              "calculatedExpression: no one can answer it")
            else:
                warnings.append(f"{where}: read-only or hidden with no initial value or calculatedExpression: "
                                "the kiosk never shows it and never fills it")
        if item.is_question and item.repeats and item.items:
            warnings.append(f"{where}: items under a repeating question are kept under its first answer only")
        if item.is_question and item.repeats and item.type not in (CHOICE, OPEN_CHOICE) and is_shown(item):
            warnings.append(f"{where}: a repeating {item.type} question: the kiosk page takes its answers as a list")
        if item.is_repeating_group and not item.text:
            warnings.append(f"{where}: repeating group has no text (the kiosk's 'add another' question "
                            "would not say what to add)")
        if item.type == GROUP and item.items and all(child.hidden for child in item.items):
            warnings.append(f"{where}: every item in the group is hidden")
        raw = raw_items.get(item.link_id, {})
        for option, raw_option in zip(item.answer_options, raw.get("answerOption") or raw.get("option") or []):
            if isinstance(option.value, Coding) and not option.value.display:
                warnings.append(f"{where}: option {option.value.code!r} has no display (the kiosk would show the code)")
        for condition in item.enable_when:
            target = q.by_link_id.get(condition.question)
            if target is None:
                continue
            outside = [g for g in q.repeat_path[target.link_id] if g not in q.repeat_path[item.link_id]]
            if outside:
                which = "last" if q.order[outside[0]] < q.order[item.link_id] else "first"
                warnings.append(f"{where}: enableWhen reads {target.link_id!r} inside repeating group "
                                f"{outside[0]!r}, which this item is not in: only the {which} entry counts")
    if not shown:
        errors.append("questionnaire: no question or text the kiosk would show")
    return errors, warnings
