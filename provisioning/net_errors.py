"""Turn network and TLS failures into one line IT can act on.

`requests` wraps the real cause several layers deep (requests -> urllib3 -> socket/ssl);
we walk the chain of causes and look for the kind of failure, not for message text where
we can avoid it.
"""
from __future__ import annotations

import errno
import socket
import ssl
from urllib.parse import urlsplit

import requests


def _causes(exc: BaseException):
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None), *getattr(e, "args", ())):
            if isinstance(nxt, BaseException):
                stack.append(nxt)


def explain_os_error(exc: OSError, host: str, port: int) -> str:
    if isinstance(exc, socket.gaierror):
        return (
            f"cannot find the server name {host!r} (DNS: {exc.strerror}): check the spelling of "
            "the server URL and the kiosk's network/DNS settings"
        )
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return (
            f"nothing answers at {host}:{port} (connection refused): check the port in the server "
            "URL and that the practice server is running"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return (
            f"{host}:{port} did not answer in time: check the server URL, the kiosk's network and "
            "any firewall between them"
        )
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"no network route to {host}: check the kiosk's network connection"
    return f"cannot connect to {host}:{port}: {exc.strerror or exc}"


def explain_request_error(exc: requests.RequestException, url: str, trust: str) -> str:
    """`trust` describes the CA used, e.g. "the CA in /etc/clinic-kiosk/ca.pem (sha256:…)"."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    causes = list(_causes(exc))
    for e in causes:
        if isinstance(e, ssl.SSLCertVerificationError):
            reason = e.verify_message or str(e)
            if "mismatch" in reason.lower():
                return (
                    f"the server's certificate is not valid for the name {host!r} ({reason}): use the "
                    "server name the certificate was made for (init-pki --hostname/--ip), or make a "
                    "new server certificate with that name (init-pki --reuse-ca)"
                )
            return (
                f"the server's TLS certificate is not trusted ({reason}): it was checked against "
                f"{trust} only. Get the practice CA from IT (ca.pem in the practice server's "
                "init-pki directory, or the fingerprint printed by issue-token) — or the URL points "
                "at another server"
            )
    for e in causes:
        if isinstance(e, ssl.SSLError):
            text = str(e)
            if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text or "record layer" in text:
                return (
                    f"{host}:{port} does not speak HTTPS: is the URL's port right (or is this an "
                    "http:// server)?"
                )
            return f"TLS handshake with {host}:{port} failed: {getattr(e, 'reason', None) or text}"
    if isinstance(exc, requests.exceptions.Timeout):
        return (
            f"{url} did not answer in time: check the server URL, the kiosk's network and any "
            "firewall between them"
        )
    for e in causes:
        if isinstance(e, socket.gaierror):
            return explain_os_error(e, host, port)
        if type(e).__name__ == "NameResolutionError":
            return (
                f"cannot find the server name {host!r} (DNS lookup failed): check the spelling of "
                "the server URL and the kiosk's network/DNS settings"
            )
    for e in causes:
        if isinstance(e, ConnectionRefusedError) or (isinstance(e, OSError) and e.errno == errno.ECONNREFUSED):
            return explain_os_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), host, port)
    for e in causes:
        if isinstance(e, TimeoutError | socket.timeout):
            return explain_os_error(TimeoutError(), host, port)
    for e in causes:
        if isinstance(e, ConnectionResetError) or type(e).__name__ in ("RemoteDisconnected", "ProtocolError"):
            hint = " (is it an https:// server? then use https://)" if parts.scheme == "http" else ""
            return f"{host}:{port} closed the connection without answering{hint}: check the server URL"
    for e in causes:
        if isinstance(e, OSError) and e.errno is not None:
            return explain_os_error(e, host, port)
    return f"cannot reach {url}: {exc}"
