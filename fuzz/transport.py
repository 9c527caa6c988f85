"""An in-process WSGI transport for httpx that hands the app the exact bytes a real server would.

httpx's own WSGITransport puts the *decoded* URL path into PATH_INFO and decodes header values as
ASCII, so a request such as `GET /Users/%ff` or a Latin-1 header value crashes inside the transport
before the app sees it. PEP 3333 says PATH_INFO and header values are the raw bytes decoded as
ISO-8859-1 (what waitress does), so this transport builds the environ that way and sends any path,
query and header bytes through unchanged (`extensions={"raw_target": b"/p?q"}` overrides the URL). Everything else (in-process, no socket) is the same.
"""
from __future__ import annotations

import io
import sys
from typing import Any, Callable, Iterable
from urllib.parse import unquote_to_bytes

import httpx

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RawWSGITransport(httpx.WSGITransport):
    """`httpx.Client(transport=RawWSGITransport(app), base_url="http://testserver")`."""

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app=app, raise_app_exceptions=False)
        self._wsgi_app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        # extensions["raw_target"]: the request-target bytes exactly as a sloppy client would send
        # them (httpx's URL parser refuses or rewrites some of them).
        raw_target = request.extensions.get("raw_target") or request.url.raw_path
        raw_path, _, raw_query = raw_target.partition(b"?")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": request.url.scheme, "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "REQUEST_METHOD": request.method, "SCRIPT_NAME": "",
            # PEP 3333: "native strings" holding the undecoded bytes, via ISO-8859-1.
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            "QUERY_STRING": raw_query.decode("latin-1"),
            "SERVER_NAME": request.url.host or "testserver", "SERVER_PORT": str(request.url.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        }
        for name, value in request.headers.raw:
            key = name.decode("latin-1").upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = value.decode("latin-1")
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        try:
            result = self._wsgi_app(environ, start_response)
            try:
                content = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # what a real WSGI server does with an exception escaping the app
            return httpx.Response(500, content=f"exception escaped the app: {type(exc).__name__}: {exc}".encode(),
                                  request=request)
        status = int(seen["status"].split(" ", 1)[0])
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in seen["headers"]]
        return httpx.Response(status, headers=headers, content=content, request=request)
