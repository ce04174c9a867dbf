"""Mark a string for translation without translating it yet.

Logic modules (no Kivy, no active language) return message ids marked with N_;
the screen translates them in the patient's language when it shows them.
"""


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    return message
