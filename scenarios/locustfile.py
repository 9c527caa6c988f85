"""Okta-shaped SCIM provisioning traffic for locust.

    locust -f scenarios/locustfile.py --host http://127.0.0.1:8000/scim/v2 --scim-token "$SCIM_TOKEN"

The token comes from --scim-token or the SCIM_TOKEN environment variable, never from this
file. Class weights come from SCIM_WEIGHT_<CLASS> environment variables (for example
SCIM_WEIGHT_ASSIGN=10); pick classes by name on locust's command line as usual.
"""
from __future__ import annotations

import json
import os
import signal
import uuid

import ssl

import gevent
import httpx
from locust import FastHttpUser, between, events, task
from locust.runners import WorkerRunner

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def weight(name: str, default: int) -> int:
    return int(os.environ.get(f"SCIM_WEIGHT_{name}", default))


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--scim-token", env_var="SCIM_TOKEN", default="", is_secret=True,
                        help="SCIM bearer token (or SCIM_TOKEN)")
    parser.add_argument("--fail-ratio", type=float, default=0.0,
                        help="exit 1 when the failure ratio exceeds this (default 0: any failure)")
    parser.add_argument("--p95-ms", type=float, default=0.0, help="exit 1 when p95 latency exceeds this (0: off)")


@events.init.add_listener
def _stop_on_sigint(environment, **_kw) -> None:
    # A SIGINT (how `scim-harness load` stops locust) raises KeyboardInterrupt in whichever greenlet runs:
    # under load a user's, whose traceback gevent prints. Taken in the hub instead, it ends the run the
    # way the KeyboardInterrupt would, reports and verdicts written.
    def stop() -> None:
        environment.runner.quit()
        if environment.web_ui is not None:
            environment.web_ui.stop()
    gevent.signal_handler(signal.SIGINT, lambda: gevent.spawn(stop))


@events.quitting.add_listener
def _thresholds(environment, **_kw) -> None:
    # The thresholds alone decide the exit code (locust's own exits 1 on any failure), and each
    # prints its verdict, as k6 does, after locust's final tables.
    if isinstance(environment.runner, WorkerRunner):
        return
    lines = verdicts(environment.runner.stats.total, environment.parsed_options, len(environment.runner.exceptions))
    environment.process_exit_code = 0 if all(ok for ok, _ in lines) else 1
    environment.events.quit.add_listener(lambda **_: print_verdicts(lines))


def verdicts(total, opts, exceptions: int = 0) -> list[tuple[bool, str]]:
    """(passed, text) per threshold: the failure ratio always, p95 when --p95-ms is set."""
    if total.num_requests == 0:
        return [(False, "requests 0: nothing was measured")]
    ratio = total.fail_ratio
    lines = [(ratio <= opts.fail_ratio,
              f"fail ratio {ratio:.2%} {'≤' if ratio <= opts.fail_ratio else '>'} {opts.fail_ratio:.2%}")]
    if opts.p95_ms:
        p95 = total.get_response_time_percentile(0.95)
        lines.append((p95 <= opts.p95_ms, f"p95 {p95:g} ms {'≤' if p95 <= opts.p95_ms else '>'} {opts.p95_ms:g} ms"))
    if exceptions:
        lines.append((False, f"locustfile errors {exceptions} > 0 (see the error report above)"))
    return lines


def print_verdicts(lines: list[tuple[bool, str]]) -> None:
    for ok, text in lines:
        line = f"{'✓' if ok else '✗'} {text}"
        try:
            print(line, flush=True)
        except UnicodeEncodeError:  # a terminal without UTF-8
            print(f"{'ok' if ok else 'FAIL'} {text.replace('≤', '<=')}", flush=True)


def _auth_config():
    """The auth mode `scim-harness load` passes in the environment (harness.load.locust_env), or None
    (bearer with --scim-token) when the harness is not installed or no mode is set."""
    mode = os.environ.get("SCIM_AUTH_MODE", "bearer")
    if mode == "bearer":
        return None
    from harness.auth import AuthConfig  # the harness's own auth modes (harness/auth.py)

    env = os.environ.get
    return AuthConfig(mode=mode, token=env("SCIM_TOKEN"), header=env("SCIM_AUTH_HEADER"),
                      username=env("SCIM_BASIC_USER"), password=env("SCIM_HARNESS_PASSWORD"),
                      token_url=env("SCIM_TOKEN_URL"), client_id=env("SCIM_CLIENT_ID"),
                      client_secret=env("SCIM_HARNESS_CLIENT_SECRET"), scope=env("SCIM_SCOPE"),
                      refresh_token=env("SCIM_HARNESS_REFRESH_TOKEN"))


def _ssl_context(*_args, **_kw):
    """The target's TLS as `scim-harness load --ca-bundle/--client-cert/--insecure` gave it."""
    context = ssl.create_default_context(cafile=os.environ.get("SCIM_CA_BUNDLE") or None)
    if os.environ.get("SCIM_CLIENT_CERT"):
        context.load_cert_chain(os.environ["SCIM_CLIENT_CERT"], os.environ.get("SCIM_CLIENT_KEY") or None)
    if os.environ.get("SCIM_INSECURE"):
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


_AUTH = None  # one httpx.Auth per locust process: an OAuth access token is shared by its users


def _auth():
    global _AUTH
    if _AUTH is None and _auth_config() is not None:
        from harness.auth import TLSConfig, make_auth

        tls = TLSConfig(ca_bundle=os.environ.get("SCIM_CA_BUNDLE"), client_cert=os.environ.get("SCIM_CLIENT_CERT"),
                        client_key=os.environ.get("SCIM_CLIENT_KEY"), insecure=bool(os.environ.get("SCIM_INSECURE")))
        _AUTH = make_auth(_auth_config(), tls)
    return _AUTH


def auth_headers(token: str) -> dict:
    """The credential headers of one request: the auth mode's (its flow run on a blank request), else Bearer."""
    auth = _auth()
    if auth is None:
        return {"Authorization": f"Bearer {token}"}
    request = httpx.Request("GET", "http://scim")
    next(auth.auth_flow(request))
    return {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}


class ScimUser(FastHttpUser):
    """Adds Okta's headers and counts SCIM Error bodies and unexpected statuses as failures.
    FastHttpUser (geventhttpclient) costs the load generator far less CPU than HttpUser."""

    abstract = True
    wait_time = between(0, 0.05)
    ssl_context_factory = _ssl_context
    insecure = False  # verify the target's certificate (--ca-bundle), unless --insecure says not to

    def on_start(self) -> None:
        # Okta sends these on every request (shared/reference/idp-wire.md).
        self.headers = {
            "User-Agent": "Okta SCIM Client 1.0.0",
            "Accept": "application/scim+json",
            "Content-Type": "application/scim+json; charset=utf-8",
        }

    def scim(self, method: str, path: str, name: str, expect: tuple[int, ...], body: dict | None = None) -> dict:
        data = json.dumps(body, separators=(",", ":")) if body is not None else None
        headers = {**self.headers, **auth_headers(self.environment.parsed_options.scim_token)}
        with self.client.request(method, self.host.rstrip("/") + path, data=data, name=name,
                                 headers=headers, catch_response=True) as resp:
            if not resp.status_code:  # no HTTP answer (refused, reset, timed out): one failure, no traceback
                resp.failure(f"no answer: {resp.error or 'connection failed'}")
                return {}
            doc = {}
            if resp.content:
                try:
                    doc = resp.json()
                except ValueError:
                    resp.failure(f"{resp.status_code}: body is not JSON")
                    return {}
            if not isinstance(doc, dict):
                resp.failure(f"{resp.status_code}: body is not a JSON object")
                return {}
            if resp.status_code not in expect or ERROR in (doc.get("schemas") or []):
                resp.failure(f"{resp.status_code}: {doc.get('detail') or (resp.text or '')[:200]}")
                return {}
            return doc

    def create_user(self) -> dict:
        # Okta: filter lookup, then POST with Okta's body.
        login = f"load.{uuid.uuid4().hex[:12]}@example.com"
        self.scim("GET", f"/Users?filter=userName%20eq%20%22{login}%22&startIndex=1&count=100",
                  "/Users?filter=userName eq", (200,))
        return self.scim("POST", "/Users", "/Users", (201,), {
            "schemas": [USER], "userName": login, "name": {"givenName": "Load", "familyName": "Test"},
            "emails": [{"primary": True, "value": login, "type": "work"}], "displayName": "Load Test",
            "locale": "en-US", "externalId": "00u" + uuid.uuid4().hex[:17], "groups": [],
            "password": uuid.uuid4().hex[:8], "active": True})


class AssignFlow(ScimUser):
    weight = weight("ASSIGN", 4)

    @task
    def assign(self) -> None:
        self.create_user()


class ProfileUpdate(ScimUser):
    weight = weight("UPDATE", 3)

    def on_start(self) -> None:
        super().on_start()
        self.user_id = self.create_user().get("id")

    @task
    def update(self) -> None:
        if not self.user_id:
            return
        user = self.scim("GET", f"/Users/{self.user_id}", "/Users/{id}", (200,))
        if user:  # Okta: PUT of the whole object as received, with the change.
            name = user.get("name") if isinstance(user.get("name"), dict) else {}
            user["name"] = {**name, "givenName": f"Given{uuid.uuid4().hex[:6]}"}
            self.scim("PUT", f"/Users/{self.user_id}", "/Users/{id}", (200,), user)


class Deactivation(ScimUser):
    weight = weight("DEACTIVATE", 2)

    def on_start(self) -> None:
        super().on_start()
        self.user_id, self.active = self.create_user().get("id"), True

    @task
    def toggle(self) -> None:
        if self.user_id:  # Okta's no-path PATCH (deactivate, and its mirror to reactivate).
            self.active = not self.active
            self.scim("PATCH", f"/Users/{self.user_id}", "/Users/{id} PATCH active", (200, 204), {
                "schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": self.active}}]})


class GroupPush(ScimUser):
    weight = weight("GROUPS", 2)

    def on_start(self) -> None:
        super().on_start()
        self.members = [u["id"] for u in (self.create_user() for _ in range(3)) if u.get("id")]
        group = self.scim("POST", "/Groups", "/Groups", (201,),
                          {"schemas": [GROUP], "displayName": f"load-{uuid.uuid4().hex[:10]}", "members": []})
        self.group_id = group.get("id")

    @task
    def membership(self) -> None:
        if not self.group_id:
            return
        path = f"/Groups/{self.group_id}"
        add = [{"value": m} for m in self.members]
        self.scim("PATCH", path, "/Groups/{id} PATCH members", (200, 204), {
            "schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": add}]})
        self.scim("PATCH", path, "/Groups/{id} PATCH members", (200, 204), {
            "schemas": [PATCH], "Operations": [
                {"op": "remove", "path": f'members[value eq "{m}"]'} for m in self.members]})


class ImportPaging(ScimUser):
    weight = weight("IMPORT", 1)

    @task
    def import_users(self) -> None:
        # Okta's import: pages of 100 until totalResults (bounded to 5 pages a task).
        start = 1
        for _ in range(5):
            page = self.scim("GET", f"/Users?startIndex={start}&count=100", "/Users?startIndex&count=100", (200,))
            start += 100
            total = page.get("totalResults")
            if not isinstance(total, int) or start > total:
                break
