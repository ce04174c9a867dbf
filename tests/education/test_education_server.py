"""The practice server's content bundle: the bundled articles until a site publishes its own;
publishing checks with the kiosk's own parser."""
from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from education_helpers import bundle_item
from kiosk.education import default_content_bundle as kiosk_default
from practice_server import admin, content_bundle
from practice_server.models import AuditEntry


def test_the_bundled_articles_are_served_until_a_site_publishes(server, kiosk):
    r = kiosk.get("/api/v1/bundles/content")
    assert r.status_code == 200 and r.json()["kind"] == "content"
    items = r.json()["items"]
    assert items == content_bundle.default_content_bundle() == kiosk_default()
    assert {"flu-shot", "high-blood-pressure", "preparing-for-your-visit"} <= {i["id"] for i in items}
    assert kiosk.get("/api/v1/bundles/content", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_the_default_passes_the_publishing_check():
    assert content_bundle.check_content_bundle(content_bundle.default_content_bundle()) == \
        content_bundle.default_content_bundle()


def test_a_published_bundle_replaces_the_default_for_that_site_only(server, site, kiosk):
    other_site = server.site("Southside Clinic")
    other = server.kiosk(other_site.id, "kiosk-s")
    before = kiosk.get("/api/v1/bundles/content")
    own = [bundle_item("flu-shot", 2, visit_types=["annual_physical"]), bundle_item("clinic-hours")]
    with server.sessions.begin() as db:
        version = admin.publish_content_bundle(db, site.id, own, datetime.now(UTC))
    r = kiosk.get("/api/v1/bundles/content", headers={"If-None-Match": before.headers["etag"]})
    assert r.status_code == 200 and r.json()["items"] == own and r.json()["version"] == version
    assert r.headers["etag"] == f'"{version}"'
    assert other.get("/api/v1/bundles/content").json()["items"] == content_bundle.default_content_bundle()
    actions = server.rows(select(AuditEntry.action, AuditEntry.site_id).where(
        AuditEntry.action == "content.published"))
    assert [tuple(a) for a in actions] == [("content.published", site.id)]


def test_publishing_stores_the_canonical_form(server, site, kiosk):
    lenient = bundle_item("flu-shot", languages={"en": {"title": "Flu", "paragraphs": ["One.", "Two."]}})
    with server.sessions.begin() as db:
        admin.publish_content_bundle(db, site.id, [lenient], datetime.now(UTC))
    assert kiosk.get("/api/v1/bundles/content").json()["items"] == [lenient]


def _with(change) -> list:
    items = copy.deepcopy([bundle_item("a-1"), bundle_item("b-2")])
    change(items)
    return items


@pytest.mark.parametrize("items, words", [
    ({"items": []}, "a content bundle is a list of articles"),
    (_with(lambda i: i.append("text")), "item 3: must be a JSON object"),
    (_with(lambda i: i[0].update(id="Not A Slug")), "item 1: 'id' must be lower-case"),
    (_with(lambda i: i[1].update(version=0)), r"item 2 \(article 'b-2'\): 'version'"),
    (_with(lambda i: i[0].update(topics=["astrology"])), "'astrology' is not one of"),
    (_with(lambda i: i[0]["languages"]["en"].pop("title")), "'title' must be text"),
    (_with(lambda i: i[0].update(picture="x.png")), "pictures come only with"),
    (_with(lambda i: i.append(bundle_item("a-1", 5))), "the same id as item 1"),
])
def test_a_bundle_the_kiosk_would_not_use_as_sent_is_refused(server, site, items, words):
    with pytest.raises(ValueError, match=words):
        with server.sessions.begin() as db:
            admin.publish_content_bundle(db, site.id, items, datetime.now(UTC))


def test_publishing_for_an_unknown_site_is_refused(server):
    with pytest.raises(ValueError, match="no site"):
        with server.sessions.begin() as db:
            admin.publish_content_bundle(db, "nope", [], datetime.now(UTC))
