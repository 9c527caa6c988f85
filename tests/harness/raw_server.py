"""What the raw-socket test servers on loopback share (`broken_targets.py`, `hostile_targets.py`): a
threaded server on a free 127.0.0.1 port with a context manager, reading one HTTP request off the socket,
and sending a JSON body padded to an exact size."""
from __future__ import annotations

import socket
import socketserver
import threading


def read_request(sock: socket.socket) -> tuple[str, str, dict[str, str]] | None:
    """(method, target, lower-cased headers) of the request on `sock`, its body read and dropped; None
    when the client closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, target, headers


def send_padded(sock: socket.socket, head: bytes, prefix: bytes, suffix: bytes, size: int) -> None:
    """`head`, then a body of exactly `size` bytes: `prefix`, x's, `suffix` (sent 64 KiB at a time)."""
    sock.sendall(head + prefix)
    block = b"x" * 65536
    remaining = size - len(prefix) - len(suffix)
    while remaining > 0:
        piece = block[:remaining]
        sock.sendall(piece)
        remaining -= len(piece)
    sock.sendall(suffix)


class RawHandler(socketserver.BaseRequestHandler):
    """Reads one request, records `METHOD target` in the server's `requests`, then `answer`s it; a client that
    gives up (timeout, closed socket) ends the handler quietly."""

    timeout_s = 30.0
    server: "LoopbackServer"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.timeout_s)
        try:
            request = read_request(sock)
            if request is None:
                return
            method, target, headers = request
            self.server.requests.append(f"{method} {target}")
            self.answer(sock, method, target, headers)
        except (OSError, ValueError):
            pass  # the client gave up: nothing more to do

    def answer(self, sock: socket.socket, method: str, target: str, headers: dict[str, str]) -> None:
        raise NotImplementedError


class LoopbackServer(socketserver.ThreadingTCPServer):
    """`with Server() as srv: srv.url("mode")` — bound to 127.0.0.1 on a free port; `stopping` is set at exit,
    which releases handlers that wait on it."""

    daemon_threads = True
    allow_reuse_address = True
    handler: type[socketserver.BaseRequestHandler]

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), self.handler)
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/scim/v2"

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
