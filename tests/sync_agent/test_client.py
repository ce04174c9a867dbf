"""SyncClient against the fake server: signing, transport settings, clock skew and
how each kind of failure is classified."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests

from agent_helpers import BASE_URL, START
from fake_server import Clock, FakeAdapter
from kiosk.store import OutboxEvent
from sync_agent.client import SyncClient
from sync_agent.errors import BadCursorError, PermanentError, TransientError


def event(i: int, event_type: str = "visit.step_timing") -> OutboxEvent:
    import uuid

    return OutboxEvent(id=str(uuid.uuid4()), event_type=event_type, payload={"i": i}, session_id=None,
                       created_at=START, state="pending", attempts=0, last_error=None)


def test_every_request_is_signed_with_a_timeout_and_the_practice_ca(client, server, adapter, ca_file):
    results = client.push_events([event(1), event(2)])
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert client.get_bundle("config", None).items["minutes_per_visit"] == 20
    client.pull_schedule("", 10)
    assert client.heartbeat({"version": "x"}) == START
    assert len(server.requests) == 4 and len(server.nonces) == 4  # all verified, fresh nonces
    assert all(s["timeout"] == 4.0 and s["verify"] == str(ca_file) for s in adapter.sent)


def test_plain_http_on_loopback_needs_no_ca(device_id, device_key, server, clock):
    session = requests.Session()
    adapter = FakeAdapter(server)
    session.mount("http://127.0.0.1:8080", adapter)
    c = SyncClient("http://127.0.0.1:8080", device_id, device_key, session=session, clock=clock)
    c.push_events([event(1)])
    assert adapter.sent[0]["verify"] is True


def test_https_without_a_ca_file_is_refused(device_id, device_key):
    with pytest.raises(ValueError, match="practice CA file"):
        SyncClient(BASE_URL, device_id, device_key, ca_file=None)


def test_a_retried_request_gets_a_fresh_nonce_and_created(client, server, clock):
    server.fail("stale")  # answered before verification: the retry is what gets in
    client.push_events([event(1)])
    clock.advance(seconds=30)
    client.push_events([event(2)])
    assert len(server.nonces) == 2
    assert server.signed_at[1] - server.signed_at[0] >= timedelta(seconds=30)


@pytest.mark.parametrize("offset", [timedelta(hours=1), timedelta(hours=-3), timedelta(days=2)])
def test_clock_skew_is_learnt_from_a_stale_reply_and_corrected_at_once(
    device_id, device_key, server, adapter, ca_file, offset
):
    kiosk_clock = Clock(START - offset)  # the kiosk's clock is wrong; the server's is START
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    c = SyncClient(BASE_URL, device_id, device_key, session=session, ca_file=ca_file, clock=kiosk_clock)
    [result] = c.push_events([event(1)])
    assert result.status == "accepted"
    assert abs(c.skew - offset) <= timedelta(seconds=1)
    assert abs(server.signed_at[-1] - START) <= timedelta(seconds=2)
    # From then on every request is signed on the server's time, first time.
    c.push_events([event(2)])
    assert len(adapter.sent) == 3


def test_the_skew_is_learnt_from_error_replies_too(device_id, device_key, server, adapter, ca_file):
    session = requests.Session()
    session.mount(BASE_URL, adapter)
    kiosk_clock = Clock(START - timedelta(minutes=2))  # within the limit: no 401, just a skew
    c = SyncClient(BASE_URL, device_id, device_key, session=session, ca_file=ca_file, clock=kiosk_clock)
    server.fail("503")
    with pytest.raises(TransientError):
        c.push_events([event(1)])
    assert abs(c.skew - timedelta(minutes=2)) <= timedelta(seconds=1)


def test_stale_twice_is_transient_and_not_retried_more(client, server, adapter):
    server.fail("stale", times=3)
    with pytest.raises(TransientError) as err:
        client.push_events([event(1)])
    assert err.value.code == "stale" and "clock" in str(err.value)
    assert len(adapter.sent) == 2


@pytest.mark.parametrize(
    "fault, code",
    [("timeout", "timeout"), ("timeout_after", "timeout"), ("connection", "connection"),
     ("reset_after", "connection"), ("500", "server_error"), ("502", "server_error"),
     ("503", "server_busy"), ("429", "server_busy"), ("garbage", "bad_reply"),
     ("truncated", "bad_reply"), ("missing_event", "bad_reply"), ("wrong_order", "bad_reply")],
)
def test_transient_failures(client, server, fault, code):
    server.fail(fault)
    with pytest.raises(TransientError) as err:
        client.push_events([event(1), event(2)])
    assert err.value.code == code
    if fault in ("503", "429"):
        assert err.value.retry_after == 7


@pytest.mark.parametrize(
    "fault, code, words",
    [("revoked", "revoked", "revoked"), ("unknown_device", "unknown_device", "does not know this kiosk"),
     ("413", "too_large", "too large")],
)
def test_permanent_failures_say_what_it_should_do(client, server, fault, code, words):
    server.fail(fault)
    with pytest.raises(PermanentError) as err:
        client.push_events([event(1)])
    assert err.value.code == code and words in str(err.value)
    if code in ("revoked", "unknown_device"):
        assert err.value.needs_enrolment and "python -m provisioning enrol" in str(err.value)


def test_a_forged_signature_is_a_permanent_bad_signature(device_id, server, adapter, ca_file, clock):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    session = requests.Session()
    session.mount(BASE_URL, adapter)
    other = SyncClient(BASE_URL, device_id, Ed25519PrivateKey.generate(), session=session,
                       ca_file=ca_file, clock=clock)
    with pytest.raises(PermanentError) as err:
        other.push_events([event(1)])
    assert err.value.code == "bad_signature" and err.value.needs_enrolment


def test_unknown_4xx_is_permanent(client):
    with pytest.raises(PermanentError) as err:
        client._call("GET", "/nothing-here")
    assert err.value.status == 404 and "IT" in str(err.value)


def test_bad_cursor(client, server):
    with pytest.raises(BadCursorError):
        client.pull_schedule("999", 10)


def test_an_untrusted_certificate_is_permanent(client, adapter, monkeypatch):
    def boom(*a, **k):
        raise requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    monkeypatch.setattr(adapter, "send", boom)
    with pytest.raises(PermanentError) as err:
        client.push_events([event(1)])
    assert err.value.code == "tls_untrusted" and "practice CA" in str(err.value)


def test_schedule_page_is_parsed_into_store_records(client, server):
    aid = server.add_appointment(day=date(2025, 3, 10), status="cancelled")
    page = client.pull_schedule("", 10)
    assert not page.more and page.cursor == "1"
    [a] = page.appointments
    assert a.id == aid and a.status == "cancelled" and a.start.tzinfo is None
    assert page.patients[0].birth_date == date(1950, 2, 3)
    assert "Doe" not in repr(page) and "Doe" not in repr(page.patients[0])


def test_a_schedule_page_of_the_wrong_shape_is_transient(client, server):
    server.add_appointment(day=date(2025, 3, 10))
    server.fail("orphan")  # the page names a patient it does not carry
    with pytest.raises(TransientError, match="not in the same page"):
        client.pull_schedule("", 10)


def test_bundle_304(client):
    bundle = client.get_bundle("config", None)
    assert bundle.etag == '"config-1"'
    assert client.get_bundle("config", bundle.etag) is None
