"""A real HTTP server on loopback that misbehaves the way real SCIM servers do (issue 7 §4).

The first path segment picks the misbehaviour: `http://127.0.0.1:PORT/<mode>/scim/v2`. In every
mode except `hang-all` the probe (GET .../ServiceProviderConfig) gets a proper answer, so the
harness starts its run; every other request gets the misbehaviour:

  reset        the connection is closed with a TCP RST after the request is read
  close        the connection is closed with no answer at all
  hang         no answer, the connection held open (longer than any --timeout in the tests)
  hang-all     like hang, the probe included (the target never answers)
  html         502 with an HTML error page
  invalid-json 200 application/scim+json with a truncated JSON body
  wrong-ctype  a valid SCIM body served as text/html
  empty-200    200 with an empty body
  gigantic     200 with a 12 MiB JSON body (more than the transcript's 10 MiB cap)
  slow         200 whose body arrives one byte every 0.25 s (slower than the timeout in total)
  redirect     302 to another URL on the same server

Raw sockets (not a WSGI server), so that each defect is exactly what goes on the wire.
"""
from __future__ import annotations

import json
import socket
import struct
import time
from typing import Iterator

from tests.harness.raw_server import LoopbackServer, RawHandler, send_padded

MODES = ("reset", "close", "hang", "hang-all", "html", "invalid-json", "wrong-ctype", "empty-200", "gigantic",
         "slow", "redirect")
GIGANTIC_BYTES = 12 * 1024 * 1024
HANG_S = 30.0
SPC = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
       "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
       "filter": {"supported": True, "maxResults": 100}, "changePassword": {"supported": False},
       "sort": {"supported": False}, "etag": {"supported": False},
       "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer", "description": "token"}]}
USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u1", "userName": "a@x.com",
        "active": True, "meta": {"resourceType": "User"}}


def _response(status: str, body: bytes, content_type: str | None = "application/scim+json",
              extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return (head + extra + "\r\n").encode("latin-1") + body


class _Handler(RawHandler):
    server: "BrokenServer"
    timeout_s = HANG_S

    def answer(self, sock: socket.socket, method: str, target: str, headers: dict[str, str]) -> None:
        mode = target.strip("/").split("/", 1)[0]
        path = target.split("?", 1)[0]
        probe = method == "GET" and path.endswith("/ServiceProviderConfig") and mode != "hang-all"
        if probe or mode not in MODES:
            sock.sendall(_response("200 OK", json.dumps(SPC).encode()))
            return
        if mode == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        elif mode == "close":
            sock.shutdown(socket.SHUT_RDWR)
        elif mode in ("hang", "hang-all"):
            self.server.stopping.wait(HANG_S)
        elif mode == "html":
            page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
            sock.sendall(_response("502 Bad Gateway", page, "text/html; charset=utf-8"))
        elif mode == "invalid-json":
            sock.sendall(_response("200 OK", b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": '))
        elif mode == "wrong-ctype":
            sock.sendall(_response("201 Created" if method == "POST" else "200 OK", json.dumps(USER).encode(),
                                   "text/html"))
        elif mode == "empty-200":
            sock.sendall(_response("200 OK", b""))
        elif mode == "gigantic":
            self._gigantic(sock)
        elif mode == "slow":
            body = json.dumps(USER).encode()
            sock.sendall(_response("200 OK", b"")[:-2].replace(b"Content-Length: 0", f"Content-Length: {len(body)}".encode())
                         + b"\r\n")
            for byte in body:
                if self.server.stopping.wait(0.25):
                    return
                sock.sendall(bytes([byte]))
        elif mode == "redirect":
            sock.sendall(_response("302 Found", b"", None, f"Location: /elsewhere{path}\r\n"))

    def _gigantic(self, sock: socket.socket) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {GIGANTIC_BYTES}\r\n"
                "Connection: close\r\n\r\n").encode()
        send_padded(sock, head, b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "padding": "',
                    b'"}', GIGANTIC_BYTES)


class BrokenServer(LoopbackServer):
    """`with BrokenServer() as srv: srv.url("html")` — bound to 127.0.0.1 on a free port."""

    handler = _Handler

    def __enter__(self) -> "BrokenServer":
        super().__enter__()
        return self


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/scim/v2"


def serve() -> Iterator[BrokenServer]:
    with BrokenServer() as srv:
        yield srv


if __name__ == "__main__":  # manual use: python tests/harness/broken_targets.py
    with BrokenServer() as srv:
        print("\n".join(f"{m}: {srv.url(m)}" for m in MODES), flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
