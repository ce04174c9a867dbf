"""Shared fixtures: one PKI, small real HTTP(S) servers in threads (uvicorn / http.server)."""
from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.harness import Pki, free_port, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki-main"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory) -> Pki:
    """A second, unrelated practice CA: what a kiosk given the wrong ca.pem trusts."""
    return make_pki(tmp_path_factory.mktemp("pki-other"))


class ThreadedUvicorn:
    """A real uvicorn server (real TLS) in a thread of this process."""

    def __init__(self, app, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        import uvicorn

        self.port = free_port()
        self.tls = certfile is not None
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning",
            ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedUvicorn:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def tiny_app():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    def hello():
        return {"hello": "world"}

    return app


@pytest.fixture(scope="session")
def tls_hello_server(pki):
    """uvicorn serving a tiny app with the practice server certificate (full chain)."""
    with ThreadedUvicorn(tiny_app(), certfile=pki.server_cert, keyfile=pki.server_key) as server:
        yield server


@pytest.fixture(scope="session")
def foreign_http_server():
    """Some other web server on loopback (not ours): answers 404 HTML to everything."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_error(404, "Not Found")

        do_POST = do_GET

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_proxy(monkeypatch):
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    return requests
