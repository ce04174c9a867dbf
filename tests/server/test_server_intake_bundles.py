"""The forms and consents bundles (defaults, publishing, ETags) and batches of big events
near the 2 MiB body limit."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from intake_samples import card_captured, jpeg_bytes, step
from practice_server import admin, forms_bundle
from practice_server.guard import MAX_BODY
from practice_server.models import Event, InsuranceCard
from server_helpers import add_schedule, site_today

PHQ9 = "http://clinic-kiosk.example/fhir/Questionnaire/phq-9"


def test_the_default_forms_bundle_is_served_with_an_etag(server, kiosk):
    r = kiosk.get("/api/v1/bundles/forms")
    assert r.status_code == 200
    items = r.json()["items"]
    assert items == forms_bundle.default_forms_bundle()
    assert set(items) == {"questionnaires", "rules", "policy"}
    assert PHQ9 in {q["url"] for q in items["questionnaires"]}
    assert kiosk.get("/api/v1/bundles/forms", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_the_default_is_the_kiosk_packages_and_passes_the_publishing_check():
    from kiosk.forms.selection import default_forms_bundle

    assert forms_bundle.default_forms_bundle() == default_forms_bundle()
    forms_bundle.check_forms_bundle(forms_bundle.default_forms_bundle())


def test_a_published_forms_bundle_replaces_the_default_for_that_site_only(server, site, kiosk):
    other_site = server.site("Southside Clinic")
    other = server.kiosk(other_site.id, "kiosk-s")
    before = kiosk.get("/api/v1/bundles/forms")
    own = copy.deepcopy(forms_bundle.default_forms_bundle())
    own["questionnaires"] = [q for q in own["questionnaires"] if q["url"] == PHQ9]
    own["policy"] = [{"form": PHQ9, "visit_types": None, "min_age": 18, "max_age": None, "every_days": 365,
                      "order": 1}]
    with server.sessions.begin() as db:
        version = admin.publish_forms_bundle(db, site.id, own, datetime.now(UTC))
    r = kiosk.get("/api/v1/bundles/forms", headers={"If-None-Match": before.headers["etag"]})
    assert r.status_code == 200 and r.json()["items"] == own and r.json()["version"] == version
    assert other.get("/api/v1/bundles/forms").json()["items"] == forms_bundle.default_forms_bundle()


def _with(change) -> dict:
    bundle = copy.deepcopy(forms_bundle.default_forms_bundle())
    change(bundle)
    return bundle


@pytest.mark.parametrize("bundle, words", [
    ([], "exactly the keys"),
    (_with(lambda b: b.pop("policy")), "exactly the keys"),
    (_with(lambda b: b.update(rules={})), "rules must be a list"),
    (_with(lambda b: b["questionnaires"][0].update(resourceType="Patient")), r"questionnaires\[0\]"),
    (_with(lambda b: b["questionnaires"][0].pop("url")), "has no url"),
    (_with(lambda b: b["questionnaires"].append(b["questionnaires"][0])), "twice"),
    (_with(lambda b: b["rules"].append({"name": "x"})), "match"),
    (_with(lambda b: b["policy"].append({"form": "http://elsewhere.example/q"})), "not among the questionnaires"),
    (_with(lambda b: b["policy"][0].update(every_days=-1)), "every_days"),
])
def test_a_forms_bundle_the_kiosk_could_not_read_is_refused(server, site, bundle, words):
    with pytest.raises(ValueError, match=words):
        with server.sessions.begin() as db:
            admin.publish_forms_bundle(db, site.id, bundle, datetime.now(UTC))


def test_publishing_for_an_unknown_site_is_refused(server):
    with pytest.raises(ValueError, match="no site"):
        with server.sessions.begin() as db:
            admin.publish_forms_bundle(db, "nope", forms_bundle.default_forms_bundle(), datetime.now(UTC))


def test_a_batch_of_card_photos_just_under_the_body_limit_is_accepted(server, site, kiosk):
    with server.sessions.begin() as db:
        appointments = add_schedule(db, site.id, [site_today()], per_day=5)
    photo = jpeg_bytes(640, 480, noise=True)  # ~280 KB, the size the kiosk sends at most
    events = [card_captured(a, "front", image=photo) for a in appointments]
    # The last photo is sized so the body ends a few KB under the limit.
    for width in range(640, 0, -8):
        last = card_captured(appointments[0], "back", image=jpeg_bytes(width, 480, noise=True))
        body = json.dumps({"events": [*events, last, step("forms", "started")]}).encode()
        if len(body) <= MAX_BODY:
            break
    assert MAX_BODY - 16 * 1024 < len(body) <= MAX_BODY
    r = kiosk.post("/api/v1/events", body=body)
    assert r.status_code == 200, r.text[:300]
    assert {x["status"] for x in r.json()["results"]} == {"accepted"}
    assert server.scalar(select(func.count()).select_from(InsuranceCard)) == 6
    assert server.scalar(select(func.count()).select_from(Event)) == 7
