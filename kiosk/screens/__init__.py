"""Screens: one module + one .kv file each, loaded the first time they are shown.

A screen renders what the journey holds and dispatches what the patient pressed; it never
decides anything itself. Screen names equal journey states (see kiosk.flow), plus the
helper screens (edit_contact, staff_pin, staff) that are not journey states.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from kivy.lang import Builder

SCREENS = {
    "welcome": "WelcomeScreen",
    "last_name": "LastNameScreen",
    "scan": "ScanScreen",
    "birth_date": "BirthDateScreen",
    "first_name": "FirstNameScreen",
    "confirm": "ConfirmScreen",
    "front_desk": "FrontDeskScreen",
    "cooldown": "CooldownScreen",
    "review_contact": "ReviewContactScreen",
    "insurance_card": "InsuranceCardScreen",
    "consent": "ConsentScreen",
    "copay": "CopayScreen",
    "forms": "FormsScreen",
    "portal": "PortalScreen",
    "edit_contact": "EditContactScreen",
    "done": "DoneScreen",
    "education": "EducationScreen",
    "staff_pin": "StaffPinScreen",
    "staff": "StaffScreen",
    "problem": "ProblemScreen",
}
_loaded_kv: set[Path] = set()


def load_kv_once(module_file: str) -> None:
    """Load the .kv file beside a module (if it has one), once per process."""
    path = Path(module_file).with_suffix(".kv")
    if path not in _loaded_kv and path.exists():
        Builder.load_file(str(path))
        _loaded_kv.add(path)


def create_screen(name: str):
    """Import the screen's module, load its kv file once, and make the screen."""
    module = importlib.import_module(f"kiosk.screens.{name}")
    load_kv_once(module.__file__)
    return getattr(module, SCREENS[name])(name=name)
