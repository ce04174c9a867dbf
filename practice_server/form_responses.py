"""form.response: a questionnaire the patient answered (or left half done) at the kiosk.

The kiosk sends the FHIR R4 QuestionnaireResponse it built (without `subject`); its
shape is checked here against the R4 rules the server relies on, so what is stored is
always a valid resource once the server adds subject, id and the appointment link
(fhir_resources.questionnaire_response). A completed response counts in the patient's
history (patient_history.py) and re-sends the patient to the site's kiosks; an
in-progress one is stored as such and counts for nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from sqlalchemy.orm import Session

from . import schedule
from .bundles import canonical_json
from .event_base import (
    LANGUAGE_PATTERN,
    ApplyContext,
    FlagName,
    Id,
    Payload,
    Rejection,
    check_visit,
    resource_id,
    site_day,
)
from .models import FormResponse

COMPLETED, IN_PROGRESS = "completed", "in-progress"
MAX_ITEM_DEPTH = 10


# -- the QuestionnaireResponse as the kiosk builds it (kiosk/forms/answers.py) -----------------


class _Fhir(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Coding(_Fhir):
    system: str | None = Field(default=None, max_length=500)
    version: str | None = Field(default=None, max_length=64)
    code: str | None = Field(default=None, min_length=1, max_length=200)
    display: str | None = Field(default=None, max_length=1000)
    userSelected: bool | None = None


_VALUE_KEYS = ("valueBoolean", "valueDecimal", "valueInteger", "valueDate", "valueDateTime", "valueTime",
               "valueString", "valueUri", "valueCoding")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DATE_TIME = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?")


def _real(value: str) -> bool:
    """A date (YYYY, YYYY-MM or YYYY-MM-DD), time or dateTime that exists on the calendar."""
    try:
        if "T" in value:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif ":" in value:
            time.fromisoformat(value)
        else:
            date.fromisoformat((value + "-01-01")[:10])
    except ValueError:
        return False
    return True


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value) or not _real(value):
            raise ValueError(f"must be a FHIR {what}")
        return value
    return AfterValidator(check)


FhirDate = Annotated[StrictStr, _matching(_DATE, "date (YYYY-MM-DD)")]
FhirDateTime = Annotated[StrictStr, _matching(_DATE_TIME, "dateTime (a date, or a time with a UTC offset)")]
FhirTime = Annotated[StrictStr, _matching(_TIME, "time (hh:mm:ss)")]


class _Answer(_Fhir):
    valueBoolean: StrictBool | None = None
    valueDecimal: StrictFloat | StrictInt | None = Field(default=None, allow_inf_nan=False)
    valueInteger: StrictInt | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    valueDate: FhirDate | None = None
    valueDateTime: FhirDateTime | None = None
    valueTime: FhirTime | None = None
    valueString: StrictStr | None = Field(default=None, min_length=1, max_length=10_000)
    valueUri: StrictStr | None = Field(default=None, min_length=1, max_length=2000)
    valueCoding: _Coding | None = None
    item: list[_Item] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_value(self) -> _Answer:
        # R4 QuestionnaireResponse.item.answer.value[x] is 0..1 (exactly one here: an answer
        # without a value is no answer).
        if sum(getattr(self, k) is not None for k in _VALUE_KEYS) != 1:
            raise ValueError("an answer needs exactly one value[x]")
        return self


class _Item(_Fhir):
    linkId: str = Field(min_length=1, max_length=255)
    definition: str | None = Field(default=None, min_length=1, max_length=2000)
    text: str | None = Field(default=None, min_length=1, max_length=10_000)
    answer: list[_Answer] | None = Field(default=None, min_length=1)
    item: list[_Item] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _answer_or_items(self) -> _Item:
        # qrs-1: nested items belong either under the item or under its answer, not both.
        if self.answer and self.item:
            raise ValueError("an item has either answers or child items (R4 qrs-1)")
        return self


_Answer.model_rebuild()


class SentResponse(_Fhir):
    """The keys a kiosk may send. `subject` is set by the server from patient_id."""

    resourceType: Literal["QuestionnaireResponse"]
    status: Literal["completed", "in-progress"]
    questionnaire: str | None = Field(default=None, max_length=600)
    authored: FhirDateTime | None = None
    language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN, max_length=35)
    item: list[_Item] | None = Field(default=None, min_length=1)


# -- the event -------------------------------------------------------------------------------


class QuestionnaireCode(Payload):
    system: str | None = Field(default=None, max_length=500)
    code: str = Field(min_length=1, max_length=200)


class QuestionnaireRef(Payload):
    url: str = Field(min_length=1, max_length=500)
    version: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=300)
    codes: list[QuestionnaireCode] = Field(default_factory=list, max_length=20)


class Score(Payload):
    total: StrictFloat | None = Field(allow_inf_nan=False)
    band: str | None = Field(max_length=64)
    flags: list[FlagName] = Field(max_length=50)
    urgent: StrictBool


class FormResponseEvent(Payload):
    patient_id: str = Id
    appointment_id: str = Id
    questionnaire: QuestionnaireRef
    status: Literal["completed", "in-progress"]
    language: str = Field(pattern=LANGUAGE_PATTERN, max_length=35)
    response: dict[str, Any]
    score: Score


def _depth(items: list[_Item] | None) -> int:
    if not items:
        return 0
    return 1 + max(max(_depth(i.item), max((_depth(a.item) for a in i.answer or []), default=0))
                   for i in items)


def parse_response(p: FormResponseEvent) -> SentResponse:
    """The sent QuestionnaireResponse, checked; Rejection naming the field that is wrong."""
    raw = dict(p.response)
    subject = raw.pop("subject", None)
    if subject is not None and subject != {"reference": f"Patient/{p.patient_id.lower()}"}:
        raise Rejection("response.subject must be left out (the server sets it from patient_id)")
    try:
        response = SentResponse.model_validate(raw)
    except ValidationError as e:
        first = e.errors(include_url=False, include_input=False, include_context=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise Rejection(f"response.{where}: {first['msg']}"[:300]) from None
    if response.status != p.status:
        raise Rejection(f"response.status {response.status!r} is not the event's status {p.status!r}")
    if _depth(response.item) > MAX_ITEM_DEPTH:
        raise Rejection(f"response.item is nested more than {MAX_ITEM_DEPTH} levels deep")
    return response


def check(db: Session, ctx: ApplyContext, p: FormResponseEvent) -> None:
    check_visit(db, ctx, p.patient_id, p.appointment_id)
    parse_response(p)


def apply(db: Session, ctx: ApplyContext, p: FormResponseEvent) -> None:
    response = parse_response(p)
    # When: the response's own authored time (a FHIR dateTime with a time has an offset),
    # else the event's.
    if response.authored and "T" in response.authored:
        authored = datetime.fromisoformat(response.authored.replace("Z", "+00:00"))
    else:
        authored = ctx.created_at or ctx.now
    items = [i.model_dump(exclude_none=True) for i in response.item or []]
    db.add(FormResponse(
        id=resource_id(ctx.device_id, ctx.event_id, "QuestionnaireResponse"),
        site_id=ctx.site_id, device_id=ctx.device_id, event_id=ctx.event_id,
        patient_id=p.patient_id.lower(), appointment_id=p.appointment_id.lower(),
        questionnaire_url=p.questionnaire.url, questionnaire_version=p.questionnaire.version,
        questionnaire_title=p.questionnaire.title,
        codes=canonical_json([c.model_dump() for c in p.questionnaire.codes]),
        status=p.status, language=p.language, authored=authored, day=site_day(db, ctx, authored),
        items=canonical_json(items), score_total=p.score.total, score_band=p.score.band,
        flags=canonical_json(p.score.flags), urgent=p.score.urgent, received_at=ctx.now,
    ))
    if p.status == COMPLETED:
        db.flush()
        # The new history reaches the site's other kiosks with the patient.
        schedule.touch_patient(db, p.patient_id.lower(), ctx.now.date())
