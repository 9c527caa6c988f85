"""The system under test: a SCIM base URL and bearer token, and optionally the Clockwise control plane.

`probe()` answers two questions before any scenario runs: can the target be reached at all
(any HTTP answer counts; a refused connection or a timeout does not), and does it have the
mock's control plane (`/_mock` next to `/scim/v2`, answering the admin token).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import httpx

from harness.redaction import url_secrets
from harness.transcript import Transcript
from harness.auth import AuthConfig, AuthError, Credential, TLSConfig

SCIM_HEADERS = {"Accept": "application/scim+json", "Accept-Charset": "utf-8"}


_T = TypeVar("_T")


def secret(**kwargs: Any) -> Any:
    """A dataclass field holding a secret (a token): `redacts_secrets` never shows its value."""
    return field(metadata={"secret": True}, **kwargs)


def redacts_secrets(cls: type[_T]) -> type[_T]:
    """Class decorator, after @dataclass: the dataclass repr with every `secret()` field shown as
    [REDACTED], so a test failure, a log line or pytest's locals never print a token."""
    def __repr__(self: Any) -> str:
        shown = [f"{f.name}={'[REDACTED]' if f.metadata.get('secret') and getattr(self, f.name) else repr(getattr(self, f.name))}"
                 for f in fields(self) if f.repr]
        return f"{type(self).__qualname__}({', '.join(shown)})"
    cls.__repr__ = __repr__  # type: ignore[assignment]
    return cls


class TargetUnreachable(Exception):
    """The target did not answer over HTTP (refused, timed out, bad URL)."""


@redacts_secrets
@dataclass
class Target:
    base_url: str                          # SCIM base, e.g. http://127.0.0.1:8000/scim/v2
    token: str = secret(default="")
    admin_token: str | None = secret(default=None)
    control_url: str | None = None         # e.g. http://127.0.0.1:8000/_mock; derived from base_url when None
    embedded: bool = False
    has_control_plane: bool = False        # set by probe()
    timeout: float = 60.0                  # Okta gives up on a request after 60 s
    notes: list[str] = field(default_factory=list)
    auth: AuthConfig | None = None         # the auth mode (harness.auth); None: bearer with `token`
    tls: TLSConfig = field(default_factory=TLSConfig)
    credential: Credential | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.control_url is None:
            self.control_url = derive_control_url(self.base_url)
        if self.auth is None:
            self.auth = AuthConfig(mode="bearer", token=self.token)
        elif not self.token and self.auth.mode == "bearer":
            self.token = self.auth.token or ""
        self.credential = Credential(self.auth, self.tls, self.timeout)

    @property
    def secrets(self) -> list[str]:
        # A password in the URL (https://user:password@host/...) is a secret too (issue 17, item 7).
        assert self.auth is not None and self.credential is not None
        found = (self.token, self.admin_token, *url_secrets(self.base_url), *self.auth.secrets, *self.credential.issued)
        return list(dict.fromkeys(s for s in found if s))

    def share_secrets(self, sink: list[str]) -> None:
        """Every secret the target's credential obtains from now on (OAuth access tokens) is appended to `sink`."""
        assert self.credential is not None
        if sink not in self.credential.sinks:
            self.credential.sinks.append(sink)

    @property
    def http_options(self) -> dict[str, Any]:
        """The options of every client on this target: its timeout and TLS (`verify`, `cert`)."""
        return {"timeout": self.timeout, **self.tls.client_options()}

    def scim_client(self, token: str | None = None, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        """An httpx client on the SCIM base URL: with `token`, `Authorization: Bearer <token>` (an org of
        the run); without, the target's auth mode."""
        client = httpx.Client(base_url=self.base_url, headers=SCIM_HEADERS, transport=transport, **self.http_options)
        self.authenticate(client, token)
        return client

    def authenticate(self, client: httpx.Client, token: str | None = None) -> None:
        """Make `client` carry `token` as a bearer token, or (None) the target's credential."""
        assert self.credential is not None
        if token or self.credential.config.mode == "bearer":
            client.auth = None
            client.headers["Authorization"] = f"Bearer {token or self.token}"  # RFC 6750 §2.1
        else:
            client.headers.pop("Authorization", None)
            client.auth = self.credential.auth

    def control_client(self, *, transport: httpx.BaseTransport | None = None) -> httpx.Client:
        """An httpx client on the control plane carrying the admin token."""
        if not self.control_url or not self.admin_token:
            raise ValueError("this target has no control plane")
        return httpx.Client(base_url=self.control_url, headers={"Authorization": f"Bearer {self.admin_token}"},
                            transport=transport, **self.http_options)

    def probe(self, *, transport: httpx.BaseTransport | None = None) -> None:
        """Check reachability (raises TargetUnreachable) and detect the control plane."""
        try:
            url = httpx.URL(self.base_url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise TargetUnreachable(f"invalid target URL {self.base_url!r}: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise TargetUnreachable(f"invalid target URL {self.base_url!r}: expected http(s)://host[:port]/path")
        timeout = min(self.timeout, 10.0)
        # The transcript's reader, as every harness request: a body is read up to its byte cap and for
        # `timeout` seconds in all (an endless or one-byte-a-second probe answer ends in time).
        with self.scim_client(transport=transport) as client:
            response, exchange = Transcript().send(client, client.build_request("GET", "/ServiceProviderConfig"),
                                                   timeout=timeout)
        if response is None:
            error = exchange.error or "no response"
            if error.startswith("timed out") or "still arriving" in error:
                raise TargetUnreachable(f"target {self.base_url} did not answer within {timeout:g} s")
            if error.startswith(AuthError.__name__):  # the OAuth token endpoint refused the credentials
                raise TargetUnreachable(f"cannot authenticate to {self.base_url}: {error.split(': ', 1)[-1]}")
            raise TargetUnreachable(f"cannot reach target {self.base_url}: {error}")
        self.has_control_plane = self._detect_control_plane(transport, timeout)

    def _detect_control_plane(self, transport: httpx.BaseTransport | None, timeout: float) -> bool:
        if not self.admin_token or not self.control_url:
            return False
        with self.control_client(transport=transport) as client:
            response, _ = Transcript().send(client, client.build_request("GET", "/orgs"), timeout=timeout)
        try:
            return response is not None and response.status_code == 200 and isinstance(response.json().get("data"), list)
        except (ValueError, RecursionError, AttributeError):
            return False


def derive_control_url(base_url: str) -> str | None:
    """`http://h:p/scim/v2` -> `http://h:p/_mock` (the mock's layout); None when the URL is not shaped so."""
    base = base_url.rstrip("/")
    if base.endswith("/scim/v2"):
        return base[: -len("/scim/v2")] + "/_mock"
    return None
