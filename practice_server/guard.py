"""Outermost ASGI middleware: body size limit, access log, and no traceback leaks.

- Bodies over MAX_BODY are refused with 413 `too_large`: at once when Content-Length
  says so, else while counting the streamed bytes, before the app sees any of it.
  The body (at most MAX_BODY) is buffered and handed to the app in one piece.
- An exception that escapes the app becomes a JSON 500 and one log line with the
  exception's type and stack frames but not its message (messages can quote input).
- One JSON access log line per request: method, path (no query), status, duration.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

log = logging.getLogger("practice_server.access")
errors = logging.getLogger("practice_server.errors")

MAX_BODY = 2 * 1024 * 1024


def _json_response(status: int, code: str, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"detail": {"code": code, "message": message}}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


class Guard:
    def __init__(self, app, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = {"code": 0}

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            body = await self._read_body(scope, receive)
            if body is None:
                await self._send(send_and_note, 413, "too_large",
                                 f"the request body is over {self.max_body // (1024 * 1024)} MiB; send smaller batches")
                return
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # e.g. http.disconnect

            await self.app(scope, replay, send_and_note)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            frames = "".join(traceback.format_list(traceback.extract_tb(e.__traceback__)))
            errors.error("request.crashed", extra={"fields": {
                "error": type(e).__name__, "path": scope.get("path", "")[:200], "frames": frames}})
            if status["code"] == 0:
                await self._send(send_and_note, 500, "internal_error",
                                 "the server failed on this request; the error is in its log")
        finally:
            log.info("request", extra={"fields": {
                "method": scope.get("method"), "path": scope.get("path", "")[:200],
                "status": status["code"], "ms": round((time.perf_counter() - began) * 1000, 1)}})

    async def _read_body(self, scope, receive) -> bytes | None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body:
                        return None
                except ValueError:
                    pass  # the server rejects a bad Content-Length before we get here
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _send(send, status: int, code: str, message: str) -> None:
        start, body = _json_response(status, code, message)
        await send(start)
        await send(body)
