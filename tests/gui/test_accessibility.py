"""Every screen, at every text size and in both colour themes: contrast >= 7:1, touch targets
>= 48 dp and apart, and no text cut off or overlapping. Screenshots of each are saved."""
from __future__ import annotations

import functools
import itertools
import logging
import re

import pytest
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from kiosk import palette
from kiosk import ui_driver as ui
from kiosk.theme import TEXT_STEPS, theme
from kiosk.widgets.buttons import EqualHeights, KioskButton
from kiosk.widgets.shaping import ShapingCoreLabel as CoreLabel  # measures Arabic as drawn
from tests.gui.screens_walk import every_screen

pytestmark = pytest.mark.gui

ALL_SCREENS = {
    "welcome", "last_name", "birth_date", "first_name", "confirm", "review_contact", "edit_contact",
    "insurance_card", "consent", "copay", "forms", "portal", "scan", "done", "front_desk", "cooldown", "staff_pin", "staff", "problem",
    "education",
}
# Chinese wraps between any two characters, so a line of it is not one "word" that must fit.
_NO_SPACES = re.compile("[\u3000-\u9fff\uff00-\uffef]")
MIN_TARGET = dp(48)
MIN_GAP = dp(6)


def _visible(widget) -> bool:
    while widget is not None and widget is not Window:
        if widget.opacity == 0 or (widget.size[0] <= 0 or widget.size[1] <= 0):
            return False
        widget = widget.parent
    return True


def _window_rect(widget):
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    rect = [x0, y0, x1, y1]
    parent = widget.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, ScrollView):  # clip to what the scroll view shows
            sx0, sy0 = parent.to_window(parent.x, parent.y)
            sx1, sy1 = parent.to_window(parent.right, parent.top)
            rect = [max(rect[0], sx0), max(rect[1], sy0), min(rect[2], sx1), min(rect[3], sy1)]
        parent = parent.parent
    return rect


def _background(widget):
    node = widget
    while node is not None and node is not Window:
        colour = getattr(node, "bg_color", None)
        if colour is not None:
            return tuple(colour)
        node = node.parent
    return tuple(Window.clearcolor)


def _controls_and_labels(app):
    for root in ui.visible_roots(app):
        for widget in ui.walk(root):
            if isinstance(widget, Label) and widget.text.strip() and _visible(widget):
                yield widget


@functools.lru_cache(maxsize=None)
def _word_width(word: str, font_name: str, font_size: float) -> float:
    label = CoreLabel(text=word, font_name=font_name, font_size=font_size)
    label.refresh()
    return label.texture.width


def _broken_word(widget) -> str | None:
    """A word too wide for the wrapping width: Kivy would split it mid-word ("Cance|l")."""
    width = widget.text_size[0]
    if not width:
        return None
    for word in widget.text.split():
        if _NO_SPACES.search(word):
            continue
        if _word_width(word, widget.font_name, float(widget.font_size)) > width + 1:
            return word
    return None


def _squeezed_scroll_areas(app, screen: str) -> list[str]:
    """A scroll area squeezed by what is around it (a keyboard, big buttons) must still show
    two lines of body text, or all of its content if that is less: a question hidden
    behind a keyboard is text cut off too, even if it could be scrolled."""
    problems = []
    for root in ui.visible_roots(app):
        for view in ui.walk(root):
            if not isinstance(view, ScrollView) or not view.children or not _visible(view):
                continue
            needed = min(view.children[0].height, theme.font_body * 2.4)
            if view.height + 1 < needed:
                problems.append(f"{screen}: a scroll area shows {view.height:.0f} px of its "
                                f"{view.children[0].height:.0f} px of text (needs {needed:.0f})")
    return problems


def _hidden_answers(app, screen: str) -> list[str]:
    """A question with two answers (Yes / No) shows both whole without scrolling: a patient
    who sees only "Yes" may not know there is a "No"."""
    forms = app.screen("forms")
    if screen != "forms" or forms.kind != "choice" or len(forms._choices) > 2:
        return []
    problems = []
    for button in forms._choices:
        whole = [*button.to_window(button.x, button.y), *button.to_window(button.right, button.top)]
        if any(abs(a - b) > 1 for a, b in zip(_window_rect(button), whole)):
            problems.append(f"{screen}: the answer {button.label!r} is not wholly in view without scrolling")
    return problems


def _uneven_rows(app, screen: str) -> list[str]:
    """Buttons side by side (actions, keyboard keys) stand equally tall, even when only one
    of them wraps or is drawn in a taller script."""
    problems = []
    for root in ui.visible_roots(app):
        for row in ui.walk(root):
            if not isinstance(row, EqualHeights) or not _visible(row):
                continue
            buttons = [c for c in row.children if isinstance(c, KioskButton) and _visible(c)]
            heights = sorted(b.height for b in buttons)
            if heights and heights[-1] - heights[0] > 1:
                problems.append(f"{screen}: buttons of one row are {heights[0]:.0f} to {heights[-1]:.0f} px tall: "
                                + ", ".join(repr(b.action or b.text[:20]) for b in buttons))
    return problems


def _problems(app, screen: str) -> list[str]:
    problems = []
    shown = []
    for widget in _controls_and_labels(app):
        name = f"{screen}: {type(widget).__name__} {getattr(widget, 'action', '') or widget.text[:30]!r}"
        fg, bg = tuple(widget.color), _background(widget)
        ratio = palette.contrast_ratio(fg, bg)
        if ratio < palette.AAA_TEXT:
            problems.append(f"{name}: contrast {ratio:.1f}:1 (text {palette.rgba_hex(fg)} on {palette.rgba_hex(bg)})")
        rect = _window_rect(widget)
        if rect[2] - rect[0] <= 0 or rect[3] - rect[1] <= 0:
            continue  # scrolled out of view
        if isinstance(widget, ButtonBehavior) and not widget.disabled:
            if widget.width < MIN_TARGET or widget.height < MIN_TARGET:
                problems.append(f"{name}: touch target {widget.width:.0f}x{widget.height:.0f} px < 48 dp")
        tw, th = widget.texture_size
        if tw > widget.width + 1 or th > widget.height + 1:
            problems.append(f"{name}: text {tw:.0f}x{th:.0f} cut off in {widget.width:.0f}x{widget.height:.0f}")
        word = _broken_word(widget) if type(widget).__name__ != "StaffCorner" else None
        if word:
            problems.append(f"{name}: the word {word!r} is split across lines")
        # The clinic name in the top bar may shorten: it is decoration (and the hidden staff
        # entry); five language buttons and the text size leave it little room at A++.
        if getattr(widget, "is_shortened", False) and type(widget).__name__ not in ("EntryField", "StaffCorner"):
            problems.append(f"{name}: text shortened with an ellipsis")
        if rect[0] < -1 or rect[1] < -1 or rect[2] > Window.width + 1 or rect[3] > Window.height + 1:
            problems.append(f"{name}: outside the window {rect}")
        shown.append((name, rect, isinstance(widget, ButtonBehavior)))
    problems += _squeezed_scroll_areas(app, screen) + _hidden_answers(app, screen) + _uneven_rows(app, screen)
    for (a, ra, a_button), (b, rb, b_button) in itertools.combinations(shown, 2):
        gap_x = max(rb[0] - ra[2], ra[0] - rb[2])
        gap_y = max(rb[1] - ra[3], ra[1] - rb[3])
        if gap_x < 0 and gap_y < 0:
            problems.append(f"overlap: {a} and {b}")
        elif a_button and b_button and max(gap_x, gap_y) < MIN_GAP:
            problems.append(f"too close ({max(gap_x, gap_y):.0f} px): {a} and {b}")
    return problems


@pytest.mark.parametrize(
    "high_contrast, language",
    [(False, "en"), (True, "en"), (False, "es")],
    ids=["standard", "high-contrast", "spanish"],
)
@pytest.mark.full_intake
def test_every_screen_at_every_text_size(app, shot, high_contrast, language):
    problems = []
    for step, scale in enumerate(TEXT_STEPS):
        seen = set()
        def restyle(step=step):
            theme.high_contrast = high_contrast
            theme.set_text_step(step)
            if app.translator.language != language:
                app.switch_language(language)

        restyle()
        for screen in every_screen(app, restyle):
            seen.add(screen)
            problems += [f"[text x{scale}] {p}" for p in _problems(app, screen)]
            if step == len(TEXT_STEPS) - 1:
                shot(f"a11y-{'contrast' if high_contrast else 'standard'}-{language}-largest-{screen}")
        assert seen == ALL_SCREENS, f"text x{scale}: screens not reached: {ALL_SCREENS - seen}"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["zh", "vi", "ar"])
@pytest.mark.full_intake
def test_every_screen_in_chinese_vietnamese_and_arabic_at_the_largest_text(app, shot, language, caplog):
    """The largest text is where longer words and other scripts break layouts first."""
    problems, seen, order = [], set(), []

    def restyle():
        theme.set_text_step(len(TEXT_STEPS) - 1)
        if app.translator.language != language:
            app.switch_language(language)

    restyle()
    for number, screen in enumerate(every_screen(app, restyle)):
        seen.add(screen)
        order.append(screen)
        problems += _problems(app, screen)
        shot(f"a11y-{language}-largest-{number:02d}-{screen}")
    # A screen missed once in CI (vi, "done"): say what was shown instead and why.
    errors = [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
              for r in caplog.records if r.levelname == "ERROR"]
    assert seen == ALL_SCREENS, f"screens not reached: {ALL_SCREENS - seen}; shown in order: {order}; errors: {errors}"
    assert not problems, "\n".join(problems)


def test_largest_text_doubles_body_text():
    theme.set_text_step(0)
    small = theme.font_body
    theme.set_text_step(len(TEXT_STEPS) - 1)
    assert theme.font_body >= 2 * small
    theme.reset()
