"""A kiosk store, a fake practice server mounted in a requests.Session, a client and
an agent, all on settable clocks; stamina's waits are off (its testing switch)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
import stamina
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent_helpers import BASE_URL, START
from fake_server import Clock, FakeAdapter, FakePracticeServer
from kiosk.config import KioskConfig
from sync_agent.agent import SyncAgent
from sync_agent.client import SyncClient



@pytest.fixture(autouse=True)
def no_waits():
    # Backoff waits off; a retry loop gets at most 20 tries before it gives up.
    with stamina.set_testing(True, attempts=20):
        yield


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def server_clock(clock) -> Clock:
    return clock  # same clock unless a test skews it


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def device_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def server(device_id, device_key, server_clock) -> FakePracticeServer:
    return FakePracticeServer(device_id, device_key.public_key(), clock=server_clock)


@pytest.fixture
def adapter(server) -> FakeAdapter:
    return FakeAdapter(server)


@pytest.fixture
def ca_file(tmp_path) -> Path:
    path = tmp_path / "secrets" / "practice-ca.pem"
    path.parent.mkdir(exist_ok=True)
    path.write_text("-----BEGIN CERTIFICATE-----\n(test)\n-----END CERTIFICATE-----\n")
    return path


@pytest.fixture
def client(device_id, device_key, adapter, ca_file, clock) -> SyncClient:
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    return SyncClient(BASE_URL, device_id, device_key, session=session, ca_file=ca_file,
                      timeout=4.0, clock=clock)


@pytest.fixture
def config(data_dir, key_file, tmp_path, device_id) -> KioskConfig:
    return KioskConfig(
        data_dir=data_dir, key_file=key_file, log_file=tmp_path / "logs" / "kiosk.log",
        server_url=BASE_URL, device_id=device_id, sync_batch_size=3, retention_days=7,
        health_file=tmp_path / "health.json",
    )


@pytest.fixture
def agent(store, client, config, clock) -> SyncAgent:
    return SyncAgent(store, client, config, clock=clock, health_path=config.health_file)
