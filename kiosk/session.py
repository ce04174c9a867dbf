"""One patient's visit at the kiosk: what they typed, who they matched, and the wipe.

Everything here is PHI or derived from it and lives only in memory for the length
of one visit. `wipe()` is the single place that forgets it; the app calls it on
completion, "start over" and inactivity, then clears every screen.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the store (SQLAlchemy) is not loaded before the first frame
    from kiosk.store import AppointmentMatch, CheckInResult, Contact


@dataclass
class StageVisit:
    """When the patient entered a stage; used for drop-off analytics (no PHI)."""

    stage: str
    entered_at: datetime


@dataclass
class VisitSession:
    language: str
    started_at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    last_name: str = ""
    birth_date: date | None = None
    first_name: str = ""
    candidates: list[AppointmentMatch] = field(default_factory=list)
    appointment: AppointmentMatch | None = None
    contact: Contact | None = None
    check_in: CheckInResult | None = None
    stages: list[StageVisit] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)
    code_appointment: str = ""  # the appointment a scanned check-in code named
    licence_address: dict[str, str] = field(default_factory=dict)  # offered in the contact review
    # Per-step state after check-in (the forms being filled, the consents to sign ...),
    # by step name. It holds PHI: wipe() drops it.
    step_state: dict[str, Any] = field(default_factory=dict)

    def enter(self, stage: str, now: datetime) -> None:
        if not self.stages or self.stages[-1].stage != stage:
            self.stages.append(StageVisit(stage, now))

    def seconds_in_stage(self, now: datetime) -> float:
        return round(max(0.0, (now - self.stages[-1].entered_at).total_seconds()), 1) if self.stages else 0.0

    def age_band(self, today: date) -> str | None:
        """Coarse age group for drop-off analytics (never the birth date itself)."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        for upper, band in ((17, "0-17"), (39, "18-39"), (64, "40-64")):
            if age <= upper:
                return band
        return "65+"

    def step_timings(self, ended_at: datetime) -> list[dict]:
        """Seconds spent per stage, in order, for the visit.ended event."""
        timings = []
        for here, following in zip(self.stages, self.stages[1:] + [None]):
            until = following.entered_at if following else ended_at
            seconds = max(0.0, (until - here.entered_at).total_seconds())
            timings.append({"stage": here.stage, "seconds": round(seconds, 1)})
        return timings

    def phi_strings(self) -> list[str]:
        """Every PHI string this session knows, for the log guard and wipe tests."""
        values = [self.last_name, self.first_name]
        if self.birth_date:
            values.append(self.birth_date.isoformat())
        for match in [*self.candidates, *([self.appointment] if self.appointment else [])]:
            values += [match.first_name, match.last_name]
        if self.contact:
            values += [v for v in vars(self.contact).values() if isinstance(v, str)]
        values += list(self.licence_address.values())
        return [v for v in values if v and len(v) > 1]

    def wipe(self) -> None:
        """Forget everything about the patient, keeping only the (random) session id."""
        self.last_name = ""
        self.first_name = ""
        self.birth_date = None
        self.candidates = []
        self.appointment = None
        self.contact = None
        self.check_in = None
        self.changed_fields = []
        self.step_state = {}
        self.code_appointment = ""
        self.licence_address = {}
