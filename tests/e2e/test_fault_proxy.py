"""The chaos proxy injects each fault it claims to, so the chaos test proves something."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.e2e.fault_proxy import Fault, FaultProxy, fixed_plan


class _Counting(BaseHTTPRequestHandler):
    hits: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Counting.hits.append(body)
        reply = json.dumps({"got": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _post(proxy: FaultProxy) -> requests.Response:
    return requests.post(proxy.url + "/x", data=b"hello", timeout=5)


@pytest.mark.parametrize(
    ("fault", "reaches_server", "outcome"),
    [
        (Fault.PASS, True, 200),
        (Fault.DELAY, True, 200),
        (Fault.DROP, False, requests.ConnectionError),
        (Fault.RESET_MID_REQUEST, False, requests.ConnectionError),
        (Fault.RESET_AFTER_COMMIT, True, requests.ConnectionError),
        (Fault.TRUNCATED_REPLY, True, requests.RequestException),
        (Fault.GARBAGE_REPLY, True, "garbage"),
        (Fault.ERROR_500_AFTER, True, 500),
        (Fault.ERROR_503_BEFORE, False, 503),
    ],
)
def test_each_fault(upstream: int, fault: Fault, reaches_server: bool, outcome) -> None:
    _Counting.hits.clear()
    with FaultProxy(upstream, fixed_plan(fault)) as proxy:
        if isinstance(outcome, type):
            with pytest.raises(outcome):
                _post(proxy).json()
        elif outcome == "garbage":
            reply = _post(proxy)
            assert reply.status_code == 200
            with pytest.raises(ValueError):
                reply.json()
        else:
            reply = _post(proxy)
            assert reply.status_code == outcome
            if outcome == 200:
                assert reply.json() == {"got": 5}
        assert proxy.counts[fault] == 1
        assert (_Counting.hits == [b"hello"]) is reaches_server
        # the next request passes untouched
        assert _post(proxy).json() == {"got": 5}
