"""Intake forms, one question per screen: large answer buttons, progress, back and next.

The screen renders the FormRunner's current page and hands what the patient chose to
the forms step (kiosk.steps.forms), which validates, saves and moves on.
"""
from __future__ import annotations

from datetime import date

from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kiosk.widgets.mirror import MirrorBoxLayout

from kiosk.forms.answers import NOT_A_DATE, NOT_A_NUMBER, NOT_WHOLE_NUMBER
from kiosk.forms.enable_when import values_equal
from kiosk.forms.translations import text_in
from kiosk.screens import load_kv_once
from kiosk.screens.base import PagedScreen
from kiosk.widgets.buttons import KioskButton
from kiosk.widgets.date_entry import DateEntry
from kiosk.widgets.entry import EntryField
from kiosk.widgets.keyboard import BACKSPACE, OnScreenKeyboard, text_layouts
from kiosk.widgets.keypad import Keypad
from kiosk.widgets.tr import tr

CHOICE_TYPES = ("choice", "open-choice", "boolean")
NUMBER_TYPES = ("integer", "decimal")
TEXT_TYPES = ("string", "text")


class ChoiceButton(KioskButton):
    label = StringProperty("")
    selected = BooleanProperty(False)
    value = ObjectProperty(None, allownone=True)


class FormEntryRow(MirrorBoxLayout):
    """Back, the typed answer and Next in one row (above the on-screen keyboard)."""

    screen = ObjectProperty(None, allownone=True)


class FormsScreen(PagedScreen):
    form_title = StringProperty("")
    position = NumericProperty(0)
    total = NumericProperty(0)
    context = StringProperty("")
    question = StringProperty("")
    kind = StringProperty("")  # choice, number, date, text, display
    multiple = BooleanProperty(False)
    can_go_back = BooleanProperty(False)
    inline_actions = BooleanProperty(False)  # Back/Next sit beside a typed answer

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._choices: list[ChoiceButton] = []
        self._entry: EntryField | None = None
        self._date: DateEntry | None = None
        self._shown = None  # (form, page, language) on screen, so a refresh keeps typing
        self._kept: dict[str, object] = {}  # reused answer widgets (see _reused)
        self._item_type = ""

    @property
    def step(self):
        return self.journey.step("forms")

    # -- showing ---------------------------------------------------------------------
    def refresh(self) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "forms":
            return
        if self.step.showing_calm_message(journey):
            self.show_part(self.part("FormCalmPage"))
            return
        runner = self.step.runner(journey)
        if runner is None:  # nothing left (e.g. the last form ended with the calm message)
            return
        page = runner.page
        number, forms = self.step.progress(journey)
        title = text_in(runner.raw, "title", runner.language) or ""
        self.form_title = tr._("Form {number} of {total}").format(number=number, total=forms) + (f" · {title}" if title else "")
        self.position, self.total = runner.position, runner.total
        self.context = "\n".join(page.context)
        if page.kind == "add_another":
            self.question = tr._(page.text).format(**page.text_params)
        else:
            self.question = f"{page.prefix} {page.text}" if page.prefix else page.text
        self.can_go_back = runner.position > 1
        self.show_part(self._page())
        key = (id(runner), runner.position, page.kind, page.link_id, page.instance, tr.language)
        if key != self._shown:
            # The same question in another language keeps what the patient had started.
            unconfirmed = self._unconfirmed() if self._shown and self._shown[:-1] == key[:-1] else None
            self._shown = key
            self._build_answers(page)
            if unconfirmed is not None:
                self._restore(unconfirmed)
            self._page().ids.scroll.scroll_y = 1

    def _page(self):
        return self.part("FormQuestionPage")

    def _unconfirmed(self) -> tuple:
        """What is chosen, typed or keyed on this page and not yet confirmed with Next."""
        return ([b.selected for b in self._choices], self._entry.value if self._entry is not None else None,
                dict(self._date.values) if self._date is not None else None)

    def _restore(self, unconfirmed: tuple) -> None:
        selected, typed, date = unconfirmed
        if len(selected) == len(self._choices):
            for button, was in zip(self._choices, selected):
                button.selected = was
        if typed is not None and self._entry is not None:
            self._entry.value = typed
        if date is not None and self._date is not None:
            self._date.values = date

    def _build_answers(self, page) -> None:
        ids = self._page().ids
        for box in (ids.answers, ids.side, ids.below):
            box.clear_widgets()
        self._choices, self._entry, self._date = [], None, None
        self._item_type = page.item_type
        self.inline_actions = False
        kind = "display" if page.kind == "display" else ("choice" if page.kind == "add_another" else page.item_type)
        self.multiple = bool(page.repeats) and kind in ("choice", "open-choice")
        if page.kind == "add_another" or kind == "boolean":
            options = [(True, tr._("Yes")), (False, tr._("No"))]
        else:
            options = list(page.options)
        current = list(page.answer)
        if kind in CHOICE_TYPES or page.kind == "add_another":
            self.kind = "choice"
            # Two answers (Yes / No) go side by side: stacked, the second fell below the
            # fold at the largest text and a patient saw only "Yes".
            row = Factory.ActionRow() if len(options) == 2 and kind != "open-choice" else None
            if row is not None:
                ids.answers.add_widget(row)
            for value, label in options:
                button = ChoiceButton(label=label, value=value, selected=any(values_equal(value, v) for v in current),
                                      action=f"answer:{len(self._choices)}")
                button.bind(on_release=self._choose)
                self._choices.append(button)
                (row or ids.answers).add_widget(button)
            if kind == "open-choice":
                typed = next((v for v in current if isinstance(v, str) and not any(values_equal(v, o) for o, _ in options)), "")
                ids.answers.add_widget(Factory.KLabel(text=tr._("Something else:"), role="muted"))
                self._add_text_entry(ids, typed, page.max_length)
        elif kind in NUMBER_TYPES:
            self.kind = "number"
            self._entry = self._reused("number_entry", lambda: EntryField(max_length=12, action="answer:number"))
            self._entry.value, self._entry.placeholder = _number_text(current), tr._("Type a number")
            ids.answers.add_widget(self._entry)
            ids.side.add_widget(self._keypad())
            if page.item_type == "decimal":
                ids.answers.add_widget(self._reused("point", self._decimal_point))
        elif kind == "date":
            self.kind = "date"
            self._date = self._reused("date", DateEntry)
            self._date.clear()
            self._date.order = list(self.app.translator.date_field_order())
            if current:
                d = current[0]
                self._date.values = {"year": str(d.year), "month": f"{d.month:02d}", "day": f"{d.day:02d}"}
            ids.answers.add_widget(self._date)
            ids.side.add_widget(self._keypad())
        elif kind in TEXT_TYPES:
            self.kind = "text"
            self._add_text_entry(ids, str(current[0]) if current else "", page.max_length)
        else:
            self.kind = "display"

    def _add_text_entry(self, ids, value: str, max_length) -> None:
        # Entry, Back and Next in one row above the keyboard: at the largest text the
        # keyboard leaves little room, and the question above must still show.
        row = self._reused("entry_row", self._entry_row)
        self._entry = row.ids.entry_box.children[0]
        self._entry.value, self._entry.max_length = value, max_length or 200
        self._entry.placeholder = tr._("Type your answer")
        ids.below.add_widget(row)
        self.inline_actions = True
        keyboard = self._reused("keyboard", self._keyboard)
        keyboard.show_layouts(*text_layouts(tr.language))
        ids.below.add_widget(keyboard)

    # The keyboard, keypad and entries are made once and moved between pages: building
    # fifty keys again for every typed question cost most of a page change.
    def _reused(self, name: str, make):
        widget = self._kept.get(name)
        if widget is None:
            widget = self._kept[name] = make()
        return widget

    def _keyboard(self):
        keyboard = OnScreenKeyboard(layout="text")
        keyboard.bind(on_key=lambda _w, key: self._text_key(key))
        return keyboard

    def _entry_row(self):
        row = FormEntryRow(screen=self)
        row.ids.entry_box.add_widget(EntryField(action="answer:text"))
        return row

    def _keypad(self):
        def make():
            keypad = Keypad()
            keypad.bind(on_key=lambda _w, key: self._keypad_key(key))
            return keypad

        return self._reused("keypad", make)

    def _keypad_key(self, key: str) -> None:
        if self.kind == "date":
            self._date.backspace() if key == BACKSPACE else self._date.type_digit(key)
        else:
            self._number_key(key)

    def _decimal_point(self):
        point = KioskButton(text=".", kind="secondary", action="key:.", size_hint_x=None, width=dp(420))
        point.bind(on_release=lambda *_: self._number_key("."))
        return point

    # -- the patient's touches ---------------------------------------------------------
    def _choose(self, button: ChoiceButton) -> None:
        if self.multiple:
            button.selected = not button.selected
        else:
            for other in self._choices:
                other.selected = other is button
            if self._entry is not None:
                self._entry.clear()  # open-choice: an option replaces typed text
        self.notice = ""

    def _number_key(self, key: str) -> None:
        if key == BACKSPACE:
            self._entry.backspace()
        elif key != "." or "." not in self._entry.value:
            self._entry.type(key)

    def _text_key(self, key: str) -> None:
        if key == BACKSPACE:
            self._entry.backspace()
        else:
            self._entry.type(key)
            if not self.multiple:
                for button in self._choices:
                    button.selected = False  # open-choice: typed text replaces an option

    def _values(self):
        """What the patient gave on this page, as engine values; or a message id."""
        if self.kind == "choice":
            values = [b.value for b in self._choices if b.selected]
            if self._entry is not None and self._entry.value.strip():
                values.append(self._entry.value.strip())
            return values
        if self.kind == "number":
            text = self._entry.value.strip()
            if not text:
                return []
            if self._item_type == "integer":
                return [int(text)] if text.isdigit() else NOT_WHOLE_NUMBER.message
            try:
                return [float(text)]
            except ValueError:
                return NOT_A_NUMBER.message
        if self.kind == "date":
            year, month, day = self._date.padded()
            if not (year or month or day):
                return []
            try:
                return [date(int(year), int(month), int(day))]
            except ValueError:
                return NOT_A_DATE.message
        if self.kind == "text":
            text = self._entry.value.strip()
            return [text] if text else []
        return []

    def next(self) -> None:
        journey = self.journey
        if self.kind != "display":
            values = self._values()
            if isinstance(values, str):
                self.notice = values
                return
            error = self.step.answer(journey, values)
            if error is not None:
                self.notice = error.message
                return
        error = self.step.next(journey)
        if error is not None:
            self.notice = error.message
            return
        self.notice = ""
        self._after_move()

    def back(self) -> None:
        self.step.back(self.journey)
        self.notice = ""
        self._after_move()

    def dismiss_calm_message(self) -> None:
        self.step.dismiss_calm_message(self.journey)
        self._after_move()

    def _after_move(self) -> None:
        if self.journey.state == "forms":
            self.refresh()
        else:
            self.app.sync()

    def clear(self) -> None:
        super().clear()
        self._shown = None
        self.form_title = self.context = self.question = ""
        question_page = self.made_part("FormQuestionPage")
        if question_page is not None:
            ids = question_page.ids
            for box in (ids.answers, ids.side, ids.below):
                box.clear_widgets()
        self._choices, self._entry, self._date = [], None, None
        # The reused entries still hold what the last patient typed.
        for name in ("number_entry", "date"):
            if name in self._kept:
                self._kept[name].clear()
        if "entry_row" in self._kept:
            self._kept["entry_row"].ids.entry_box.children[0].clear()


def _number_text(values) -> str:
    if not values:
        return ""
    value = values[0]
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


load_kv_once(__file__)
