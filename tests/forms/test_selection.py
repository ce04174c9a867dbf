"""Which forms a patient gets: visit type, age, language, how recently, from a forms bundle."""
import copy
import datetime as dt

import pytest

from kiosk.forms.selection import (
    AGE_UNKNOWN,
    NO_TRANSLATION,
    FormsBundleError,
    default_forms_bundle,
    history_key,
    select_forms,
)

BASE = "http://clinic-kiosk.example/fhir/Questionnaire/"
TODAY = dt.date(2025, 3, 10)


def chosen(bundle=None, *, visit_type="follow_up", language="en", age=40, history=None):
    selection = select_forms(default_forms_bundle() if bundle is None else bundle, visit_type=visit_type,
                             language=language, age=age, today=TODAY, history=history or {})
    return selection, [f.url.rsplit("/", 1)[-1] for f in selection.forms]


def test_default_bundle_is_the_bundled_instruments_rules_and_policy():
    bundle = default_forms_bundle()
    assert set(bundle) == {"questionnaires", "rules", "policy"}
    urls = {q["url"] for q in bundle["questionnaires"]}
    assert {BASE + n for n in ("general-intake", "covid-flu-screening", "phq-9", "gad-7", "audit-c", "phq-2")} == urls
    assert {p["form"] for p in bundle["policy"]} <= urls
    bundle["policy"].clear()
    assert default_forms_bundle()["policy"]  # a fresh copy each call


def test_default_bundle_passes_the_practice_servers_own_check():
    from practice_server.forms_bundle import check_forms_bundle
    check_forms_bundle(default_forms_bundle())


@pytest.mark.parametrize("visit_type, age, expected", [
    ("follow_up", 40, ["general-intake", "covid-flu-screening", "phq-9", "gad-7"]),
    ("annual_physical", 40, ["general-intake", "covid-flu-screening", "phq-9", "gad-7", "audit-c"]),
    ("new_patient", 18, ["general-intake", "covid-flu-screening", "phq-9", "gad-7", "audit-c"]),
    ("new_patient", 17, ["general-intake", "covid-flu-screening", "phq-9"]),
    ("follow_up", 12, ["general-intake", "covid-flu-screening", "phq-9"]),
    ("follow_up", 11, ["general-intake", "covid-flu-screening"]),
])
def test_default_policy_by_visit_type_and_age(visit_type, age, expected):
    selection, names = chosen(visit_type=visit_type, age=age)
    assert names == expected and selection.problems == () and selection.skipped == ()


def test_once_a_year_forms_wait_365_days_every_visit_forms_do_not():
    history = {history_key(BASE + "phq-9"): TODAY - dt.timedelta(days=364),
               history_key(BASE + "gad-7"): TODAY - dt.timedelta(days=365),
               history_key(BASE + "general-intake"): TODAY,
               history_key(BASE + "covid-flu-screening"): dt.datetime(2025, 3, 10, 8, 0)}
    _, names = chosen(history=history)
    assert names == ["general-intake", "covid-flu-screening", "gad-7"]


def test_rules_come_with_their_forms():
    selection, _ = chosen()
    rules = {f.url.rsplit("/", 1)[-1]: (f.rules.name if f.rules else None) for f in selection.forms}
    assert rules == {"general-intake": None, "covid-flu-screening": "COVID-19 and flu screening",
                     "phq-9": "PHQ-9", "gad-7": "GAD-7"}
    assert selection.forms[2].questionnaire["code"][0]["code"] == "44249-1"


def untranslated_phq9() -> dict:
    bundle = default_forms_bundle()
    phq9 = next(q for q in bundle["questionnaires"] if q["url"] == BASE + "phq-9")
    del phq9["item"][0]["item"][3]["_text"]
    return bundle


def test_a_form_without_a_full_translation_is_skipped_not_given_in_english():
    bundle = untranslated_phq9()
    selection, names = chosen(bundle, language="es")
    assert names == ["general-intake", "covid-flu-screening", "gad-7"]
    assert [(s.form, s.reason) for s in selection.skipped] == [(BASE + "phq-9", NO_TRANSLATION)]
    _, english = chosen(bundle, language="en")  # in the form's own language nothing is missing
    assert "phq-9" in english
    selection, _ = chosen(language="ko")  # a language none of the forms has (zh, vi, ar are bundled)
    assert {s.reason for s in selection.skipped} == {NO_TRANSLATION} and selection.forms == ()


def test_unknown_age_skips_only_the_forms_with_age_limits():
    selection, names = chosen(age=None)
    assert names == ["general-intake", "covid-flu-screening"]
    assert [(s.form.rsplit("/", 1)[-1], s.reason) for s in selection.skipped] == [
        ("phq-9", AGE_UNKNOWN), ("gad-7", AGE_UNKNOWN)]


def test_order_follows_the_policy_not_the_file():
    bundle = default_forms_bundle()
    for entry in bundle["policy"]:
        entry["order"] = -entry["order"]
    _, names = chosen(bundle)
    assert names == ["gad-7", "phq-9", "covid-flu-screening", "general-intake"]


def test_bad_entries_are_reported_by_name_and_do_not_stop_the_others():
    bundle = default_forms_bundle()
    bundle["questionnaires"].append({"resourceType": "Questionnaire", "url": BASE + "broken",
                                     "item": [{"linkId": "a", "type": "quantity"}]})
    bundle["questionnaires"].append({"resourceType": "Questionnaire", "item": []})  # no url
    bundle["questionnaires"].append(copy.deepcopy(bundle["questionnaires"][0]))  # twice
    bundle["rules"].append({"name": "bad", "match": {}})
    bundle["policy"] += [
        {"form": BASE + "broken", "order": 60},
        {"form": BASE + "missing", "order": 61},
        {"form": BASE + "phq-2", "every_days": -1, "order": 62},
        {"form": BASE + "phq-2", "visit_type": ["x"], "order": 63},
        {"form": BASE + "phq-2", "min_age": 30, "max_age": 20, "order": 64},
        {"form": BASE + "general-intake", "order": 65},
        "not an object",
    ]
    selection, names = chosen(bundle)
    assert names == ["general-intake", "covid-flu-screening", "phq-9", "gad-7"]
    messages = [str(p) for p in selection.problems]
    entries = [p.entry for p in selection.problems]
    assert any(m.startswith(f"questionnaires[6] ({BASE}broken): cannot be read: item 'a': unsupported item type")
               for m in messages)
    assert "questionnaires[7]: has no url (the policy and the history refer to forms by url)" in messages
    assert any(m.startswith("questionnaires[8] (") and "is there twice" in m for m in messages)
    assert "rules[5]: 'match' needs codes or urls" in messages
    assert f"policy[5] (form {BASE}broken)" in entries  # names a form that could not be read
    assert f"policy[6] (form {BASE}missing)" in entries
    assert f"policy[7] (form {BASE}phq-2): every_days must be a whole number of 0 or more, or null" in messages
    assert any(m.startswith(f"policy[8] (form {BASE}phq-2): unknown key(s) visit_type") for m in messages)
    assert f"policy[9] (form {BASE}phq-2): min_age is above max_age: no one would get the form" in messages
    assert any(m.startswith(f"policy[10] (form {BASE}general-intake): names a form another") for m in messages)
    assert "policy[11]" in entries
    assert all(isinstance(p, FormsBundleError) for p in selection.problems)


def test_a_bundle_that_is_not_an_object_is_one_clear_error():
    with pytest.raises(FormsBundleError, match="forms bundle: is not an object"):
        select_forms([], visit_type="follow_up", language="en", age=40, today=TODAY, history={})
    selection = select_forms({"questionnaires": []}, visit_type="follow_up", language="en", age=40,
                             today=TODAY, history={})
    assert [str(p) for p in selection.problems] == ["rules: is missing (an empty list is fine)",
                                                    "policy: is missing (an empty list is fine)"]


def test_selection_imports_nothing_of_kivy_or_the_store():
    import subprocess
    import sys
    code = ("import sys, kiosk.forms.selection, kiosk.forms.runner; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('kivy', 'sqlalchemy') or m.startswith('kiosk.store')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
