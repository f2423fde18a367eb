"""Serving the web UI: its static files at `/ui/`, and `/` redirecting there.

`WebUi` is ASGI middleware put in front of the API application, so the files are served before
authentication: they hold no data (the UI asks for a token when the API answers 401).

The files are few and small, so they are read once, when the server starts, and kept in memory
with their gzip-compressed form: a first load costs no disk reads and no compression. Each answer
carries an ETag; browsers revalidate (`Cache-Control: no-cache`) and get 304 while the server runs
the same files.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

#: The built UI, shipped inside the package.
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where the UI lives on the server.
UI_PREFIX = "/ui"
#: Files smaller than this are sent as they are: compressing them saves nothing.
_COMPRESS_FROM = 512
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the UI: its bytes, their gzip form (if smaller) and its validators."""

    content_type: str
    data: bytes
    gzipped: bytes | None
    etag: str

    @classmethod
    def of(cls, path: Path) -> Asset:
        data = path.read_bytes()
        kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        content_type = kind or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("+xml", "json")):
            content_type += "; charset=utf-8"
        zipped = gzip.compress(data, mtime=0) if len(data) >= _COMPRESS_FROM else None
        digest = hashlib.sha256(data).hexdigest()[:20]
        return cls(content_type, data, zipped, f'"{digest}"')


def load_assets(directory: Path) -> dict[str, Asset]:
    """Every file under `directory`, by its path below `/ui/` (`index.html`, `js/app.js`)."""
    return {
        path.relative_to(directory).as_posix(): Asset.of(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


class WebUi:
    """Answer `/` (a redirect) and `/ui…` (the UI's files); pass everything else to `app`."""

    def __init__(self, app: ASGIApp, directory: Path = STATIC_DIR) -> None:
        self.app = app
        self.assets = load_assets(directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == "/" or path == UI_PREFIX or path.startswith(f"{UI_PREFIX}/")
        ):
            await self.app(scope, receive, send)
            return
        await self.answer(scope, path)(scope, receive, send)

    def answer(self, scope: Scope, path: str) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        if path in ("/", UI_PREFIX):
            return RedirectResponse(f"{UI_PREFIX}/", status_code=307)
        name = path.removeprefix(f"{UI_PREFIX}/") or "index.html"
        asset = self.assets.get(name)
        if asset is None:
            return PlainTextResponse(f"no file {path}", 404)
        request = Headers(scope=scope)
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if request.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        body = asset.data
        if asset.gzipped is not None and "gzip" in request.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.content_type, headers=headers)
