"""The CSS and JS the server's own pages load from the server itself (no CDN)."""
from __future__ import annotations

from importlib.resources import files

from fastapi import Response


def static_response(package: str, name: str, media_types: dict[str, str], max_age: int) -> Response:
    """`name` from `package`'s static folder, if `media_types` lists it (nothing else is served)."""
    media_type = media_types.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body = files(package).joinpath("static", name).read_bytes()
    return Response(body, media_type=media_type, headers={
        "Cache-Control": f"public, max-age={max_age}", "X-Content-Type-Options": "nosniff"})
