"""Observable translator for kv rules: `text: tr._("Check in")` re-renders on a language switch.

Kivy's kv bindings call `fbind("_", ...)` on this object; we keep those callbacks and call
them all after `switch(lang)`, so every bound label changes at once. The widget a rule
belongs to is held weakly, so callbacks of widgets that are gone are dropped instead of
keeping them alive (the kivy-gettext-example pattern, minus its leak).
"""
from __future__ import annotations

import itertools
import weakref

from kivy.event import Observable
from kivy.weakproxy import WeakProxy

from kiosk.i18n import get_translator


class ObservableTranslator(Observable):
    def __init__(self):
        super().__init__()
        self.translator = get_translator()
        self._observers: dict[int, tuple] = {}
        self._uids = itertools.count(1)

    @property
    def language(self) -> str:
        return self.translator.language

    def _(self, message: str) -> str:
        return self.translator.gettext(message)

    def switch(self, language: str) -> None:
        self.translator.set_language(language)
        # dict.copy() runs no Python code, so a widget finalised by the garbage collector
        # (its kv rule unbinding itself) cannot change the dict halfway through the copy,
        # as it could while list() walked the items; callbacks may (un)bind as they like.
        for uid, (func, element_ref, rest, kwargs) in self._observers.copy().items():
            if element_ref is None:
                func(rest, None, None)
                continue
            element = element_ref()
            if element is None:
                self._observers.pop(uid, None)
                continue
            func((element, *rest), None, None)

    def observer_count(self) -> int:
        return len(self._observers)

    # -- Observable protocol used by kv ------------------------------------------------
    def fbind(self, name, func, *largs, **kwargs):
        if name != "_":
            return super().fbind(name, func, *largs, **kwargs)
        uid = next(self._uids)
        args = largs[0] if len(largs) == 1 else largs
        # kv passes (widget, key, value, rule, idmap): keep the widget weakly.
        if isinstance(args, tuple) and args and isinstance(args[0], WeakProxy):
            self._observers[uid] = (func, _proxy_ref(args[0]), args[1:], kwargs)
        elif isinstance(args, tuple) and args and hasattr(args[0], "__weakref__"):
            self._observers[uid] = (func, weakref.ref(args[0]), args[1:], kwargs)
        else:
            self._observers[uid] = (func, None, args, kwargs)
        return uid

    def funbind(self, name, func, *largs, **kwargs):
        if name != "_":
            return super().funbind(name, func, *largs, **kwargs)
        for uid, (f, _ref, _largs, _kw) in self._observers.copy().items():
            if f == func:
                self._observers.pop(uid, None)
                return

    def unbind_uid(self, name, uid):
        if name != "_":
            return super().unbind_uid(name, uid)
        self._observers.pop(uid, None)


def _proxy_ref(proxy: WeakProxy):
    """A weakref-like callable for an object Kivy already handed us as a weak proxy."""

    def resolve():
        try:
            proxy.__class__  # noqa: B018 - raises ReferenceError once the widget is gone
        except ReferenceError:
            return None
        return proxy

    return resolve


tr = ObservableTranslator()
