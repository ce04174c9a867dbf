"""Fuzz the sync API from its own OpenAPI document (schemathesis), signed like a kiosk.

Every generated request is signed with an enrolled kiosk's key and a fresh nonce, so
the handlers themselves (not only the signature check) get the generated input.
Asserted: no 5xx, and status codes, content types and bodies as documented.
Deterministic and short: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server_helpers import add_schedule, site_today
from sync_protocol.signing import sign_request

MAX_EXAMPLES = 25


class SignAsKiosk(requests.auth.AuthBase):
    def __init__(self, kiosk) -> None:
        self.kiosk = kiosk

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            return r  # a streamed body: it goes unsigned (and gets a 401)
        sign_request(r.method, r.url, r.headers, body, device_id=self.kiosk.device_id,
                     private_key=self.kiosk.key, now=datetime.now(UTC))
        return r


@pytest.fixture
def signing_session(server, site, kiosk) -> requests.Session:
    with server.sessions.begin() as db:
        add_schedule(db, site.id, [site_today()], per_day=3)
    session = requests.Session()
    session.auth = SignAsKiosk(kiosk)
    return session


def operations(app):
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in api.get_all_operations()]
    assert len(found) == 6, [f"{op.method} {op.path}" for op in found]
    return found


# schemathesis' own pytest integration (`from_fixture`) does not run under pytest 9
# (it reads a private pytest attribute), so the strategies are driven by Hypothesis here.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_fails_on_generated_input(server, signing_session, mode):
    statuses: dict[str, set[int]] = {}
    for operation in operations(server.app):
        if mode is GenerationMode.NEGATIVE and operation.path.endswith("/health"):
            continue  # no parameters and no body: nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            response = case.call(session=signing_session)
            statuses.setdefault(f"{case.method} {operation.path}", set()).add(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.path}: {response.status_code} {response.text[:300]}")
            case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                     response_schema_conformance])

        call()
    if mode is GenerationMode.POSITIVE:
        # The signatures held: every signed route answered 2xx at least once.
        for route in ("GET /api/v1/schedule", "GET /api/v1/bundles/{kind}", "POST /api/v1/events",
                      "POST /api/v1/heartbeat"):
            assert any(200 <= s < 300 for s in statuses[route]), (route, statuses[route])
