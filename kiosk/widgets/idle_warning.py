"""The "Are you still there?" warning with its countdown, shown over any screen."""
from kivy.properties import NumericProperty
from kivy.uix.modalview import ModalView


class IdleWarning(ModalView):
    seconds_left = NumericProperty(0)
