"""Every auth mode end to end: `run` against the mock (`serve --auth MODE`, with and without `--tls`) over
real HTTP on loopback; the OAuth client's caching, early refresh and one retry on 401 in-process against
the mock's token endpoint; wrong credentials; and no secret of any mode in any artefact."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from harness.auth import AuthConfig, AuthError, OAuth2Auth, TLSConfig
from harness.cli import main

SECRET = "S3cret/of+the=org-42"  # the org's one secret in every mode (mock: the first --token)
ADMIN = "admin-token-for-auth-tests"
pytest_plugins = ["pytester"]
MODES = ["bearer", "basic", "header", "oauth2-client-credentials", "oauth2-refresh"]


def _line(lines: list[str], prefix: str) -> str:
    return next(line for line in lines if line.startswith(prefix)).split(": ", 1)[1].split(";")[0]


def _run_args(mode: str, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str = SECRET) -> list[str]:
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
    return ["run", "--target", base, "--auth", mode, *extra, "--suite", "rfc", "--report-dir", str(tmp_path / "r"),
            "--format", "console,json,junit,html", "--har"]


def _artefacts(tmp_path: Path, *texts: str) -> str:
    return "\n".join([*texts, *(p.read_text(errors="replace") for p in (tmp_path / "r").rglob("*") if p.is_file())])


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("mode", MODES)
def test_run_in_every_mode_over_real_http(mode: str, tls: bool, mock_process: Callable[..., Any], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    server = mock_process("--workers", "1", "--auth", mode, "--token", SECRET, "--admin-token", ADMIN,
                          "--token-lifetime", "2", *(["--tls"] if tls else []))
    base = _line(server.lines, "SCIM base URL")
    assert base.startswith("https://" if tls else "http://")
    args = _run_args(mode, base, tmp_path, monkeypatch)
    if tls:
        args += ["--ca-bundle", _line(server.lines, "TLS CA certificate")]
    code = main(args)
    out, err = capsys.readouterr()
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert code == 0, (out[-3000:], err)
    assert report["summary"]["diagnoses"] == []
    text = _artefacts(tmp_path, out, err)
    # Every form the scrubber knows: raw, JSON-escaped (`\\/`), percent-encoded.
    for form in (SECRET, SECRET.replace("/", "\\/"), SECRET.replace("/", "%2F").replace("+", "%2B")):
        assert form not in text


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
    common = ["run", "--target", base, "--token-file", str(tmp_path / "t"), "--suite", "rfc",
              "--report-dir", str(tmp_path / "r"), "--format", "json"]
    assert main(common) == 2
    err = capsys.readouterr().err
    assert "not trusted here" in err and len(err.strip().splitlines()) == 1
    assert main([*common, "--insecure"]) == 0
    assert "WARNING: --insecure" in capsys.readouterr().err


def _aggregated(report_dir: Path) -> dict[str, str]:
    import csv

    with open(report_dir / "load_stats.csv", newline="") as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")


@pytest.mark.parametrize("mode,tls", [("basic", True), ("header", False), ("oauth2-client-credentials", True),
                                      ("oauth2-refresh", False)])
def test_load_in_the_auth_modes(mode: str, tls: bool, mock_process: Callable[..., Any], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    server = mock_process("--workers", "1", "--auth", mode, "--token", SECRET, "--admin-token", ADMIN,
                          "--token-lifetime", "2", *(["--tls"] if tls else []))
    base = _line(server.lines, "SCIM base URL")
    args = _run_args(mode, base, tmp_path, monkeypatch)
    args = ["load", *args[1:args.index("--suite")], "--duration", "4s", "--users", "3", "--spawn-rate", "3",
            "--report-dir", str(tmp_path / "r")]
    if tls:
        args += ["--ca-bundle", _line(server.lines, "TLS CA certificate")]
    code = main(args)
    out, err = capfd.readouterr()
    assert code == 0, (out[-2000:], err[-2000:])
    stats = _aggregated(tmp_path / "r")
    # Every request authenticated, across the 2-second access tokens' expiry (OAuth modes).
    assert int(stats["Request Count"]) > 0 and int(stats["Failure Count"]) == 0
    assert SECRET not in _artefacts(tmp_path, out, err)


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


@pytest.mark.parametrize("mode,tls", [("bearer", True), ("basic", False), ("header", True),
                                      ("oauth2-client-credentials", False), ("oauth2-refresh", True)])
def test_pytest_plugin_in_every_mode(mode: str, tls: bool, mock_process: Callable[..., Any], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, pytester: pytest.Pytester) -> None:
    server = mock_process("--workers", "1", "--auth", mode, "--token", SECRET, "--admin-token", ADMIN,
                          "--token-lifetime", "2", *(["--tls"] if tls else []))
    base = _line(server.lines, "SCIM base URL")
    run = _run_args(mode, base, tmp_path, monkeypatch)
    options = run[run.index("--auth"):run.index("--suite")]
    plugin = [f"--scim-target={base}"] + [("--scim-" + o[2:]) if o.startswith("--") else o for o in options]
    if tls:
        plugin += ["--scim-ca-bundle", _line(server.lines, "TLS CA certificate")]
    pytester.makefile(".scim.yaml", ok=PLUGIN_SCENARIO)
    result = pytester.runpytest("-v", *LEAN, *plugin)
    result.assert_outcomes(passed=1)
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
