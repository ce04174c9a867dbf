"""What every request handler needs: database sessions, the clock, the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .settings import ServerSettings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServerContext:
    settings: ServerSettings
    engine: Engine
    write: sessionmaker[Session]  # BEGIN IMMEDIATE on SQLite
    read: sessionmaker[Session]
    clock: Callable[[], datetime]
    ca_certificate: str | None


def get_context(request: Request) -> ServerContext:
    return request.app.state.context


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None
