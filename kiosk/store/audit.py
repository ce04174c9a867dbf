"""Append-only, hash-chained audit log of staff actions.

Each entry stores hash = sha256(prev_hash + canonical JSON of the entry), so
changing, removing or reordering any past entry breaks every later hash.
Triggers in the schema refuse UPDATE and DELETE; the chain catches whoever
gets around them. The head hash is also kept in settings, which catches a
truncated tail. Details hold ids and codes, never PHI (the log is plain text).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models as m

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HEAD_SETTING = "_store.audit_head"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, detail: str) -> str:
    body = canonical_json(
        {"seq": seq, "at": at.isoformat(), "actor": actor, "action": action, "detail": detail}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(session: Session, actor: str, action: str, detail: dict[str, Any], now: datetime) -> None:
    """Add one entry. The caller's transaction must hold the write lock (BEGIN
    IMMEDIATE), or two writers could both chain onto the same head."""
    last = session.execute(
        select(m.AuditEntry.seq, m.AuditEntry.hash).order_by(m.AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    detail_json = canonical_json(detail)
    entry_hash = _entry_hash(prev_hash, seq, now, actor, action, detail_json)
    session.add(
        m.AuditEntry(
            seq=seq,
            at=now,
            actor=actor,
            action=action,
            detail=detail_json,
            prev_hash=prev_hash,
            hash=entry_hash,
        )
    )
    session.merge(m.Setting(key=HEAD_SETTING, value=entry_hash, updated_at=now))


def verify(session: Session) -> bool:
    """True if every entry still hashes to what was written, in an unbroken chain."""
    expected_prev, expected_seq = GENESIS_HASH, 1
    for e in session.scalars(select(m.AuditEntry).order_by(m.AuditEntry.seq)):
        recomputed = _entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.detail)
        if e.seq != expected_seq or e.prev_hash != expected_prev or e.hash != recomputed:
            log.warning("audit chain broken at seq %d", e.seq)
            return False
        expected_prev, expected_seq = e.hash, e.seq + 1
    head = session.get(m.Setting, HEAD_SETTING)
    if (head.value if head else GENESIS_HASH) != expected_prev:
        log.warning("audit chain head does not match the last entry (seq %d)", expected_seq - 1)
        return False
    return True
