"""Rendering the enrolment pages: Jinja2 templates from portal/templates (autoescaped),
the words of the page's language, and the headers every page gets (a strict Content
Security Policy: only this server's own CSS and JS, so nothing can load from a CDN;
no caching, no Referer that would carry the invitation, no framing)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .messages import words

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("practice_server.portal", "templates"),
                       autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def base_path(request: Request) -> str:
    """/portal, under the root path a reverse proxy may put the server at."""
    return f"{request.scope.get('root_path', '').rstrip('/')}/portal"


def render(request: Request, template: str, language: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    t = words(language)
    base = base_path(request)
    defaults = {"site_name": None, "step": None, "errors": [],
                "switch_url": f"{request.url.path}?lang={t['other_language_code']}"}
    page = environment().get_template(template).render(
        t=t, lang=language, base=base, static=f"{base}/static", **{**defaults, **values})
    return HTMLResponse(page, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
