"""visit.rated: the one-tap rating is stored once per event, by the site's local day,
and refused when it is not a rating."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from practice_server.models import SatisfactionRating
from server_helpers import event


def rated(rating, **changes):
    return event("visit.rated", {"rating": rating, "language": "es", "age_band": "65+", "visit_type": "follow_up",
                                 "rated_at": datetime(2026, 11, 24, 4, 30, tzinfo=UTC).isoformat(), **changes})


def test_a_rating_is_kept_once_on_the_sites_day(server, kiosk):
    e = rated(3)
    assert kiosk.push(e)[0]["status"] == "accepted"
    assert kiosk.push(e)[0]["status"] == "duplicate"
    [row] = server.rows(select(SatisfactionRating.rating, SatisfactionRating.day, SatisfactionRating.language))
    assert (row.rating, row.day.isoformat(), row.language) == (3, "2026-11-23", "es")  # 22:30 in Chicago


def test_what_is_not_a_rating_is_refused_with_the_field_named(server, kiosk):
    [result] = kiosk.push(rated(5))
    assert result["status"] == "rejected" and "rating" in result["reason"]
    [result] = kiosk.push(rated(2, patient_name="x"))
    assert result["status"] == "rejected" and "patient_name" in result["reason"]
