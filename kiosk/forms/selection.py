"""Which forms a patient gets at this visit, from a forms bundle (pure Python; the practice
server serves the same default bundle, so nothing here touches Kivy or the kiosk's store).

    {"questionnaires": [FHIR R4 Questionnaire, ...],
     "rules": [rules object, ...],                      # see rules/phq-9.json
     "policy": [{"form": "<Questionnaire.url>",
                 "visit_types": ["new_patient", ...] | null,   # null: every visit type
                 "min_age": 12 | null, "max_age": null,        # whole years, inclusive
                 "every_days": 365 | null,                     # null or 0: every visit
                 "order": 30}, ...]}                           # lower comes first

A form is given when its policy fits the visit type and age and it is due: never completed,
or completed at least `every_days` days ago (history maps "form:<url>" to the date last
completed). A due form without a full translation into the patient's language is not given;
it comes back in `skipped` with reason "no_translation" for the kiosk to record (likewise
"age_unknown" for a form with an age limit when the age is not known). A bad bundle entry is
reported in `problems` (FormsBundleError naming the entry, for IT) and leaves the others alone.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kiosk.forms.questionnaire import QuestionnaireError, read_questionnaire
from kiosk.forms.rules import RULES_DIR, Rules, RulesError, find_rules, parse_rules
from kiosk.forms.translations import is_base_language, missing_translations

INSTRUMENTS_DIR = Path(__file__).with_name("instruments")
POLICY_FILE = INSTRUMENTS_DIR / "policy.json"
POLICY_KEYS = ("form", "visit_types", "min_age", "max_age", "every_days", "order")
HISTORY_PREFIX = "form:"
NO_TRANSLATION = "no_translation"
AGE_UNKNOWN = "age_unknown"


class FormsBundleError(ValueError):
    """One entry of a forms bundle is unusable. `entry` names it, e.g. "policy[2] (form
    http://.../phq-9)"; the message says what is wrong and what would be right."""

    def __init__(self, entry: str, problem: str):
        self.entry = entry
        self.problem = problem
        super().__init__(f"{entry}: {problem}")


@dataclass(frozen=True)
class PolicyEntry:
    form: str
    visit_types: tuple[str, ...] | None = None
    min_age: int | None = None
    max_age: int | None = None
    every_days: int | None = None
    order: int = 0


@dataclass(frozen=True)
class SelectedForm:
    questionnaire: dict[str, Any]  # the raw Questionnaire, for FormRunner
    rules: Rules | None
    policy: PolicyEntry

    @property
    def url(self) -> str:
        return self.policy.form


@dataclass(frozen=True)
class SkippedForm:
    form: str  # the Questionnaire url
    reason: str  # NO_TRANSLATION or AGE_UNKNOWN
    policy: PolicyEntry


@dataclass(frozen=True)
class Selection:
    forms: tuple[SelectedForm, ...]
    skipped: tuple[SkippedForm, ...]
    problems: tuple[FormsBundleError, ...]


def history_key(url: str) -> str:
    return HISTORY_PREFIX + url


# -- reading the bundle ---------------------------------------------------------------------------


def _whole_number(value: Any, entry: str, key: str, problems: list[FormsBundleError]) -> bool:
    ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
    if not ok:
        problems.append(FormsBundleError(entry, f"{key} must be a whole number of 0 or more, or null"))
    return ok


def _policy_entry(raw: Any, index: int, problems: list[FormsBundleError]) -> PolicyEntry | None:
    entry = f"policy[{index}]"
    if not isinstance(raw, dict):
        problems.append(FormsBundleError(entry, "is not an object"))
        return None
    form = raw.get("form")
    if not isinstance(form, str) or not form:
        problems.append(FormsBundleError(entry, "has no 'form' (the Questionnaire url)"))
        return None
    entry = f"policy[{index}] (form {form})"
    before = len(problems)
    unknown = sorted(set(raw) - set(POLICY_KEYS))
    if unknown:
        problems.append(FormsBundleError(entry, f"unknown key(s) {', '.join(unknown)}; "
                                                f"the keys are {', '.join(POLICY_KEYS)}"))
    visit_types = raw.get("visit_types")
    if visit_types is not None and (
        not isinstance(visit_types, list) or not all(isinstance(v, str) and v for v in visit_types)
    ):
        problems.append(FormsBundleError(entry, "visit_types must be a list of visit type names, or null for all"))
    for key in ("min_age", "max_age", "every_days"):
        _whole_number(raw.get(key), entry, key, problems)
    order = raw.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        problems.append(FormsBundleError(entry, "order must be a whole number"))
    min_age, max_age = raw.get("min_age"), raw.get("max_age")
    if len(problems) == before and min_age is not None and max_age is not None and min_age > max_age:
        problems.append(FormsBundleError(entry, "min_age is above max_age: no one would get the form"))
    if len(problems) > before:
        return None
    return PolicyEntry(form, tuple(visit_types) if visit_types is not None else None,
                       min_age, max_age, raw.get("every_days"), order)


def _questionnaires(raw_list: Any, problems: list[FormsBundleError]) -> dict[str, dict[str, Any]]:
    by_url: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(raw_list):
        url = raw.get("url") if isinstance(raw, dict) else None
        entry = f"questionnaires[{index}]" + (f" ({url})" if isinstance(url, str) else "")
        result = read_questionnaire(raw)
        if result.errors:
            first: QuestionnaireError = result.errors[0]
            more = f" (and {len(result.errors) - 1} more problems)" if len(result.errors) > 1 else ""
            problems.append(FormsBundleError(entry, f"cannot be read: {first}{more}; "
                                                    "run `python -m kiosk.forms check` on it"))
            continue
        if not isinstance(url, str) or not url:
            problems.append(FormsBundleError(entry, "has no url (the policy and the history refer to forms by url)"))
            continue
        if url in by_url:
            problems.append(FormsBundleError(entry, f"url {url} is there twice; the first one is used"))
            continue
        by_url[url] = raw
    return by_url


def _rules(raw_list: Any, problems: list[FormsBundleError]) -> list[Rules]:
    out = []
    for index, raw in enumerate(raw_list):
        try:
            out.append(parse_rules(raw, f"rules[{index}]"))
        except RulesError as exc:
            problems.append(FormsBundleError(f"rules[{index}]", str(exc).split(": ", 1)[-1]))
        except (KeyError, TypeError, AttributeError):
            problems.append(FormsBundleError(f"rules[{index}]", "is not a rules object (see kiosk/forms/rules/phq-9.json)"))
    return out


def _list(bundle: Mapping[str, Any], key: str, problems: list[FormsBundleError]) -> list[Any]:
    value = bundle.get(key)
    if value is None:
        problems.append(FormsBundleError(key, "is missing (an empty list is fine)"))
        return []
    if not isinstance(value, list):
        problems.append(FormsBundleError(key, "must be a list"))
        return []
    return value


# -- choosing ---------------------------------------------------------------------------------------


def _due(policy: PolicyEntry, last_done: dt.date | None, today: dt.date) -> bool:
    if not policy.every_days or last_done is None:
        return True
    return (today - last_done).days >= policy.every_days


def _age_fits(policy: PolicyEntry, age: int) -> bool:
    return (policy.min_age is None or age >= policy.min_age) and (policy.max_age is None or age <= policy.max_age)


def select_forms(
    bundle: Mapping[str, Any],
    *,
    visit_type: str,
    language: str,
    age: int | None,
    today: dt.date,
    history: Mapping[str, dt.date],
) -> Selection:
    """The forms for this patient, in policy order. FormsBundleError is raised only when the
    bundle is not an object at all; every other problem is collected in `problems`."""
    if not isinstance(bundle, Mapping):
        raise FormsBundleError("forms bundle", "is not an object with questionnaires, rules and policy")
    problems: list[FormsBundleError] = []
    questionnaires = _questionnaires(_list(bundle, "questionnaires", problems), problems)
    all_rules = _rules(_list(bundle, "rules", problems), problems)
    policies: list[PolicyEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(_list(bundle, "policy", problems)):
        policy = _policy_entry(raw, index, problems)
        if policy is None:
            continue
        entry = f"policy[{index}] (form {policy.form})"
        if policy.form not in questionnaires:
            problems.append(FormsBundleError(entry, "names a form that is not among the questionnaires "
                                                    "(or one that cannot be read)"))
        elif policy.form in seen:
            problems.append(FormsBundleError(entry, "names a form another policy entry already names; "
                                                    "the first one is used"))
        else:
            seen.add(policy.form)
            policies.append(policy)

    chosen: list[SelectedForm] = []
    skipped: list[SkippedForm] = []
    for policy in sorted(policies, key=lambda p: p.order):  # sorted() is stable: ties keep file order
        if policy.visit_types is not None and visit_type not in policy.visit_types:
            continue
        last = history.get(history_key(policy.form))
        if isinstance(last, dt.datetime):
            last = last.date()
        if last is not None and not isinstance(last, dt.date):
            problems.append(FormsBundleError(f"history[{history_key(policy.form)}]", "is not a date; read as never"))
            last = None
        if not _due(policy, last, today):
            continue
        if policy.min_age is not None or policy.max_age is not None:
            if age is None:
                skipped.append(SkippedForm(policy.form, AGE_UNKNOWN, policy))
                continue
            if not _age_fits(policy, age):
                continue
        raw_q = questionnaires[policy.form]
        if not is_base_language(raw_q, language) and missing_translations(raw_q, [language]):
            skipped.append(SkippedForm(policy.form, NO_TRANSLATION, policy))
            continue
        chosen.append(SelectedForm(raw_q, find_rules(all_rules, raw_q), policy))
    return Selection(tuple(chosen), tuple(skipped), tuple(problems))


# -- the default bundle -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_bundle_json() -> str:
    def read(path: Path) -> Any:
        return json.loads(path.read_text(encoding="utf-8"))

    questionnaires = [read(p) for p in sorted(INSTRUMENTS_DIR.glob("*.json")) if p != POLICY_FILE]
    rules = [read(p) for p in sorted(RULES_DIR.glob("*.json"))]
    policy = read(POLICY_FILE)["policy"]
    return json.dumps({"questionnaires": questionnaires, "rules": rules, "policy": policy})


def default_forms_bundle() -> dict[str, Any]:
    """The bundled instruments, rules files and instruments/policy.json as one forms bundle
    (a fresh copy each call: callers may change it)."""
    return json.loads(_default_bundle_json())
