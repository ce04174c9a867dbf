"""The forms bundle a site's kiosks download: questionnaires, scoring rules, and the
policy saying which forms to ask of whom.

    {"questionnaires": [FHIR R4 Questionnaire, ...], "rules": [rules object, ...], "policy": [...]}

A site serves what it published (admin.publish_forms_bundle) or, until then, the
kiosk package's default (kiosk.forms.selection.default_forms_bundle()). Publishing
reads the bundle with the kiosk's own code (kiosk.forms.selection.select_forms), so
a form, rule or policy entry the kiosk would set aside never reaches it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.forms import selection

KEYS = ("questionnaires", "rules", "policy")


class FormsBundleError(ValueError):
    """The bundle is malformed; the message names the entry and the problem."""


def check_forms_bundle(items: Any) -> dict[str, Any]:
    """The bundle, checked; FormsBundleError says what is wrong (for the clinic's IT)."""
    if not isinstance(items, dict) or set(items) != set(KEYS):
        raise FormsBundleError(f"a forms bundle is an object with exactly the keys {', '.join(KEYS)}")
    for key in KEYS:
        if not isinstance(items[key], list):
            raise FormsBundleError(f"{key} must be a list")
    # The kiosk reports every unusable entry as a problem while it selects; any visit will do.
    found = selection.select_forms(items, visit_type="", language="en", age=None, today=dt.date.today(),
                                   history={}).problems
    if found:
        more = f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""
        raise FormsBundleError(f"{found[0]}{more}")
    return items


def default_forms_bundle() -> dict[str, Any]:
    """The kiosk package's default forms bundle (a fresh copy each call)."""
    return selection.default_forms_bundle()
