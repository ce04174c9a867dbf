"""The fixed list of education topics: an article is tagged with their ids.

Labels are English message ids marked with N_; the screen translates them in the
patient's language. The order here is the order topics are offered in.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n_markers import N_


@dataclass(frozen=True)
class Topic:
    id: str  # what articles name in their "topics"
    label: str  # English message id, translated by the screen


TOPICS: tuple[Topic, ...] = (
    Topic("your-visit", N_("Your visit")),
    Topic("getting-care", N_("Getting care")),
    Topic("heart", N_("Heart and blood pressure")),
    Topic("diabetes", N_("Diabetes")),
    Topic("vaccines", N_("Vaccines")),
    Topic("germs", N_("Colds, flu and germs")),
    Topic("mental-health", N_("Feelings and mental health")),
    Topic("eating", N_("Healthy eating")),
    Topic("activity", N_("Staying active")),
    Topic("smoking", N_("Quitting smoking")),
    Topic("medicines", N_("Medicines")),
    Topic("sleep", N_("Sleep")),
    Topic("children", N_("Children's health")),
)

_BY_ID = {topic.id: topic for topic in TOPICS}
_ORDER = {topic.id: index for index, topic in enumerate(TOPICS)}


def topic_by_id(topic_id: str) -> Topic | None:
    return _BY_ID.get(topic_id)


def topic_order(topic_id: str) -> int:
    """Position in TOPICS (unknown ids last)."""
    return _ORDER.get(topic_id, len(TOPICS))
