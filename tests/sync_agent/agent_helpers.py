"""Constants and builders shared by the sync agent tests (conftest.py holds the fixtures)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sync_agent.agent import SyncAgent

BASE_URL = "https://practice.test"
START = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


def make_agent(store, client, config, clock, **changes) -> SyncAgent:
    config = replace(config, **changes)
    return SyncAgent(store, client, config, clock=clock, health_path=config.health_file)
