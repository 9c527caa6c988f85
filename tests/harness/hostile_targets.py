"""A real HTTP server on loopback that attacks its client (issue 17, items 1-6).

`http://127.0.0.1:PORT/<mode>/scim/v2`; the first path segment picks the attack:

  endless      the probe (GET .../ServiceProviderConfig) answers 200 with a chunked body that never ends
  drip         the probe's body arrives one byte every 0.5 s (every read is quick, the whole is not)
  stall        the probe's headers and half its body, then silence with the connection open
  pages        the probe is fine; every list answers a 9.5 MiB page with totalResults 10^9
  echo         every SCIM request answers 400 with the bearer token in `detail`, raw and in JSON-escaped
               forms; the token also comes back URL-encoded in a Location header
  deep         every SCIM request answers 200 with `[` × 100,000
  429-neg      every SCIM request answers 429 with `Retry-After: -5`
  429-none     ... 429 with no Retry-After
  429-date     ... 429 with an HTTP-date Retry-After
  429-huge     ... 429 with `Retry-After: 999999999`

Raw sockets, so that each attack is exactly what goes on the wire.
"""
from __future__ import annotations

import json
import socket
import urllib.parse

from tests.harness.broken_targets import SPC
from tests.harness.raw_server import LoopbackServer, RawHandler, send_padded

MODES = ("endless", "drip", "stall", "pages", "echo", "deep", "429-neg", "429-none", "429-date", "429-huge")
PAGE_BYTES = int(9.5 * 1024 * 1024)
RETRY_AFTER = {"429-neg": "-5", "429-none": None, "429-date": "Wed, 21 Oct 2015 07:28:00 GMT",
               "429-huge": "999999999"}


def _head(status: str, extra: str = "", content_type: str = "application/scim+json") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n{extra}\r\n").encode("latin-1")


def _whole(status: str, body: bytes, extra: str = "") -> bytes:
    return _head(status, f"Content-Length: {len(body)}\r\n{extra}") + body


class _Handler(RawHandler):
    server: "HostileServer"

    def answer(self, sock: socket.socket, method: str, target: str, headers: dict[str, str]) -> None:
        authorization = headers.get("authorization", "")
        mode = target.strip("/").split("/", 1)[0]
        path = target.split("?", 1)[0]
        probe = path.endswith("/ServiceProviderConfig")
        if mode == "endless" and probe:
            sock.sendall(_head("200 OK", "Transfer-Encoding: chunked\r\n"))
            chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
            while not self.server.stopping.is_set():
                sock.sendall(chunk)
        elif mode == "drip" and probe:
            body = json.dumps(SPC).encode()
            sock.sendall(_head("200 OK", f"Content-Length: {len(body)}\r\n"))
            for byte in body:
                if self.server.stopping.wait(0.5):
                    return
                sock.sendall(bytes([byte]))
        elif mode == "stall" and probe:
            body = json.dumps(SPC).encode()
            sock.sendall(_head("200 OK", f"Content-Length: {len(body)}\r\n") + body[: len(body) // 2])
            self.server.stopping.wait(30)
        elif probe or mode not in MODES or mode in ("endless", "drip", "stall"):
            sock.sendall(_whole("200 OK", json.dumps(SPC).encode()))
        elif mode == "pages":
            self._page(sock)
        elif mode == "echo":
            token = authorization.partition(" ")[2]
            detail = f"bad token {token} / {json.dumps(token)} / {json.dumps(token, ensure_ascii=True)}"
            body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                               "detail": detail}).replace("/", "\\/").encode()
            sock.sendall(_whole("400 Bad Request", body, f"Location: /x?t={urllib.parse.quote(token, safe='')}\r\n"))
        elif mode == "deep":
            sock.sendall(_whole("200 OK", b"[" * 100_000))
        else:
            value = RETRY_AFTER[mode]
            extra = f"Retry-After: {value}\r\n" if value is not None else ""
            sock.sendall(_whole("429 Too Many Requests", b'{"detail": "slow down"}', extra))

    def _page(self, sock: socket.socket) -> None:
        prefix = (b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1000000000, '
                  b'"itemsPerPage": 1, "startIndex": 1, "Resources": [{"id": "u1", "userName": "a@x.com", "pad": "')
        send_padded(sock, _head("200 OK", f"Content-Length: {PAGE_BYTES}\r\n"), prefix, b'"}]}', PAGE_BYTES)


class HostileServer(LoopbackServer):
    """`with HostileServer() as srv: srv.url("echo")` — bound to 127.0.0.1 on a free port."""

    handler = _Handler

    def __enter__(self) -> "HostileServer":
        super().__enter__()
        return self
