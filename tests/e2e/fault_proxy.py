"""A fault-injecting HTTP/1.1 proxy on loopback, between the sync agent and the server.

It forwards one request per client connection (and tells the client
``Connection: close``) so that every request meets exactly one fault decision:

- PASS                 forward both ways untouched
- DELAY                wait, then forward (a slow network)
- DROP                 accept the connection and close it before reading anything
- RESET_MID_REQUEST    read part of the request, then reset (RST) the connection
- RESET_AFTER_COMMIT   forward the whole request, wait for the server's whole reply
                       (so the server has committed), then reset instead of replying
- TRUNCATED_REPLY      forward, then send only the first part of the reply and close
- GARBAGE_REPLY        forward, then answer ``200 OK`` with random bytes as the body
- ERROR_500_AFTER      forward (the server commits), then answer 500 instead
- ERROR_503_BEFORE     answer 503 without forwarding (a load balancer with no backend)

Plain HTTP on purpose: HTTP-level faults (a 200 with a garbage body, a 503 from a
load balancer) cannot be injected inside TLS by a TCP proxy; TLS itself is covered
by the end-to-end test. Runs its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import enum
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable


class Fault(enum.Enum):
    PASS = "pass"
    DELAY = "delay"
    DROP = "drop"
    RESET_MID_REQUEST = "reset_mid_request"
    RESET_AFTER_COMMIT = "reset_after_commit"
    TRUNCATED_REPLY = "truncated_reply"
    GARBAGE_REPLY = "garbage_reply"
    ERROR_500_AFTER = "error_500_after"
    ERROR_503_BEFORE = "error_503_before"


# Faults where the server may have committed the request: the ones that prove idempotency.
AFTER_COMMIT = {Fault.RESET_AFTER_COMMIT, Fault.TRUNCATED_REPLY, Fault.GARBAGE_REPLY, Fault.ERROR_500_AFTER}

HEAD_LIMIT = 64 * 1024


def random_plan(seed: int, fault_share: float = 0.4, delay_seconds: float = 0.2) -> Callable[[], tuple[Fault, float]]:
    """Each request: PASS with probability 1 - fault_share, else one fault at random."""
    rng = random.Random(seed)
    faults = [f for f in Fault if f is not Fault.PASS]
    lock = threading.Lock()

    def plan() -> tuple[Fault, float]:
        with lock:
            if rng.random() >= fault_share:
                return Fault.PASS, 0.0
            return rng.choice(faults), rng.uniform(0.0, delay_seconds)

    return plan


def fixed_plan(*faults: Fault) -> Callable[[], tuple[Fault, float]]:
    """The given faults in order, then PASS forever (for tests of one fault)."""
    queue = list(faults)
    lock = threading.Lock()

    def plan() -> tuple[Fault, float]:
        with lock:
            return (queue.pop(0) if queue else Fault.PASS), 0.05

    return plan


class FaultProxy:
    def __init__(self, upstream_port: int, plan: Callable[[], tuple[Fault, float]], upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.plan = plan
        self.counts: Counter[Fault] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(timeout=5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one connection = one request ---------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault, delay = self.plan()
        self.counts[fault] += 1
        try:
            await self._apply(fault, delay, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # either side went away: that is what faults are made of
        finally:
            if not writer.is_closing():
                writer.close()

    async def _apply(self, fault: Fault, delay: float, reader, writer) -> None:
        if fault is Fault.DROP:
            return
        if fault is Fault.RESET_MID_REQUEST:
            await reader.read(64)
            _reset(writer)
            return
        request = await _read_message(reader, is_request=True)
        if request is None:
            return
        if fault is Fault.ERROR_503_BEFORE:
            writer.write(_reply(503, b'{"detail":"no backend"}'))
            await writer.drain()
            return
        if fault is Fault.DELAY:
            await asyncio.sleep(delay)
        reply = await self._forward(request)
        if reply is None:
            _reset(writer)
            return
        if fault is Fault.RESET_AFTER_COMMIT:
            _reset(writer)
        elif fault is Fault.TRUNCATED_REPLY:
            writer.write(reply[: max(1, len(reply) * 2 // 3)])
            await writer.drain()
        elif fault is Fault.GARBAGE_REPLY:
            writer.write(_reply(200, random.randbytes(200)))
            await writer.drain()
        elif fault is Fault.ERROR_500_AFTER:
            writer.write(_reply(500, b"Internal Server Error"))
            await writer.drain()
        else:
            writer.write(reply)
            await writer.drain()

    async def _forward(self, request: bytes) -> bytes | None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return None  # server down (killed): the client sees a reset
        try:
            up_writer.write(request)
            await up_writer.drain()
            reply = await _read_message(up_reader, is_request=False)
            return None if reply is None else _force_close(reply)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            return None
        finally:
            up_writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _reply(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _force_close(message: bytes) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


async def _read_message(reader: asyncio.StreamReader, is_request: bool) -> bytes | None:
    """One HTTP/1.1 message: head, then a Content-Length or chunked body."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > HEAD_LIMIT:
        return None
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            body += size_line + chunk
            if size == 0:
                return head + body
    length = int(headers.get(b"content-length", b"0"))
    body = await reader.readexactly(length) if length else b""
    return head + body
