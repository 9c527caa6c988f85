"""Every auth mode end to end over real HTTP on loopback, with and without TLS: `run`, the pytest plugin and
`load` against one mock process per (mode, TLS) shared by the three (`serve --auth MODE [--tls]`), its OAuth
access tokens living one second so each of them crosses an expiry; mutual TLS (`--tls-client-ca`) with a
client certificate made here; the OAuth client's caching, early refresh and one retry on 401 in-process
against the mock's token endpoint; wrong credentials; and no secret of any mode in any artefact."""
from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpcore  # noqa: F401 (see below)
import httpx
import pytest
import trustme

from harness.auth import AuthConfig, AuthError, OAuth2Auth, TLSConfig
from harness.cli import main

SECRET = "S3cret/of+the=org-42"  # the org's one secret in every mode (mock: the first --token)
ADMIN = "admin-token-for-auth-tests"
pytest_plugins = ["pytester"]
# httpcore is imported here, before any pytester fixture snapshots sys.modules: httpx imports it lazily and
# caches its exception classes at the first request; a test that sends a request and uses pytester would
# otherwise drop that httpcore at teardown, and a later httpcore error would escape httpx's mapping.
MODES = ["bearer", "basic", "header", "oauth2-client-credentials", "oauth2-refresh"]
LIFETIME = 1  # seconds an access token lives (serve --token-lifetime): every OAuth test below crosses an expiry
# The first two SCIM requests take 0.6 s each (a latency fault): whatever the machine's speed, the rest of
# the run is sent after the first access token expired, so it must have fetched another.
SLOW_START = {"faults": [{"latency_ms": 600, "count": 2}]}
# What `PUT /_mock/orgs/acme/auth` sets again before each test (a refresh token is rotated by every use).
ORG_AUTH = {"mode": "bearer", "secret": SECRET, "username": "scim", "header": "X-API-Key", "client_id": "scim-harness",
            "lifetime": LIFETIME}


def _line(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix)).split(": ", 1)[1].split(";")[0]


def _auth_args(mode: str, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str = SECRET) -> list[str]:
    """`--auth MODE` and its options for the org's `secret` (secrets in files or the environment)."""
    root = base[: -len("/scim/v2")]
    if mode in ("bearer", "header"):
        (tmp_path / "token").write_text(secret + "\n")
        extra = ["--token-file", str(tmp_path / "token")]
        if mode == "header":
            extra += ["--auth-header", "X-API-Key"]
    elif mode == "basic":
        monkeypatch.setenv("SCIM_HARNESS_PASSWORD", secret)
        extra = ["--basic-user", "scim"]
    elif mode == "oauth2-client-credentials":
        (tmp_path / "client-secret").write_text(secret)
        extra = ["--token-url", root + "/oauth2/token", "--client-id", "scim-harness",
                 "--client-secret-file", str(tmp_path / "client-secret")]
    else:
        monkeypatch.setenv("SCIM_HARNESS_REFRESH_TOKEN", secret)
        extra = ["--token-url", root + "/oauth2/token", "--client-id", "scim-harness"]
    return ["--auth", mode, *extra]


def _run_args(mode: str, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str = SECRET) -> list[str]:
    # The rfc suite's users area (with discovery and safety): the smallest run that sends users both ways.
    return ["run", "--target", base, *_auth_args(mode, base, tmp_path, monkeypatch, secret), "--suite", "rfc",
            "-k", "users", "--report-dir", str(tmp_path / "r"), "--format", "console,json,junit,html", "--har"]


def _artefacts(tmp_path: Path, *texts: str) -> str:
    return "\n".join([*texts, *(p.read_text(errors="replace") for p in (tmp_path / "r").rglob("*") if p.is_file())])


def _no_secret_in(text: str) -> None:
    # Every form the scrubber knows: raw, JSON-escaped (`\\/`), percent-encoded.
    for form in (SECRET, SECRET.replace("/", "\\/"), SECRET.replace("/", "%2F").replace("+", "%2B")):
        assert form not in text


@dataclass
class Server:
    """One mock process (`serve --auth MODE [--tls]`), shared by the run, plugin and load tests of its case."""
    mode: str
    tls: bool
    lines: list[str]

    @property
    def base(self) -> str:
        return _line(self.lines, "SCIM base URL")

    @property
    def ca(self) -> str:
        return _line(self.lines, "TLS CA certificate")

    def tls_args(self, prefix: str = "--") -> list[str]:
        return [f"{prefix}ca-bundle", self.ca] if self.tls else []

    def reset(self, *, slow_start: bool = False) -> None:
        """The org's credentials as at the start (the refresh token given is valid again), and no faults but
        the slow start."""
        with httpx.Client(base_url=self.base[: -len("/scim/v2")] + "/_mock", verify=ssl.create_default_context(cafile=self.ca) if self.tls else True,
                          headers={"Authorization": f"Bearer {ADMIN}"}) as admin:
            assert admin.put("/orgs/acme/auth", json={**ORG_AUTH, "mode": self.mode}).status_code == 200
            assert admin.delete("/faults").status_code in (200, 204)
            if slow_start:
                assert admin.put("/faults", json=SLOW_START).status_code == 200


CASES = [(mode, tls) for mode in MODES for tls in (False, True)]


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{'https' if t else 'http'}" for m, t in CASES])
def server(request: pytest.FixtureRequest, module_mock_process: Callable[..., Any]) -> Iterator[Server]:
    mode, tls = request.param
    process = module_mock_process("--workers", "1", "--auth", mode, "--token", SECRET, "--admin-token", ADMIN,
                                  "--token-lifetime", str(LIFETIME), *(["--tls"] if tls else []))
    yield Server(mode, tls, process.lines)
    process.stop()  # the next case's server takes over


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[AuthConfig, str]]:
    """(credentials, access token) of every token the harness fetches in this process (run and the plugin
    run in-process)."""
    fetched: list[tuple[AuthConfig, str]] = []
    real = OAuth2Auth.fetch

    def counting(self: OAuth2Auth) -> str:
        fetched.append((self.config, real(self)))
        return fetched[-1][1]

    monkeypatch.setattr(OAuth2Auth, "fetch", counting)
    return fetched


def test_run_in_every_mode(server: Server, fetches: list[tuple[AuthConfig, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    oauth = server.mode.startswith("oauth2-")
    server.reset(slow_start=oauth)
    assert server.base.startswith("https://" if server.tls else "http://")
    code = main(_run_args(server.mode, server.base, tmp_path, monkeypatch) + server.tls_args())
    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert code == 0, (out[-3000:], err)
    assert report["summary"]["diagnoses"] == []
    if oauth:  # every request authenticated, across the first token's expiry: a second one was fetched
        assert len({token for _, token in fetches}) >= 2
    _no_secret_in(_artefacts(tmp_path, out, err))


SCHEME = {"bearer": "Bearer", "basic": "Basic", "oauth2-client-credentials": "Bearer", "oauth2-refresh": "Bearer"}


def test_the_orgs_a_run_creates_are_in_its_auth_mode(server: Server, fetches: list[tuple[AuthConfig, str]],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    server.reset()
    args = ["run", "--target", server.base, *_auth_args(server.mode, server.base, tmp_path, monkeypatch),
            *server.tls_args(), "--admin-token", ADMIN, "--suite", "okta", "-k", "create-users", "--dialect", "okta",
            "--report-dir", str(tmp_path / "r"), "--format", "json"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, (out[-3000:], err)
    with httpx.Client(base_url=server.base[: -len("/scim/v2")] + "/_mock", headers={"Authorization": f"Bearer {ADMIN}"},
                      verify=ssl.create_default_context(cafile=server.ca) if server.tls else True) as admin:
        journal = admin.get("/journal").json()["data"]
    own = [e for e in journal if e["org"] not in (None, "acme")]  # the scenario's org, made by the run
    assert own and all(e["status"] < 400 for e in own)
    # The journal keeps the scheme of Authorization (or redacts the org's own header): each request was sent
    # in the run's mode, with the org's credentials.
    sent = [{name.lower(): value for name, value in e["headers"].items()} for e in own]
    if server.mode == "header":
        assert all(h.get("x-api-key") == "[REDACTED]" and "authorization" not in h for h in sent)
    else:
        assert all(h["authorization"] == f"{SCHEME[server.mode]} [REDACTED]" for h in sent)
    if server.mode.startswith("oauth2-"):  # access tokens for the org's own client secret or refresh token
        assert any(SECRET not in config.secrets for config, _ in fetches)
    _no_secret_in(_artefacts(tmp_path, out, err))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_credentials_are_one_line_or_failed_checks(mode: str, mock_process: Callable[..., Any], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    server = mock_process("--workers", "1", "--auth", mode, "--token", SECRET, "--admin-token", ADMIN)
    wrong = "wrong-" + SECRET
    code = main(_run_args(mode, _line(server.lines, "SCIM base URL"), tmp_path, monkeypatch, secret=wrong))
    out, err = capsys.readouterr()
    if mode.startswith("oauth2-"):
        # The token endpoint refuses: nothing to test with, exit 2 and one line naming the RFC 6749 §5.2 error.
        assert code == 2
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "refused" in lines[0] and "invalid_" in lines[0], err
    else:
        assert code == 1  # every request answers 401: failed checks, and the diagnosis says so
        assert "answered 401 Unauthorized" in out
    assert wrong not in _artefacts(tmp_path, out, err) if (tmp_path / "r").exists() else wrong not in out + err


def _oauth(app: Any, mode: str, secret: str, clock: Callable[[], float]) -> OAuth2Auth:
    token_client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mock")
    config = AuthConfig(mode=mode, token_url="http://mock/oauth2/token", client_id="scim-harness",
                        client_secret=secret if mode == "oauth2-client-credentials" else None,
                        refresh_token=secret if mode == "oauth2-refresh" else None)
    return OAuth2Auth(config, token_client, clock=clock)


@pytest.fixture
def oauth_app() -> Any:
    from mock_clockwise.app import create_app  # the test drives the mock; harness code never imports it

    return create_app({"ORGS": [
        {"name": "cc", "tokens": ["cc-bearer"], "auth": {"mode": "oauth2-client-credentials", "secret": "cc-secret",
                                                         "client_id": "scim-harness", "lifetime": 120}},
        {"name": "rt", "tokens": ["rt-bearer"], "auth": {"mode": "oauth2-refresh", "secret": "rt-first",
                                                         "client_id": "scim-harness", "lifetime": 120}}],
        "ADMIN_TOKEN": ADMIN})


@pytest.mark.parametrize("mode,org,secret", [("oauth2-client-credentials", "cc", "cc-secret"),
                                             ("oauth2-refresh", "rt", "rt-first")])
def test_token_cached_refreshed_before_expiry_and_once_on_401(oauth_app: Any, mode: str, org: str,
                                                              secret: str) -> None:
    now = [1000.0]
    auth = _oauth(oauth_app, mode, secret, lambda: now[0])
    client = httpx.Client(transport=httpx.WSGITransport(app=oauth_app), base_url="http://mock/scim/v2", auth=auth)
    admin = httpx.Client(transport=httpx.WSGITransport(app=oauth_app), base_url="http://mock/_mock",
                         headers={"Authorization": f"Bearer {ADMIN}"})
    assert client.get("/Users").status_code == 200 and auth.fetches == 1
    assert client.get("/Users").status_code == 200 and auth.fetches == 1   # cached
    now[0] += 120 - 29                                                      # within EARLY of expiry
    assert client.get("/Users").status_code == 200 and auth.fetches == 2
    assert admin.post(f"/orgs/{org}/auth/expire").json()["expired"] >= 1    # the server ends it early
    assert client.get("/Users").status_code == 200 and auth.fetches == 3   # 401, one new token, resent
    if mode == "oauth2-refresh":
        assert auth.issued.count(secret) == 0 and len(auth.issued) == 6    # 3 access + 3 rotated refresh tokens
        # The first refresh token was rotated away (RFC 6749 §6): it no longer works.
        again = _oauth(oauth_app, mode, secret, lambda: now[0])
        with pytest.raises(AuthError, match="invalid_grant"):
            again.fetch()


def test_a_401_that_persists_is_retried_only_once(oauth_app: Any) -> None:
    auth = _oauth(oauth_app, "oauth2-client-credentials", "cc-secret", lambda: 0.0)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(401, json={"detail": "no"})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://target", auth=auth)
    assert client.get("/Users").status_code == 401
    assert len(sent) == 2 and sent[0] != sent[1] and auth.fetches == 2


def test_the_token_endpoint_errors_follow_rfc_6749_5_2(oauth_app: Any) -> None:
    c = httpx.Client(transport=httpx.WSGITransport(app=oauth_app), base_url="http://mock")
    cases = [({"grant_type": "client_credentials"}, None, 400, "invalid_client"),
             ({"grant_type": "client_credentials"}, ("scim-harness", "nope"), 401, "invalid_client"),
             ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
             ({}, None, 400, "invalid_request"),
             ({"grant_type": "refresh_token", "refresh_token": "nope"}, None, 400, "invalid_grant"),
             ({"grant_type": "refresh_token"}, None, 400, "invalid_request")]
    for form, basic, status, error in cases:
        r = c.post("/oauth2/token", data=form, auth=basic or httpx.USE_CLIENT_DEFAULT)
        assert (r.status_code, r.json()["error"]) == (status, error), form
        assert r.headers["Cache-Control"] == "no-store"
    ok = c.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("scim-harness", "cc-secret")).json()
    assert ok["token_type"] == "Bearer" and ok["expires_in"] == 120
    # An OAuth org refuses its static bearer token and Basic: it authenticates with access tokens only.
    scim = httpx.Client(transport=httpx.WSGITransport(app=oauth_app), base_url="http://mock/scim/v2")
    assert scim.get("/Users", headers={"Authorization": "Bearer cc-bearer"}).status_code == 401
    assert scim.get("/Users", headers={"Authorization": f"Bearer {ok['access_token']}"}).status_code == 200


def test_oauth_tokens_obtained_are_secrets_of_the_session(oauth_app: Any) -> None:
    from harness.session import Session
    from harness.target import Target

    target = Target(base_url="http://mock/scim/v2", auth=AuthConfig(
        mode="oauth2-client-credentials", token_url="http://mock/oauth2/token", client_id="scim-harness",
        client_secret="cc-secret"))
    auth = _oauth(oauth_app, "oauth2-client-credentials", "cc-secret", lambda: 0.0)
    assert target.credential is not None
    target.credential._auth = auth  # noqa: SLF001 (the in-process token client instead of a socket)
    auth.on_secret = target.credential._sink  # noqa: SLF001
    with Session(target, transport=httpx.WSGITransport(app=oauth_app)) as session:
        assert session.scim_client().get("/Users").status_code == 200
        assert "cc-secret" in session.secrets and auth.issued and auth.issued[0] in session.secrets


def test_tls_options_are_checked() -> None:
    assert TLSConfig(ca_bundle="/nonexistent.pem").problem() == "--ca-bundle: no such file: /nonexistent.pem"
    assert TLSConfig(client_key=__file__).problem() == "--client-key needs --client-cert"
    assert TLSConfig(insecure=True).client_options() == {"verify": False}
    assert AuthConfig(mode="basic", username="u").problem() == "auth mode basic needs a password"
    assert "X" not in repr(AuthConfig(mode="bearer", token="X" * 5))


def test_insecure_warns_loudly_and_untrusted_certificate_is_diagnosed(mock_process: Callable[..., Any],
                                                                      tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    server = mock_process("--workers", "1", "--tls", "--token", SECRET, "--admin-token", ADMIN)
    base = _line(server.lines, "SCIM base URL")
    (tmp_path / "t").write_text(SECRET)
    common = ["run", "--target", base, "--token-file", str(tmp_path / "t"), "--suite", "rfc", "-k", "discovery",
              "--report-dir", str(tmp_path / "r"), "--format", "json"]
    assert main(common) == 2
    err = capsys.readouterr().err
    assert "not trusted here" in err and len(err.strip().splitlines()) == 1
    assert main([*common, "--insecure"]) == 0
    assert "WARNING: --insecure" in capsys.readouterr().err



def _aggregated(output: str) -> tuple[int, int]:
    """(requests, failures) of locust's final "Aggregated" line. Not load_stats.csv: locust writes it every
    second, not at the end, so a short run's last second is missing from it."""
    *_, last = re.finditer(r"^\s*Aggregated\s+(\d+)\s+(\d+)\(", output, re.MULTILINE)
    return int(last.group(1)), int(last.group(2))


def _load_args(auth: list[str], base: str, tmp_path: Path, duration: str = "2s") -> list[str]:
    # OAuth: 2 s of load, longer than an access token lives (LIFETIME): locust's users fetch more than one.
    # A static credential never expires: 1 s of load shows the same.
    return ["load", "--target", base, *auth, "--duration", duration, "--users", "2", "--spawn-rate", "2",
            "--report-dir", str(tmp_path / "r")]


def test_load_in_every_mode(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capfd: pytest.CaptureFixture[str]) -> None:
    server.reset()
    auth = _auth_args(server.mode, server.base, tmp_path, monkeypatch) + server.tls_args()
    code = main(_load_args(auth, server.base, tmp_path, "2s" if server.mode.startswith("oauth2-") else "1s"))
    out, err = capfd.readouterr()
    assert code == 0, (out[-2000:], err[-2000:])
    requests, failures = _aggregated(out + err)
    # Every request authenticated, across the 1-second access tokens' expiry (OAuth modes).
    assert requests > 0 and failures == 0
    _no_secret_in(_artefacts(tmp_path, out, err))


PLUGIN_SCENARIO = """\
name: ok
dialects: [okta]
setup: {people: 1}
steps:
  - {name: assign, action: assign, person: p1}
  - name: read
    request: {method: GET, path: "/Users/${p1.id}"}
    expect: {status: 200, schema: User, json: {active: true}}
"""
LEAN = ["-p", "no:hypothesispytest", "-p", "no:locust", "-p", "no:faker", "-p", "no:anyio", "-p", "no:cacheprovider",
        "--assert=plain"]



def _plugin_args(run_args: list[str]) -> list[str]:
    """The options of `run` (from --target to before --suite) as the plugin's --scim-* options."""
    options = run_args[run_args.index("--target"):run_args.index("--suite")]
    return [("--scim-" + o[2:]) if o.startswith("--") else o for o in options]


def test_pytest_plugin_in_every_mode(server: Server, fetches: list[tuple[AuthConfig, str]], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, pytester: pytest.Pytester) -> None:
    oauth = server.mode.startswith("oauth2-")
    server.reset(slow_start=oauth)
    plugin = _plugin_args(_run_args(server.mode, server.base, tmp_path, monkeypatch)) + server.tls_args("--scim-")
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    result = pytester.runpytest("-v", *LEAN, *plugin)
    result.assert_outcomes(passed=1)
    if oauth:  # pytester runs in this process: the plugin fetched a second token after the first expired
        assert len({token for _, token in fetches}) >= 2
    _no_secret_in("\n".join(result.outlines + result.errlines))


# ---------------------------------------------------------------------------- mutual TLS
@dataclass
class MutualTLS:
    base: str
    ca: str
    cert: list[str]    # --client-cert PEM --client-key PEM, signed by the CA the server trusts
    wrong: list[str]   # the same, signed by another CA


@pytest.fixture(scope="module")
def mtls(module_mock_process: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> MutualTLS:
    folder = tmp_path_factory.mktemp("mtls")
    trusted, other = trustme.CA(), trustme.CA()
    trusted.cert_pem.write_to_path(str(folder / "client-ca.pem"))
    pairs = []
    for name, ca in (("good", trusted), ("wrong", other)):
        issued = ca.issue_cert("scim-harness-client@example.com")
        issued.cert_chain_pems[0].write_to_path(str(folder / f"{name}.pem"))
        issued.private_key_pem.write_to_path(str(folder / f"{name}.key"))
        pairs.append(["--client-cert", str(folder / f"{name}.pem"), "--client-key", str(folder / f"{name}.key")])
    process = module_mock_process("--workers", "1", "--token", SECRET, "--admin-token", ADMIN, "--tls",
                                  "--tls-client-ca", str(folder / "client-ca.pem"))
    return MutualTLS(_line(process.lines, "SCIM base URL"), _line(process.lines, "TLS CA certificate"), *pairs)


def _mtls_run(mtls: MutualTLS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cert: list[str]) -> list[str]:
    return _run_args("bearer", mtls.base, tmp_path, monkeypatch) + ["--ca-bundle", mtls.ca, *cert]


def test_mutual_tls_run_plugin_and_load(mtls: MutualTLS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capfd: pytest.CaptureFixture[str], pytester: pytest.Pytester) -> None:
    run = _mtls_run(mtls, tmp_path, monkeypatch, mtls.cert)
    assert main(run) == 0, capfd.readouterr()
    _no_secret_in(_artefacts(tmp_path, *capfd.readouterr()))
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    cert, key = mtls.cert[1], mtls.cert[3]
    result = pytester.runpytest(*LEAN, *_plugin_args(run), "--scim-ca-bundle", mtls.ca, "--scim-client-cert", cert,
                                "--scim-client-key", key)
    result.assert_outcomes(passed=1)
    auth = _auth_args("bearer", mtls.base, tmp_path, monkeypatch) + ["--ca-bundle", mtls.ca, *mtls.cert]
    assert main(_load_args(auth, mtls.base, tmp_path / "load")) == 0
    requests, failures = _aggregated("\n".join(capfd.readouterr()))
    assert requests > 0 and failures == 0


@pytest.mark.parametrize("command", ["run", "load"])
@pytest.mark.parametrize("which,says", [("missing", "requires a client certificate"),
                                        ("wrong", "refused the client certificate")])
def test_mutual_tls_without_the_right_certificate_is_one_line_and_exit_2(
        mtls: MutualTLS, command: str, which: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    cert = [] if which == "missing" else mtls.wrong
    if command == "run":
        args = _mtls_run(mtls, tmp_path, monkeypatch, cert)
    else:
        args = _load_args(_auth_args("bearer", mtls.base, tmp_path, monkeypatch) + ["--ca-bundle", mtls.ca, *cert],
                          mtls.base, tmp_path)
    assert main(args) == 2
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in out + err, err
    _no_secret_in(out + err)



@pytest.mark.parametrize("which,says", [("missing", "requires a client certificate (mutual TLS): give --scim-client-cert "
                                                    "and --scim-client-key"),
                                        ("wrong", "refused the client certificate: it was not issued by a CA the server "
                                                  "trusts (check --scim-client-cert)")])
def test_pytest_plugin_without_the_right_client_certificate_exits_2_in_one_line(
        mtls: MutualTLS, which: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        pytester: pytest.Pytester) -> None:
    run = _mtls_run(mtls, tmp_path, monkeypatch, [])
    cert = [] if which == "missing" else ["--scim-client-cert", mtls.wrong[1], "--scim-client-key", mtls.wrong[3]]
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    result = pytester.runpytest(*LEAN, *_plugin_args(run), "--scim-ca-bundle", mtls.ca, *cert)
    assert result.ret == 2
    said = [line for line in result.outlines + result.errlines if says in line]
    assert len(said) == 1, result.outlines + result.errlines
    assert "Traceback" not in "\n".join(result.outlines + result.errlines)
    _no_secret_in("\n".join(result.outlines + result.errlines))


def test_pytest_plugin_names_its_own_tls_options_in_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    # The plugin's options are --scim-*: a message naming run's --client-key would name an option pytest refuses.
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    key = tmp_path / "client.key"
    key.write_text("not a key")
    result = pytester.runpytest(*LEAN, "--scim-target=https://127.0.0.1:9/scim/v2", "--scim-token", SECRET,
                                "--scim-client-key", str(key))
    assert result.ret == 4  # pytest's usage error
    assert any("--scim-client-key needs --scim-client-cert" in line for line in result.errlines), result.errlines
    assert SECRET not in "\n".join(result.outlines + result.errlines)

def test_pytest_plugin_wrong_client_secret_exits_2_in_one_line(mock_process: Callable[..., Any], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               pytester: pytest.Pytester) -> None:
    server = mock_process("--workers", "1", "--auth", "oauth2-client-credentials", "--token", SECRET)
    base = _line(server.lines, "SCIM base URL")
    monkeypatch.setenv("SCIM_HARNESS_CLIENT_SECRET", "not-" + SECRET)
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    result = pytester.runpytest(*LEAN, f"--scim-target={base}", "--scim-auth", "oauth2-client-credentials",
                                "--scim-token-url", base[:-len("/scim/v2")] + "/oauth2/token",
                                "--scim-client-id", "scim-harness")
    assert result.ret == 2
    assert any("invalid_client" in line for line in result.outlines + result.errlines)
    assert "not-" + SECRET not in "\n".join(result.outlines + result.errlines)


def test_the_verdict_says_how_each_idp_can_reach_the_server() -> None:
    from harness.reports.verdict import verdict_line, verdicts
    from harness.results import RunResult

    def lines(mode: str) -> list[str]:
        return [verdict_line(v) for v in verdicts(RunResult(target="t", dialect="all", started="", auth_mode=mode))]

    cc = lines("oauth2-client-credentials")
    assert any(line.startswith("Entra") and "Entra can reach this server only with OAuth client credentials" in line
               for line in cc)
    assert any(line.startswith("Okta") and "Okta cannot authenticate with OAuth client credentials" in line
               for line in cc)
    assert any("Entra cannot authenticate with Basic auth" in line for line in lines("basic"))
    assert not any("reach" in line or "authenticate" in line for line in lines("bearer"))


# ---------------------------------------------------------------------------- load's and the plugin's checks
BAD_TOKEN = "S3cret wïth/a+space"  # a space and a non-ASCII letter: no header can carry it


@pytest.mark.parametrize("command", ["run", "load", "plugin"])
def test_a_token_no_header_can_carry_is_refused_in_one_line_never_echoed(
        command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        pytester: pytest.Pytester) -> None:
    (tmp_path / "token").write_text(BAD_TOKEN + "\n")
    target = "http://127.0.0.1:9/scim/v2"  # never reached: the token is refused first
    if command == "plugin":
        pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
        result = pytester.runpytest(*LEAN, "--scim-target", target, "--scim-token-file", str(tmp_path / "token"))
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        text = "\n".join(result.outlines + result.errlines)
        assert "--scim-target: --scim-token-file: the token has, at position 7, a space" in text
    else:
        monkeypatch.setenv("SCIM_HARNESS_TOKEN", BAD_TOKEN)
        extra = ["--duration", "1s"] if command == "load" else []
        assert main([command, "--target", target, *extra]) == 2
        out, err = capfd.readouterr()
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "SCIM_HARNESS_TOKEN: the token has, at position 7, a space" in lines[0], err
        text = out + err
    assert BAD_TOKEN not in text and "Traceback" not in text


def test_pytest_plugin_429_waits_are_capped_by_max_wait(mock_process: Callable[..., Any],
                                                       pytester: pytest.Pytester) -> None:
    server = mock_process("--workers", "1", "--token", SECRET, "--admin-token", ADMIN)
    with server.client(ADMIN, control=True) as admin:  # every create answers 429, Retry-After: 300 s
        assert admin.put("/faults", json={"faults": [{"method": "POST", "path": "^/Users$", "status": 429,
                                                      "retry_after": "300"}]}).status_code == 200
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    result = pytester.runpytest(*LEAN, "--scim-target", server.base, "--scim-token", SECRET, "--scim-max-wait", "0.01")
    result.assert_outcomes(failed=1)
    # Okta's 10 attempts, each wait 0.01 s instead of 300 s doubling (without the cap: hours).
    assert "each wait capped at 0.01 s, shorter than Okta's" in " ".join("\n".join(result.outlines).split())
