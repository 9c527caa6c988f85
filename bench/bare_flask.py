"""The ceiling for the mock's stack: a bare Flask app answering every request of the Okta mix
with fixed, pre-serialised SCIM JSON, served exactly as the mock is (mock_clockwise.prefork:
waitress threads in one process, or granian worker processes).

Its answers have the statuses and the sizes of the mock's (a fresh login's filter finds
nothing, a POST is a 201 User, an import page holds 100 Users), so the load generator does
the same work against both; only the SCIM logic and the storage are missing. No state: the
same User, Group and page every time.

    python bench/bare_flask.py [--port 0] [--workers 1] [--threads N]

Prints `SCIM base URL: http://127.0.0.1:PORT/scim/v2` like the mock; any bearer token works.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flask import Flask, Response, request

from mock_clockwise.prefork import listen_sockets, reserve_port, serve_threads, serve_workers

SCIM = "application/scim+json"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ID = "0f5c6f0e-1a52-4c1e-9e55-6b3bd4c1a001"


def fixed_user(base: str, n: int = 0) -> dict[str, Any]:
    login = f"load.{n:012x}@example.com"
    return {"schemas": [CORE_USER], "id": ID, "userName": login,
            "name": {"givenName": "Load", "familyName": "Test"},
            "emails": [{"primary": True, "value": login, "type": "work"}], "displayName": "Load Test",
            "locale": "en-US", "externalId": "00u0123456789abcdef0", "active": True,
            "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00.000Z",
                     "lastModified": "2026-01-01T00:00:00.000Z", "version": 'W/"1"',
                     "location": f"{base}/Users/{ID}"}}


def create_app() -> Flask:
    app = Flask(__name__)
    cache: dict[str, bytes] = {}

    def body(kind: str) -> bytes:
        # Built on first use (the host is known then), then always the same bytes.
        if kind not in cache:
            base = request.host_url.rstrip("/") + "/scim/v2"
            if kind == "user":
                doc: dict[str, Any] = fixed_user(base)
            elif kind == "group":
                doc = {"schemas": [CORE_GROUP], "id": ID, "displayName": "load-group",
                       "members": [{"value": ID, "display": "Load Test", "type": "User",
                                    "$ref": f"{base}/Users/{ID}"}] * 3,
                       "meta": {"resourceType": "Group", "version": 'W/"2"', "location": f"{base}/Groups/{ID}"}}
            elif kind == "page":
                doc = {"schemas": [LIST], "totalResults": 100_000, "startIndex": 1, "itemsPerPage": 100,
                       "Resources": [fixed_user(base, n) for n in range(100)]}
            else:
                doc = {"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}
            cache[kind] = json.dumps(doc).encode()
        return cache[kind]

    @app.route("/scim/v2/<resource>", methods=["GET", "POST"])
    def collection(resource: str) -> Response:
        request.get_data()
        if request.method == "POST":
            return Response(body("group" if resource == "Groups" else "user"), 201, mimetype=SCIM)
        return Response(body("empty" if "filter" in request.args else "page"), 200, mimetype=SCIM)

    @app.route("/scim/v2/<resource>/<rid>", methods=["GET", "PUT", "PATCH", "DELETE"])
    def item(resource: str, rid: str) -> Response:
        request.get_data()
        if request.method == "DELETE":
            return Response(status=204)
        return Response(body("group" if resource == "Groups" else "user"), 200, mimetype=SCIM)

    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=None, help="default: as the mock (4 in one process, else 1)")
    args = p.parse_args(argv)
    args.threads = args.threads or (4 if args.workers == 1 else 1)
    if args.workers > 1:
        sock = reserve_port(args.host, args.port)
        banner = f"SCIM base URL: http://{args.host}:{sock.getsockname()[1]}/scim/v2"
        return serve_workers(create_app, sock, args.workers, args.threads, ready=lambda: print(banner, flush=True))
    sock = listen_sockets(args.host, args.port)[0]
    print(f"SCIM base URL: http://{args.host}:{sock.getsockname()[1]}/scim/v2", flush=True)
    serve_threads(create_app(), sock, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
