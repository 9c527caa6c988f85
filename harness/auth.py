"""How the harness authenticates to a target, and the TLS it speaks: the auth modes an IdP admin can
choose (idp-wire.md "Authentication modes"), as `httpx.Auth` implementations, and the client side of TLS.

- `bearer`: `Authorization: Bearer <token>` (RFC 6750 §2.1; Okta's "OAuth Bearer Token", Entra's
  "secret token").
- `basic`: `Authorization: Basic base64(user:password)` (RFC 7617).
- `header`: the token as the whole value of a header of any name (Okta's "custom header").
- `oauth2-client-credentials`: an access token from a token URL (RFC 6749 §4.4), cached and fetched
  again `EARLY` seconds before it expires; a 401 fetches a new one once and resends (Entra, Ping).
- `oauth2-refresh`: a refresh token exchanged at a token URL (RFC 6749 §6) for access tokens (Okta's
  "OAuth 2 authorization code with refresh tokens", after the admin's one-time authorization).

Token requests go on a client of their own, never through the run's transcript: a client secret or a
refresh token is never recorded. Every secret, those given and every access token obtained, is added
to the secrets the run scrubs from every artefact (`AuthConfig.secrets`, `Credential.issued`).
"""
from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Iterable

import httpx

MODES = ("bearer", "basic", "header", "oauth2-client-credentials", "oauth2-refresh")
MODE_LABELS = {"bearer": "a bearer token", "basic": "Basic auth", "header": "a custom header",
               "oauth2-client-credentials": "OAuth client credentials", "oauth2-refresh": "an OAuth refresh token"}
EARLY = 30.0        # seconds before expiry at which a cached access token is fetched again
DEFAULT_LIFETIME = 3600.0  # RFC 6749 §5.1: expires_in is RECOMMENDED; without it, assume an hour


class AuthError(httpx.TransportError):
    """The credentials could not be used: a token endpoint refused them, or a file is unreadable (one line).
    A transport error, as it is raised inside a request's auth flow: the transcript records the exchange as
    one without a response, and the run goes on (or stops) as for any target that does not answer."""


@dataclass(repr=False)
class AuthConfig:
    """One auth mode and its credentials. `repr` never shows a secret."""
    mode: str = "bearer"
    token: str | None = None           # bearer and header: the token
    header: str | None = None          # header: the header's name
    username: str | None = None        # basic
    password: str | None = None        # basic
    token_url: str | None = None       # oauth2-*
    client_id: str | None = None       # oauth2-*
    client_secret: str | None = None   # oauth2-* (optional for oauth2-refresh)
    scope: str | None = None           # oauth2-client-credentials
    refresh_token: str | None = None   # oauth2-refresh

    def __repr__(self) -> str:
        return f"AuthConfig(mode={self.mode!r}, header={self.header!r}, username={self.username!r}, " \
               f"token_url={self.token_url!r}, client_id={self.client_id!r})"

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.token, self.password, self.client_secret, self.refresh_token) if s]

    def problem(self) -> str | None:
        """What this mode lacks, as one line for the command line (None: complete)."""
        needs = {"bearer": [("token", "a token")], "header": [("header", "a header name"), ("token", "a token")],
                 "basic": [("username", "a user name"), ("password", "a password")],
                 "oauth2-client-credentials": [("token_url", "a token URL"), ("client_id", "a client id"),
                                               ("client_secret", "a client secret")],
                 "oauth2-refresh": [("token_url", "a token URL"), ("refresh_token", "a refresh token")]}
        if self.mode not in needs:
            return f"unknown auth mode {self.mode!r} (choose from {', '.join(MODES)})"
        missing = [what for name, what in needs[self.mode] if not getattr(self, name)]
        return f"auth mode {self.mode} needs {' and '.join(missing)}" if missing else None


@dataclass
class TLSConfig:
    """The client side of TLS: a CA bundle to trust, a client certificate (mutual TLS), or no verification."""
    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    _context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def client_options(self) -> dict[str, object]:
        """`verify` for httpx.Client: False (--insecure), or an SSLContext trusting --ca-bundle (else the
        default CAs) and presenting the client certificate; {} when nothing is set (httpx's default).
        ssl.SSLError or OSError when a file cannot be loaded."""
        if self.insecure:
            return {"verify": False}
        if not (self.ca_bundle or self.client_cert):
            return {}
        if self._context is None:
            context = ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else httpx.create_ssl_context()
            if self.client_cert:
                context.load_cert_chain(self.client_cert, self.client_key)
            self._context = context
        return {"verify": self._context}

    def problem(self) -> str | None:
        for option, path in (("--ca-bundle", self.ca_bundle), ("--client-cert", self.client_cert),
                             ("--client-key", self.client_key)):
            if path and not Path(path).is_file():
                return f"{option}: no such file: {path}"
        if self.client_key and not self.client_cert:
            return "--client-key needs --client-cert"
        if self.insecure and self.ca_bundle:
            return "--insecure and --ca-bundle contradict each other"
        return None


INSECURE_WARNING = ("WARNING: --insecure: the target's TLS certificate is NOT verified; anyone on the path can "
                    "read and change this run's traffic, credentials included. Use --ca-bundle instead.")


# The alerts a server sends when it refuses the client's certificate (RFC 8446 §6.2), as OpenSSL names them
# in the error of the first read (TLS 1.3: the client's side of the handshake has completed by then).
CLIENT_CERT_ALERTS = {
    "ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate (mutual TLS): give --client-cert "
                                  "and --client-key",
    "ALERT_UNKNOWN_CA": "the server refused the client certificate: it was not issued by a CA the server trusts "
                        "(check --client-cert)",
    "ALERT_BAD_CERTIFICATE": "the server refused the client certificate as bad (check --client-cert and --client-key)",
    "ALERT_CERTIFICATE_UNKNOWN": "the server refused the client certificate (check --client-cert)",
    "ALERT_CERTIFICATE_EXPIRED": "the server refused the client certificate: it has expired",
    "ALERT_CERTIFICATE_REVOKED": "the server refused the client certificate: it was revoked",
}


def client_certificate_problem(error: str) -> str | None:
    """What a TLS error says of the client certificate (mutual TLS), as one line; None if nothing."""
    upper = error.upper()
    return next((f"TLS: {problem}" for alert, problem in CLIENT_CERT_ALERTS.items() if alert in upper), None)


class HeaderAuth(httpx.Auth):
    """The token as the value of a header named by the admin (Okta's "custom header" mode)."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.name] = self.value
        yield request


class BearerAuth(HeaderAuth):
    # RFC 6750 §2.1
    def __init__(self, token: str) -> None:
        super().__init__("Authorization", f"Bearer {token}")


class OAuth2Auth(httpx.Auth):
    """An access token from a token endpoint (RFC 6749 §4.4 client credentials, §6 refresh), cached until
    `EARLY` seconds before it expires; a 401 with a cached token fetches a new one once and resends."""

    def __init__(self, config: AuthConfig, token_client: httpx.Client, *,
                 on_secret: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.client = token_client
        self.on_secret = on_secret
        self.clock = clock
        self.issued: list[str] = []     # every access and refresh token obtained: secrets
        self.fetches = 0
        self._token: str | None = None
        self._expires = 0.0
        self._refresh = config.refresh_token
        self._lock = threading.Lock()

    @property
    def refresh_token(self) -> str | None:
        """The refresh token to use next (the server may have rotated the one given, RFC 6749 §6)."""
        return self._refresh

    def _form(self) -> dict[str, str]:
        if self.config.mode == "oauth2-refresh":
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh or ""}
        else:
            form = {"grant_type": "client_credentials"}
            if self.config.scope:
                form["scope"] = self.config.scope
        return form

    def _keep(self, secret: str) -> None:
        self.issued.append(secret)
        if self.on_secret is not None:
            self.on_secret(secret)

    def fetch(self) -> str:
        """A new access token from the token URL (AuthError, one line, when it is refused)."""
        cfg = self.config
        # RFC 6749 §2.3.1: the client authenticates with HTTP Basic (client id and secret).
        basic = (cfg.client_id, cfg.client_secret) if cfg.client_id and cfg.client_secret else None
        form = self._form()
        if cfg.client_id and not basic:
            form["client_id"] = cfg.client_id
        self.fetches += 1
        try:
            response = self.client.post(cfg.token_url or "", data=form, auth=basic or httpx.USE_CLIENT_DEFAULT,
                                        headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise AuthError(f"token URL {cfg.token_url} did not answer: {type(exc).__name__}: {exc}") from None
        return self._accept(response)

    def _accept(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            # RFC 6749 §5.2: error, error_description
            error = body.get("error") or "no access_token in the answer"
            described = f": {str(body['error_description'])[:200]}" if body.get("error_description") else ""
            raise AuthError(f"token URL {self.config.token_url} refused the {self.config.mode} grant "
                            f"(HTTP {response.status_code}, {str(error)[:80]}{described})")
        token = body["access_token"]
        self._keep(token)
        if isinstance(body.get("refresh_token"), str):  # RFC 6749 §6: the server may issue a new one
            self._refresh = body["refresh_token"]
            self._keep(self._refresh)
        lifetime = body.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else DEFAULT_LIFETIME
        # Fetched again EARLY seconds before expiry (half the lifetime when that is shorter).
        self._token, self._expires = token, self.clock() + lifetime - min(EARLY, lifetime / 2)
        return token

    def token(self, *, renew: bool = False, stale: str | None = None) -> str:
        with self._lock:
            if renew and self._token != stale:  # another thread renewed it already
                renew = False
            if renew or self._token is None or self.clock() >= self._expires:
                return self.fetch()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"  # RFC 6750 §2.1
        response = yield request
        if response.status_code == 401:
            # The token may have been revoked or expired early: one new token, one resend.
            request.headers["Authorization"] = f"Bearer {self.token(renew=True, stale=token)}"
            yield request


@dataclass
class Credential:
    """The httpx.Auth of a target and what it has issued (made once per target, shared by its clients)."""
    config: AuthConfig
    tls: TLSConfig = field(default_factory=TLSConfig)
    timeout: float = 60.0
    sinks: list[list[str]] = field(default_factory=list)
    _auth: httpx.Auth | None = None

    def _sink(self, secret: str) -> None:
        for sink in self.sinks:
            sink.append(secret)

    @property
    def auth(self) -> httpx.Auth:
        if self._auth is None:
            self._auth = make_auth(self.config, self.tls, timeout=self.timeout, on_secret=self._sink)
        return self._auth

    @property
    def issued(self) -> list[str]:
        return list(getattr(self._auth, "issued", []))

    def close(self) -> None:
        """Close the token endpoint's client, if one was made (the OAuth modes)."""
        client = getattr(self._auth, "client", None)
        if isinstance(client, httpx.Client):
            client.close()


# Which field of AuthConfig holds a mode's one secret (an org the harness creates gets a fresh one).
SECRET_FIELD = {"bearer": "token", "header": "token", "basic": "password",
                "oauth2-client-credentials": "client_secret", "oauth2-refresh": "refresh_token"}


def with_secret(config: AuthConfig, secret: str) -> AuthConfig:
    """`config`'s mode and non-secret settings (header, user, token URL, client id, scope) with `secret` as
    its one secret and no other."""
    kept = {name: getattr(config, name) for name in ("header", "username", "token_url", "client_id", "scope")}
    return AuthConfig(mode=config.mode, **kept, **{SECRET_FIELD[config.mode]: secret})


def make_auth(config: AuthConfig, tls: TLSConfig | None = None, *, timeout: float = 60.0,
              on_secret: Callable[[str], None] | None = None) -> httpx.Auth:
    """The httpx.Auth of `config` (token requests, for the OAuth modes, on a client of their own with `tls`)."""
    if config.mode == "basic":
        return httpx.BasicAuth(config.username or "", config.password or "")
    if config.mode == "header":
        return HeaderAuth(config.header or "", config.token or "")
    if config.mode.startswith("oauth2-"):
        client = httpx.Client(timeout=timeout, **(tls or TLSConfig()).client_options())  # type: ignore[arg-type]
        return OAuth2Auth(config, client, on_secret=on_secret)
    return BearerAuth(config.token or "")


# --- secrets from the environment or files, never from argv -------------------------------------------
ENV = {"token": "SCIM_HARNESS_TOKEN", "password": "SCIM_HARNESS_PASSWORD",
       "client_secret": "SCIM_HARNESS_CLIENT_SECRET", "refresh_token": "SCIM_HARNESS_REFRESH_TOKEN"}
FILE_OPTIONS = {"token": "--token-file", "password": "--password-file", "client_secret": "--client-secret-file",
                "refresh_token": "--refresh-token-file"}


def read_secret(name: str, path: str | None, env: dict[str, str]) -> str | None:
    """A secret from its file (first line, stripped) or its environment variable (AuthError when unreadable)."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthError(f"{FILE_OPTIONS[name]}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        lines = text.strip().splitlines()
        return lines[0].strip() if lines else None
    return env.get(ENV[name]) or None


def config_from(mode: str, values: dict[str, str | None], files: dict[str, str | None],
                env: dict[str, str]) -> AuthConfig:
    """An AuthConfig from the non-secret `values` (header, username, token_url, client_id, scope, and a
    token given on the command line, kept for compatibility) and the secrets' `files` or `env`."""
    config = AuthConfig(mode=mode, **{k: v for k, v in values.items() if v})
    for name in ENV:
        if getattr(config, name) is None:
            setattr(config, name, read_secret(name, files.get(name), env))
    return config


def supported_by(modes: dict[str, Iterable[str]], mode: str) -> list[str]:
    """The IdPs (of `modes`: IdP -> its modes) that can use `mode`."""
    return [idp for idp, theirs in modes.items() if mode in theirs]
