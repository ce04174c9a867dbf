"""Rendering dashboard pages: Jinja2 templates (autoescaped) from dashboard/templates, the
navigation the signed-in person's role allows, and strict headers (only this server's own
CSS, JS and live stream: nothing from a CDN; no caching of patient data; no framing)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..static_files import static_response
from .sessions import StaffUser

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# (path, label, roles that see it)
NAV = (
    ("arrivals", "Arrivals", ("front_desk", "clinician", "admin")),
    ("alerts", "Alerts", ("front_desk", "clinician", "admin")),
    ("analytics", "Analytics", ("clinician", "admin")),
    ("fleet", "Kiosks", ("admin",)),
)
STATIC = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


@cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("practice_server.dashboard", "templates"),
                       autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def base_path(request: Request) -> str:
    return f"{request.scope.get('root_path', '').rstrip('/')}/staff"


def page_html(request: Request, template: str, user: StaffUser | None, **values: Any) -> str:
    base = base_path(request)
    nav = [(f"{base}/{path}", label, path) for path, label, roles in NAV if user and user.role in roles]
    return environment().get_template(template).render(
        base=base, static=f"{base}/static", user=user, nav=nav, current=values.pop("current", ""), **values)


def render(request: Request, template: str, user: StaffUser | None, *, status: int = 200,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    return HTMLResponse(page_html(request, template, user, **values), status_code=status,
                        headers={**SECURITY_HEADERS, **(headers or {})})


class PageRefusal(HTTPException):
    """A refusal shown as a page (app.py's error handler answers `page` as HTML)."""

    def __init__(self, status: int, page: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail={"code": f"http_{status}", "message": "refused"},
                         headers={**SECURITY_HEADERS, **(headers or {})})
        self.page = page


def refusal(request: Request, user: StaffUser | None, status: int, title: str, body: str) -> PageRefusal:
    return PageRefusal(status, page_html(request, "refused.html", user, title=title, body=body))


def static_file(name: str) -> Response:
    return static_response(__package__, name, STATIC, max_age=300)
