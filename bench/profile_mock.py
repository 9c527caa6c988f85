"""Profile the mock's own per-request CPU under the Okta mix, in-process, without locust.

Requests go straight into the WSGI callable of `mock_clockwise.app.create_app()` (no socket,
no HTTP client, no waitress), so what is measured is Flask + the mock. Only the server's side
of each request is timed (CPU time of this thread: the app call and reading its response body;
building the request and decoding the answer are the client's and are not counted). Each request
kind of scenarios/locustfile.py is timed on its own (µs/request, median of `--rounds` rounds),
then the whole mix runs under cProfile and the top functions are printed.

    python bench/profile_mock.py [--users 600] [--rounds 5] [--repeat 200] [--memory] [--top 30]
                                 [--sort tottime|cumtime] [--no-profile] [--json out.json]
                                 [--app mock|bare] [--passes N]

By default the store is a SQLite file in WAL mode on tmpfs, with the control plane shared through
a state folder, as the worker processes of `scim-harness serve` run it; `--memory` uses the
in-memory store of `--workers 1` instead. `--app bare` runs the same mix against bench/bare_flask.py
(fixed bodies: Flask alone, the floor under the mock). bench/bench_cpu.py runs this script against
an earlier commit of the mock and the working tree, in the same run.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any, Callable

from mock_clockwise.app import create_app

TOKEN = "profile-token"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Wsgi:
    """Calls the app's WSGI callable with the headers Okta sends (shared/reference/idp-wire.md).

    `server_ns` adds up the CPU time of the server's side of every call (the app and reading
    its response body), `last_ns` is that of the last call."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server_ns = 0
        self.last_ns = 0

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        target, _, query = path.partition("?")
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": "/scim/v2" + target,
            "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
            "HTTP_USER_AGENT": "Okta SCIM Client 1.0.0", "HTTP_ACCEPT": "application/scim+json",
            "HTTP_ACCEPT_ENCODING": "gzip, deflate", "HTTP_CONNECTION": "keep-alive",
        }
        if raw:
            environ["CONTENT_TYPE"] = "application/scim+json; charset=utf-8"
            environ["CONTENT_LENGTH"] = str(len(raw))
        status: list[str] = []

        def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(s)
            return lambda data: None

        start = time.thread_time_ns()
        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self.last_ns = time.thread_time_ns() - start
        self.server_ns += self.last_ns
        code = int(status[0].split()[0])
        return code, (json.loads(data) if data else None)


def new_user_body() -> dict[str, Any]:
    login = f"load.{uuid.uuid4().hex[:12]}@example.com"
    return {"schemas": [USER], "userName": login, "name": {"givenName": "Load", "familyName": "Test"},
            "emails": [{"primary": True, "value": login, "type": "work"}], "displayName": "Load Test",
            "locale": "en-US", "externalId": "00u" + uuid.uuid4().hex[:17], "groups": [],
            "password": uuid.uuid4().hex[:8], "active": True}


class Mix:
    """The request kinds of the Okta mix, each a callable doing ONE request."""

    def __init__(self, call: Wsgi, users: int) -> None:
        self.call = call
        self.ids = [self._post(new_user_body()) for _ in range(users)]
        self.members = self.ids[:3]
        code, group = call("POST", "/Groups", {"schemas": [GROUP], "displayName": "profile-group", "members": []})
        assert code == 201, (code, group)
        self.group_id = group["id"]
        self.active = True
        self.pending_login = ""
        self.i = 0

    def _post(self, body: dict[str, Any]) -> str:
        code, doc = self.call("POST", "/Users", body)
        assert code == 201, (code, doc)
        return str(doc["id"])

    def _next_id(self) -> str:
        self.i = (self.i + 1) % len(self.ids)
        return self.ids[self.i]

    def filter_lookup(self) -> None:
        login = f"load.{uuid.uuid4().hex[:12]}@example.com"
        code, _ = self.call("GET", f"/Users?filter=userName%20eq%20%22{login}%22&startIndex=1&count=100")
        assert code == 200

    def post_user(self) -> None:
        code, _ = self.call("POST", "/Users", new_user_body())
        assert code == 201

    def get_user(self) -> None:
        code, _ = self.call("GET", f"/Users/{self._next_id()}")
        assert code == 200

    def put_body(self) -> tuple[str, dict[str, Any]]:
        """Okta's update: GET the user, change a name (the PUT is sent by put_user)."""
        uid = self._next_id()
        code, user = self.call("GET", f"/Users/{uid}")
        assert code == 200
        user["name"]["givenName"] = f"Given{uuid.uuid4().hex[:6]}"
        return uid, user

    def put_user(self, uid: str, user: dict[str, Any]) -> None:
        code, _ = self.call("PUT", f"/Users/{uid}", user)
        assert code == 200

    def patch_active(self) -> None:
        self.active = not self.active
        code, _ = self.call("PATCH", f"/Users/{self.members[0]}",
                            {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": self.active}}]})
        assert code in (200, 204)

    def group_add(self) -> None:
        code, _ = self.call("PATCH", f"/Groups/{self.group_id}", {"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": m} for m in self.members]}]})
        assert code in (200, 204)

    def group_remove(self) -> None:
        code, _ = self.call("PATCH", f"/Groups/{self.group_id}", {"schemas": [PATCH], "Operations": [
            {"op": "remove", "path": f'members[value eq "{m}"]'} for m in self.members]})
        assert code in (200, 204)

    def import_page(self) -> None:
        # Pages 1-5 in turn, as the locustfile's import task reads them.
        self.page = (getattr(self, "page", -1) + 1) % 5
        code, page = self.call("GET", f"/Users?startIndex={1 + 100 * self.page}&count=100")
        assert code == 200 and len(page["Resources"]) == 100


def _cpu_us(call: Wsgi, fn: Callable[[], None], repeat: int) -> float:
    """Server CPU µs per call of `fn` (each call sends one timed request)."""
    start = call.server_ns
    for _ in range(repeat):
        fn()
    return (call.server_ns - start) / repeat / 1000


def measure(mix: Mix, repeat: int, rounds: int) -> dict[str, float]:
    """Median server CPU µs/request per kind. PUT is timed alone (its GET is not counted)."""
    call = mix.call
    kinds: dict[str, Callable[[], None]] = {
        "GET /Users?filter=userName eq": mix.filter_lookup, "POST /Users": mix.post_user,
        "GET /Users/{id}": mix.get_user, "PATCH /Users/{id} active": mix.patch_active,
        "GET /Users?startIndex&count=100": mix.import_page,
    }
    samples: dict[str, list[float]] = {k: [] for k in [*kinds, "PATCH /Groups/{id} add",
                                                        "PATCH /Groups/{id} remove", "PUT /Users/{id}"]}
    for _ in range(rounds):
        for name, fn in kinds.items():
            samples[name].append(_cpu_us(call, fn, max(1, repeat // 10) if "count=100" in name else repeat))
        # add and remove alternate so every add really adds three members
        add_ns = remove_ns = put_ns = 0
        for _ in range(repeat):
            mix.group_add()
            add_ns += call.last_ns
            mix.group_remove()
            remove_ns += call.last_ns
        for _ in range(repeat):
            mix.put_user(*mix.put_body())  # the PUT alone is counted, not its GET
            put_ns += call.last_ns
        samples["PATCH /Groups/{id} add"].append(add_ns / repeat / 1000)
        samples["PATCH /Groups/{id} remove"].append(remove_ns / repeat / 1000)
        samples["PUT /Users/{id}"].append(put_ns / repeat / 1000)
    return {k: statistics.median(v) for k, v in samples.items()}


def okta_mix(mix: Mix) -> None:
    """One pass of the locustfile's weighted mix (assign 4, update 3, deactivate 2, groups 2, import 1;
    an import task reads 5 pages)."""
    for _ in range(4):
        mix.filter_lookup()
        mix.post_user()
    for _ in range(3):
        mix.put_user(*mix.put_body())
    for _ in range(2):
        mix.patch_active()
    for _ in range(2):
        mix.group_add()
        mix.group_remove()
    for _ in range(5):
        mix.import_page()


def build_app(kind: str, memory: bool, tmp: str) -> tuple[Any, Callable[[], None]]:
    """(WSGI app, its clean-up): the mock as its worker processes run it (WAL file on tmpfs, shared
    faults and journal in a state folder), in memory as one process runs it, or bare Flask."""
    if kind == "bare":
        import bare_flask  # bench/ is on sys.path when this script runs; only --app bare needs it

        return bare_flask.create_app(), lambda: None
    config: dict[str, Any] = {"ORGS": [{"name": "acme", "tokens": [TOKEN], "threshold": 10}]}
    if not memory:
        config.update(DB_PATH=os.path.join(tmp, "state.sqlite3"), STATE_DIR=tmp)
    app = create_app(config)
    return app, app.extensions["mock_clockwise"].close


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=600,
                    help="users created before measuring (default 600, as bench_compare's warm-up)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=200, help="requests per kind per round (pages: a tenth)")
    ap.add_argument("--memory", action="store_true", help="in-memory store instead of a WAL file")
    ap.add_argument("--app", default="mock", choices=("mock", "bare"), help="bare: bench/bare_flask.py")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--json", help="write the µs/request figures here")
    ap.add_argument("--passes", type=int, metavar="N",
                    help="only the set-up, the warm-up and N passes of the mix, no figures (bench_cpu.py "
                         "--instructions counts the instructions of N passes minus those of 0)")
    args = ap.parse_args(argv)

    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="profile-mock-", dir=shm) as tmp:
        app, close = build_app(args.app, args.memory, tmp)
        mix = Mix(Wsgi(app), args.users)
        for _ in range(20):  # warm-up: imports, caches, SQLite pages
            okta_mix(mix)
        if args.passes is not None:
            for _ in range(args.passes):
                okta_mix(mix)
            close()
            return 0
        figures = measure(mix, args.repeat, args.rounds)
        where = "bare Flask" if args.app == "bare" else "memory store" if args.memory else "WAL file store"
        print(f"server CPU µs/request ({where}, median of {args.rounds} rounds, Flask + mock, no HTTP server):")
        for name, us in figures.items():
            print(f"  {name:36s} {us:8.0f}")
        weighted = _weighted(figures)
        print(f"  {'Okta mix (locustfile weights)':36s} {weighted:8.0f}")
        if args.json:
            import mock_clockwise

            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump({"figures": {**figures, "okta_mix": weighted}, "app": args.app, "memory": args.memory,
                           "mock_clockwise": os.path.dirname(mock_clockwise.__file__)}, fh, indent=2)
        if not args.no_profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(max(1, args.repeat // 4)):
                okta_mix(mix)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        close()
    return 0


def _weighted(f: dict[str, float]) -> float:
    """Mean CPU per request of one okta_mix() pass (the requests it sends, by kind)."""
    counts = {"GET /Users?filter=userName eq": 4, "POST /Users": 4, "GET /Users/{id}": 3, "PUT /Users/{id}": 3,
              "PATCH /Users/{id} active": 2, "PATCH /Groups/{id} add": 2, "PATCH /Groups/{id} remove": 2,
              "GET /Users?startIndex&count=100": 5}
    return sum(f[k] * n for k, n in counts.items()) / sum(counts.values())


if __name__ == "__main__":
    sys.exit(main())
