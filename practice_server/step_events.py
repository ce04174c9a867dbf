"""step.event: where patients leave the kiosk journey (drop-off analytics, no PHI),
and the funnel the staff charts are drawn from.

Each event says one step (a screen or a part of one) was started, completed, backed
out of or abandoned, how long the patient had been in it, and a few coarse traits
(language, age band, visit type) to compare groups by. Nothing identifies the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import Field, StrictFloat, model_validator
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .event_base import LANGUAGE_PATTERN, ApplyContext, Payload, site_day
from .models import KioskVisit, StepEvent

ACTIONS = ("started", "completed", "backed_out", "abandoned")
GROUPINGS = ("language", "age_band", "visit_type")
MAX_SECONDS = 24 * 3600.0  # a step longer than a day is a kiosk clock problem


class StepEventPayload(Payload):
    step: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    action: Literal["started", "completed", "backed_out", "abandoned"]
    seconds: StrictFloat = Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    language: str = Field(pattern=LANGUAGE_PATTERN, max_length=35)
    age_band: Literal["0-17", "18-39", "40-64", "65+"] | None
    visit_type: str | None = Field(max_length=32)
    # Why an abandoned step was left: the kiosk's words ("timeout", "start_over", "error",
    # "staff", ...). Any short token is kept: refusing an analytics event for a new word
    # would only put it on the staff's dead-letter list.
    reason: str | None = Field(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")

    @model_validator(mode="after")
    def _reason_only_when_abandoned(self) -> StepEventPayload:
        if self.reason is not None and self.action != "abandoned":
            raise ValueError("reason is only for action 'abandoned'")
        return self


DONE = "done"  # the kiosk's "You are checked in" stage


def apply(db: Session, ctx: ApplyContext, p: StepEventPayload) -> None:
    at = ctx.created_at or ctx.now
    day = site_day(db, ctx, at)
    db.add(StepEvent(
        device_id=ctx.device_id, event_id=ctx.event_id, site_id=ctx.site_id, session_id=ctx.session_id,
        step=p.step, action=p.action, seconds=p.seconds, language=p.language, age_band=p.age_band,
        visit_type=p.visit_type, reason=p.reason, created_at=at, day=day,
    ))
    if ctx.session_id is not None:
        _roll_up(db, ctx, p, day)


def _roll_up(db: Session, ctx: ApplyContext, p: StepEventPayload, day: date) -> None:
    """Add the event to its visit's row (made by the first), atomically: another worker may
    be applying the same visit's next batch."""
    reached = p.step == DONE and p.action == "started"
    spent = p.seconds if p.step != DONE and p.action in ("completed", "backed_out") else 0.0
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    v = KioskVisit
    statement = insert(v).values(session_id=ctx.session_id, site_id=ctx.site_id, day=day, language=p.language,
                                 age_band=p.age_band, visit_type=p.visit_type, checked_in=reached, seconds=spent)
    excluded = statement.excluded
    db.execute(statement.on_conflict_do_update(index_elements=["session_id"], set_={
        "checked_in": v.checked_in | excluded.checked_in,
        "seconds": v.seconds + excluded.seconds,
        "day": case((excluded.day < v.day, excluded.day), else_=v.day),
        "language": excluded.language,
        "age_band": func.coalesce(excluded.age_band, v.age_band),
        "visit_type": func.coalesce(excluded.visit_type, v.visit_type),
    }))


@dataclass(frozen=True)
class FunnelStep:
    step: str
    group: str | None  # the value of `by` (None without `by`, or when the kiosk sent none)
    started: int
    completed: int
    backed_out: int
    abandoned: int


def dropoff_funnel(db: Session, site_id: str, day_from: date, day_to: date,
                   by: Literal["language", "age_band", "visit_type"] | None = None) -> list[FunnelStep]:
    """Per step (and per group when `by` is given), how many times it was started,
    completed, backed out of and abandoned on the site's days day_from..day_to
    (inclusive, the site's local dates). Ordered by group, then most started first
    (the journey's order, as patients drop off along it), then the step seen first."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)} or None, not {by!r}")
    s = StepEvent
    group = getattr(s, by) if by else None
    counts = [func.sum(case((s.action == a, 1), else_=0)).label(a) for a in ACTIONS]
    first_seen = func.min(s.created_at).label("first_seen")
    columns = [s.step, *([group] if group is not None else []), *counts, first_seen]
    query = (select(*columns)
             .where(s.site_id == site_id, s.day >= day_from, s.day <= day_to)
             .group_by(s.step, *([group] if group is not None else [])))
    ranked = []
    for row in db.execute(query):
        m = row._mapping
        funnel_step = FunnelStep(step=m["step"], group=m[by] if by else None,
                                 **{a: int(m[a] or 0) for a in ACTIONS})
        ranked.append(((funnel_step.group is None, funnel_step.group or "", -funnel_step.started,
                        m["first_seen"], funnel_step.step), funnel_step))
    return [funnel_step for _, funnel_step in sorted(ranked, key=lambda x: x[0])]
