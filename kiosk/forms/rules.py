"""Score bands and flags from JSON rules files the clinic edits without code.

A rules file is matched to a Questionnaire by its url or its code (e.g. LOINC 44249-1), so a
PHQ-9 published by someone else gets the same bands and flags as ours. Flags name an item by
linkId or by the item's code, for the same reason. See rules/phq-9.json for the format.
"""
from __future__ import annotations

import json
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.forms.scoring import Score, ScoringModel

RULES_DIR = Path(__file__).with_name("rules")
_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "=": operator.eq}
TOTAL = "total"  # a flag's "item" may be this, to flag on the total


class RulesError(ValueError):
    """A rules file is malformed; names the file."""


@dataclass(frozen=True)
class Band:
    min: float
    max: float
    name: str


@dataclass(frozen=True)
class Flag:
    name: str
    urgent: bool
    item: str  # linkId or item code, or TOTAL
    operator: str
    score: float


@dataclass(frozen=True)
class Rules:
    name: str
    source: str  # file name, for messages
    codes: tuple[tuple[str | None, str], ...]  # (system, code)
    urls: tuple[str, ...]
    bands: tuple[Band, ...]
    flags: tuple[Flag, ...]
    total_link_id: str | None = None

    def matches(self, raw_q: dict[str, Any]) -> bool:
        url = str(raw_q.get("url") or "").split("|")[0]
        if url and url in self.urls:
            return True
        for coding in raw_q.get("code") or []:
            if not isinstance(coding, dict):
                continue
            for system, code in self.codes:
                if coding.get("code") == code and (system is None or coding.get("system") in (None, system)):
                    return True
        return False

    def band_for(self, total: float | None) -> str | None:
        if total is None:
            return None
        return next((b.name for b in self.bands if b.min <= total <= b.max), None)


@dataclass(frozen=True)
class Outcome:
    band: str | None
    flags: tuple[str, ...]
    urgent: bool


def _number(value: Any, source: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RulesError(f"{source}: {what} is not a number")
    return value


def parse_rules(data: Any, source: str) -> Rules:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise RulesError(f"{source}: not a rules object with a name")
    match = data.get("match") or {}
    codes = tuple((c.get("system"), c["code"]) for c in match.get("codes", []) if isinstance(c, dict) and c.get("code"))
    urls = tuple(u for u in match.get("urls", []) if isinstance(u, str))
    if not codes and not urls:
        raise RulesError(f"{source}: 'match' needs codes or urls")
    bands = tuple(
        Band(_number(b.get("min"), source, "band min"), _number(b.get("max"), source, "band max"), str(b.get("band")))
        for b in data.get("bands", [])
    )
    ordered = sorted(bands, key=lambda b: b.min)
    for band in ordered:
        if band.min > band.max:
            raise RulesError(f"{source}: band {band.name!r} has min above max")
    for low, high in zip(ordered, ordered[1:]):
        if high.min <= low.max:
            raise RulesError(f"{source}: bands {low.name!r} and {high.name!r} overlap")
    flags = []
    for f in data.get("flags", []):
        if not isinstance(f, dict) or not isinstance(f.get("flag"), str) or not isinstance(f.get("item"), str):
            raise RulesError(f"{source}: a flag needs 'flag' and 'item'")
        if f.get("operator") not in _OPERATORS:
            raise RulesError(f"{source}: flag {f['flag']!r} has unknown operator {f.get('operator')!r}")
        flags.append(Flag(f["flag"], bool(f.get("urgent", False)), f["item"], f["operator"],
                          _number(f.get("score"), source, f"flag {f['flag']!r} score")))
    return Rules(data["name"], source, codes, urls, bands, tuple(flags), data.get("totalLinkId"))


def load_rules(directory: Path = RULES_DIR) -> list[Rules]:
    rules = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RulesError(f"{path.name}: cannot read ({type(exc).__name__})") from None
        rules.append(parse_rules(data, path.name))
    return rules


def find_rules(all_rules: list[Rules], raw_q: dict[str, Any]) -> Rules | None:
    """A url match wins over a code match (a clinic's own variant of a coded instrument)."""
    url = str(raw_q.get("url") or "").split("|")[0]
    by_url = [r for r in all_rules if url and url in r.urls]
    if by_url:
        return by_url[0]
    return next((r for r in all_rules if r.matches(raw_q)), None)


def items_named(model: ScoringModel, name: str) -> list[str]:
    """linkIds an item reference means: the linkId itself, an LHC-style '/44260-8' path, or item.code."""
    return [
        link_id for link_id, codes in model.item_codes.items()
        if link_id == name or link_id.endswith("/" + name) or name in codes
    ]


def apply_rules(rules: Rules, model: ScoringModel, score: Score) -> Outcome:
    flags: list[str] = []
    urgent = False
    for flag in rules.flags:
        if flag.item == TOTAL:
            values = [score.total] if score.total is not None else []
        else:
            values = [score.item_scores[i] for i in items_named(model, flag.item) if i in score.item_scores]
        if any(_OPERATORS[flag.operator](v, flag.score) for v in values):
            if flag.name not in flags:
                flags.append(flag.name)
            urgent = urgent or flag.urgent
    return Outcome(rules.band_for(score.total), tuple(flags), urgent)
