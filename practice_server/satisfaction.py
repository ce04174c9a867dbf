"""visit.rated: the one-tap rating a patient gives at the end of check-in (1 hard, 2 okay,
3 easy), with the same coarse traits as the drop-off analytics and nothing that
identifies the patient."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field
from sqlalchemy.orm import Session

from .event_base import LANGUAGE_PATTERN, ApplyContext, Payload, site_day
from .models import SatisfactionRating


class VisitRated(Payload):
    rating: Literal[1, 2, 3]
    language: str = Field(pattern=LANGUAGE_PATTERN, max_length=35)
    age_band: Literal["0-17", "18-39", "40-64", "65+"] | None
    visit_type: str | None = Field(max_length=32)
    rated_at: AwareDatetime


def apply(db: Session, ctx: ApplyContext, p: VisitRated) -> None:
    db.add(SatisfactionRating(
        device_id=ctx.device_id, event_id=ctx.event_id, site_id=ctx.site_id, session_id=ctx.session_id,
        rating=p.rating, language=p.language, age_band=p.age_band, visit_type=p.visit_type,
        rated_at=p.rated_at, day=site_day(db, ctx, p.rated_at),
    ))
