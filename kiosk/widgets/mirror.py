"""A BoxLayout whose row reads right to left while the language does (Arabic).

Mirroring the layout, not the strings: a row's first child (Back, a label, an icon) goes
to the right edge and the rest follow leftwards. Only positions change after the stock
layout, so children added later and every size rule behave as before. Vertical boxes
are left alone; keyboards, keypads and dates stay stock BoxLayouts (a Latin keyboard
and digits keep their left-to-right order in Arabic too).
"""
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout


class MirrorBoxLayout(BoxLayout):
    rtl = BooleanProperty(False)  # bound to theme.rtl by the kv rule

    def on_rtl(self, *_args):
        self._trigger_layout()

    def do_layout(self, *args):
        super().do_layout(*args)
        if self.rtl and self.orientation == "horizontal":
            left, right = self.x, self.right
            for child in self.children:
                child.x = left + right - child.right
