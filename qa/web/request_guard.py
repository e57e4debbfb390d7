"""What the web server refuses before Gradio sees it (an ASGI middleware, so it sees every route):

- requests from other web origins: a page on another site, or on another port of this machine, must not post
  uploads or questions with the user's browser, nor read the answers. Browsers send `Origin` with every
  cross-origin request and with same-origin POSTs; the app's own page sends its own origin, and programs
  (gradio_client, curl) send none. A request whose Origin names another host or port than the one it was sent
  to is answered 403;
- Gradio's file route: the app shows article text and serves no files, so nothing posted to Gradio's upload
  route (any name, any extension) can be fetched back from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# Gradio serves cached files under these paths ("/gradio_api/file=/tmp/gradio/.../name").
_FILE_ROUTES = ("/gradio_api/file=", "/file=")


class RequestGuard:
    """ASGI middleware: 403 for a request from another origin, or for Gradio's file route."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = scope["type"] in ("http", "websocket") and (
            not _same_origin(scope) or scope.get("path", "").startswith(_FILE_ROUTES))
        if refused:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = b"Not served: requests from other web origins, and files."
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _same_origin(scope: Scope) -> bool:
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    origin = headers.get(b"origin")
    if origin is None:
        return True  # not sent by a browser page of another origin
    host = headers.get(b"host", b"").decode("latin-1").lower()
    parts = urlsplit(origin.decode("latin-1").lower())
    return bool(parts.netloc) and parts.netloc == host
