"""The reporters (harness/reports): JSON, JUnit XML, HTML and the console, on a fake run carrying a token."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from harness.reports import ConsoleReporter, write_reports
from harness.results import CheckResult, RunResult, ScenarioResult, StepResult
from harness.transcript import Exchange

TOKEN = "tok-SECRET-9f8e7d6c5b4a"
ADMIN = "adm-SECRET-0123456789"


def _exchange(method: str, path: str, status: int | None, body: dict | None, *, error: str | None = None,
              request_body: str | None = None) -> Exchange:
    return Exchange(method=method, url=f"http://127.0.0.1:9/scim/v2{path}",
                    # A careless target or driver could echo a token anywhere: headers, bodies, URLs, messages.
                    request_headers={"Authorization": f"Bearer {TOKEN}", "X-Debug": ADMIN},
                    request_body=request_body, status=status,
                    response_headers={"Content-Type": "application/scim+json"} if status else {},
                    response_body=json.dumps(body) if body is not None else None, error=error)


def fake_run() -> RunResult:
    create = _exchange("POST", "/Users", 201, {"id": "u1", "userName": "a@x.com", "echo": TOKEN},
                       request_body=json.dumps({"userName": "a@x.com", "password": TOKEN}))
    bad = _exchange("GET", "/Users/u1", 404, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                                              "status": 404, "detail": "User <u1> & co not found"})
    down = _exchange("GET", "/Groups", None, None, error=f"ConnectError for token {TOKEN}")
    ok = ScenarioResult(name="create-users", file="scenarios/users.scim.yaml", description="Create users",
                        tags=["users"], rules=["RFC 7644 §3.3"], duration_s=0.25, steps=[
                            StepResult(name="assign", action="assign", exchanges=[create], checks=[
                                CheckResult("http.status", "pass", "RFC 7644 §3.3", "MUST", "status 201", create),
                                CheckResult("etag.consistent", "skip", "RFC 7644 §3.14", "MUST", "no ETag", create)])])
    failing = ScenarioResult(name="okta-oin-spec-test", file="scenarios/okta_oin.scim.yaml", duration_s=0.5, steps=[
        StepResult(name="get unknown user", action="request", exchanges=[bad], checks=[
            CheckResult("http.status", "pass", "RFC 7644 §3.12", "MUST", "status 404", bad),
            CheckResult("error.status-string", "fail", "RFC 7644 §3.12", "MUST",
                        'the Error status must be the JSON string "404", got 404', bad),
            CheckResult("error.detail", "fail", "Okta: OIN SPEC test", "SHOULD",
                        f"leaky message with {ADMIN}", bad)])])
    errored = ScenarioResult(name="groups[entra]", file="scenarios/groups.scim.yaml", dialect="entra", steps=[
        StepResult(name="push group", action="push_group", exchanges=[down], error="could not reach the target",
                   checks=[CheckResult("transport", "fail", "RFC 7644 §3 (HTTP)", "MUST",
                                       "could not reach the target for GET /scim/v2/Groups", down)])])
    skipped = ScenarioResult(name="clockwise-threshold-ten", file="scenarios/clockwise_plan.scim.yaml",
                             skipped="needs the Clockwise control plane")
    return RunResult(target="http://127.0.0.1:9/scim/v2", dialect="all", started="2025-01-01T00:00:00+00:00",
                     duration_s=1.5, scenarios=[ok, failing, errored, skipped])


@pytest.fixture()
def written(tmp_path: Path) -> dict[str, Path]:
    return write_reports(fake_run(), tmp_path / "out", ["console", "json", "junit", "html"], secrets=[TOKEN, ADMIN])


def test_files_written_with_expected_names(written, tmp_path):
    assert set(written) == {"json", "junit", "html"}
    assert {p.name for p in written.values()} == {"report.json", "junit.xml", "report.html"}
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in written.values())


def test_no_secret_in_any_artefact(written):
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert TOKEN not in text and ADMIN not in text, path.name
        assert "[REDACTED]" in text, path.name


def test_json_report_summary_and_structure(written):
    doc = json.loads(written["json"].read_text())
    s = doc["summary"]
    assert s["ok"] is False
    assert s["scenarios"] == {"total": 4, "pass": 1, "fail": 1, "error": 1, "skip": 1}
    assert s["checks"] == {"total": 6, "pass": 2, "fail": 3, "skip": 1, "error": 0}
    failures = {(f["scenario"], f["check_id"]) for f in s["failures"]}
    assert ("okta-oin-spec-test", "error.status-string") in failures
    assert ("groups[entra]", "step.error") in failures
    scenarios = doc["run"]["scenarios"]
    assert [sc["status"] for sc in scenarios] == ["pass", "fail", "error", "skip"]
    assert scenarios[3]["skipped"] == "needs the Clockwise control plane"
    step = scenarios[1]["steps"][0]
    check = step["checks"][1]
    assert check == {"check_id": "error.status-string", "status": "fail", "rule": "RFC 7644 §3.12",
                     "strength": "MUST", "message": 'the Error status must be the JSON string "404", got 404',
                     "exchange": 0}
    assert step["exchanges"][0]["status"] == 404 and step["exchanges"][0]["method"] == "GET"
    assert scenarios[0]["steps"][0]["exchanges"][0]["request_headers"]["Authorization"] == "Bearer [REDACTED]"


def test_junit_counts_and_failures(written):
    root = ET.parse(written["junit"]).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"scenarios/users.scim.yaml", "scenarios/okta_oin.scim.yaml",
                           "scenarios/groups.scim.yaml", "scenarios/clockwise_plan.scim.yaml"}
    oin = suites["scenarios/okta_oin.scim.yaml"]
    assert (oin.get("tests"), oin.get("failures")) == ("1", "1")
    case = oin.find("testcase")
    assert case.get("name") == "okta-oin-spec-test" and case.get("classname") == "scenarios/okta_oin.scim.yaml"
    failure = case.find("failure")
    assert failure.get("type") == "error.status-string"
    assert "error.status-string [RFC 7644 §3.12, MUST]" in failure.text
    assert "error.detail [Okta: OIN SPEC test, SHOULD]" in failure.text
    err = suites["scenarios/groups.scim.yaml"].find("testcase/error")
    assert err is not None and "could not reach the target" in err.text
    skipped = suites["scenarios/clockwise_plan.scim.yaml"].find("testcase/skipped")
    assert skipped.get("message") == "needs the Clockwise control plane"
    assert suites["scenarios/users.scim.yaml"].find("testcase/failure") is None


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        # Inline <script> and <style> only: nothing with a src, no stylesheet link, no image, no link out.
        if tag in ("link", "img", "iframe", "object", "embed") or "src" in a or (
                tag == "a" and not a.get("href", "#").startswith("#")):
            raise AssertionError(f"external asset or link: <{tag} {attrs}>")
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a":
            self.hrefs.append(a["href"])
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if not self.in_script:
            self.text.append(data)


def test_html_is_self_contained_and_shows_failures_and_exchanges(written):
    html = written["html"].read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(html)
    text = "".join(parser.text)
    assert "<style>" in html and "details" in parser.tags
    assert 'the Error status must be the JSON string "404", got 404' in text
    assert "RFC 7644 §3.12" in text and "error.status-string" in text
    # the exchange: request line, headers (redacted) and pretty-printed response body, escaped
    assert "GET http://127.0.0.1:9/scim/v2/Users/u1" in text
    assert "Authorization: Bearer [REDACTED]" in text
    assert '"detail": "User <u1> & co not found"' in text
    assert "User <u1>" not in html  # escaped in the markup
    assert "needs the Clockwise control plane" in text
    assert "FAILED" in text
    assert "url(" not in html and "@import" not in html and "http-equiv=\"Content-Security-Policy\"" in html
    # every in-page link lands on an element of the page
    assert parser.hrefs and all(h[1:] in parser.ids for h in parser.hrefs), set(parser.hrefs) - {f"#{i}" for i in parser.ids}


def _page(document: dict) -> tuple[str, _Collect]:
    from harness.reports.html import render_html

    html = render_html(document)
    parser = _Collect()
    parser.feed(html)
    return html, parser


def test_html_reads_top_down_verdicts_then_root_causes_then_scenarios_then_rules(written):
    html = written["html"].read_text(encoding="utf-8")
    at = {name: html.index(marker) for name, marker in (
        ("verdicts", 'id="verdicts"'), ("causes", 'id="root-causes"'), ("filters", 'id="filters"'),
        ("scenarios", 'id="scenarios"'), ("rules", '<details id="rules">'))}
    assert list(at) == sorted(at, key=at.get), at
    # the rules table is collapsed: a closed <details>
    assert '<details id="rules"><summary>' in html


def test_html_root_causes_link_every_instance_to_its_step_and_exchange(tmp_path):
    run = fake_run()
    # the same defect on two users: one root cause, count 2, two links
    second = _exchange("GET", "/Users/u2", 404, {"status": 404})
    run.scenarios[1].steps.append(StepResult(name="get another", action="request", exchanges=[second], checks=[
        CheckResult("error.status-string", "fail", "RFC 7644 §3.12", "MUST",
                    'the Error status must be the JSON string "404", got 404', second)]))
    from harness.reports.json_report import run_to_dict

    html, parser = _page(run_to_dict(run))
    row = html[html.index('id="root-causes"'):html.index('id="filters"')]
    assert "2×" in row and "all 2 instances" in row
    # scenario 2 (index 1), steps 0 and 1, exchange 0 of each
    for anchor in ("#s1-0", "#s1-0-x0", "#s1-1", "#s1-1-x0"):
        assert f'href="{anchor}"' in row, anchor
        assert anchor[1:] in parser.ids, anchor
    # a step that could not run links to its last exchange
    assert 'href="#s2-0-x0"' in row


def test_html_verdict_is_a_short_sentence_per_idp():
    from harness.reports.json_report import run_to_dict

    document = run_to_dict(fake_run())
    document["summary"]["verdicts"] = [
        {"idp": "okta", "name": "Okta", "verdict": "not ready", "checks": 3, "more": 0, "warnings": [], "more_warnings": 0,
         "because": ["Okta cannot deactivate users: PATCH /Users/{id} Replace active false → 500"]},
        {"idp": "entra", "name": "Entra", "verdict": "ready", "checks": 5, "more": 0, "warnings": [], "more_warnings": 0,
         "because": ["all 5 check(s) Entra depends on passed"]}]
    html, parser = _page(document)
    text = " ".join("".join(parser.text).split())
    assert "Okta: not ready — cannot deactivate users: PATCH /Users/{id} Replace active false → 500" in text
    assert "Entra: ready (all 5 check(s) Entra depends on passed)" in text


def test_html_copy_as_curl_has_the_request_and_no_token(written):
    from harness.reports.html import curl_command

    html = written["html"].read_text(encoding="utf-8")
    assert html.count("copy as curl") >= 3  # one button per exchange (3 in the fake run), plus the script's label
    ex = {"method": "POST", "url": "http://127.0.0.1:9/scim/v2/Users",
          "request_headers": {"Authorization": "Bearer [REDACTED]", "Content-Type": "application/scim+json",
                              "Content-Length": "20", "Host": "127.0.0.1:9"},
          "request_body": '{"userName": "o\'neil@x.com"}'}
    cmd = curl_command(ex)
    assert cmd == ("curl -sS -X POST http://127.0.0.1:9/scim/v2/Users -H \"Authorization: Bearer $SCIM_TOKEN\" "
                   "-H 'Content-Type: application/scim+json' "
                   "--data-raw '{\"userName\": \"o'\"'\"'neil@x.com\"}'")
    import shlex
    argv = shlex.split(cmd)  # what the shell would run (without expanding $SCIM_TOKEN)
    assert argv[argv.index("--data-raw") + 1] == '{"userName": "o\'neil@x.com"}'
    assert "Host: 127.0.0.1:9" not in argv and TOKEN not in html


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown report format"):
        write_reports(fake_run(), tmp_path, ["pdf"])
    assert not list(tmp_path.iterdir())


def test_passing_run_reports_ok(tmp_path):
    run = fake_run()
    run.scenarios = run.scenarios[:1]
    written = write_reports(run, tmp_path, ["json", "junit"])
    assert json.loads(written["json"].read_text())["summary"]["ok"] is True
    root = ET.parse(written["junit"]).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")


def test_control_characters_do_not_break_junit(tmp_path):
    run = fake_run()
    run.scenarios[1].steps[0].checks[1].message = "body had \x00\x1b bytes"
    root = ET.parse(write_reports(run, tmp_path, ["junit"])["junit"]).getroot()
    assert "\\x00" in "".join(root.itertext())


def _console() -> tuple[ConsoleReporter, io.StringIO]:
    buffer = io.StringIO()
    return ConsoleReporter(Console(file=buffer, width=200, force_terminal=False, color_system=None)), buffer


def test_console_progress_and_summary(tmp_path):
    run = fake_run()
    reporter, buffer = _console()
    reporter.start(len(run.scenarios), run.target, "okta")
    for sc in run.scenarios:
        reporter.scenario_started(sc.name)
        for st in sc.steps:
            reporter.step_finished(sc.name, st)
        reporter.scenario_finished(sc)
    reporter.finish(run, {"json": tmp_path / "report.json"})
    out = buffer.getvalue()
    assert "\x1b[" not in out  # no colour codes when not a terminal
    assert "[1/4] PASS  create-users" in out
    assert "[2/4] FAIL  okta-oin-spec-test" in out and "2 failed check(s)" in out
    assert "[4/4] SKIP  clockwise-threshold-ten" in out and "needs the Clockwise control plane" in out
    assert "error.status-string [RFC 7644 §3.12, MUST]" in out
    assert 'the Error status must be the JSON string "404", got 404' in out
    assert "FAILED: 4 scenario(s) — 1 passed, 1 failed, 1 errors, 1 skipped" in out
    assert f"json: {tmp_path / 'report.json'}" in out
    # Without -v: the verdicts, then one line per root cause; no scenario or rules table.
    summary = out[out.index("Verdict per identity provider"):]
    assert summary.index("Entra: not ready —") < summary.index("Failures: 4 root cause(s), 4 failed check(s):")
    assert "    - cannot push groups: the step 'push group' could not run" in summary
    assert "Rules: 5 judged, 3 with failures (table: -v or report.html)" in out
    # a ready IdP's SHOULD warnings are named under it
    assert "  Okta: ready (with 1 SHOULD warning(s))\n    SHOULD: cannot " in out
    assert "Checks failed" not in out and "Rules with failures" not in out and "┃ Scenario" not in out


def test_console_verbose_adds_the_scenario_and_rules_tables_after_the_progress():
    run = fake_run()
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=80, color_system=None), verbose=True)
    reporter.finish(run, {})
    out = buffer.getvalue()
    assert out.index("┃ Scenario") < out.index("Verdict per identity provider") < out.index("Failures:")
    assert out.index("Failures:") < out.index("Rules with failures (3 of 5)")
    assert "│ RFC 7644 §3.12      │ MUST     │    1 │    1 │" in out


def _long_names_run() -> RunResult:
    run = fake_run()
    for sc in run.scenarios:
        sc.name = f"clockwise-admin-attributes-rejected[{sc.dialect if sc.dialect != 'okta' else 'okta-aiw'}]-{sc.name}"
    return run


@pytest.mark.parametrize("verbose", [False, True])
def test_console_fits_80_columns_and_never_cuts_a_name(verbose):
    run = _long_names_run()
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=80, color_system=None), verbose=verbose)
    reporter.start(len(run.scenarios), run.target, "all")
    for sc in run.scenarios:
        reporter.scenario_finished(sc)
    reporter.finish(run, {})
    out = buffer.getvalue()
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out  # nothing cut (a cut name made dialect variants look alike)
    flat = "".join(ch for ch in out if ch not in "│ \n")  # a table may fold a long name over two lines
    for sc in run.scenarios:
        assert sc.name.replace(" ", "") in flat
    # a verdict reason wraps under its own start, not under the bullet
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("    - cannot push groups"))
    assert lines[i + 1].startswith("      ") and not lines[i + 1].startswith("       ")


def test_console_verbose_lists_steps():
    run = fake_run()
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=200, color_system=None), verbose=True)
    reporter.start(1, run.target, "okta")
    sc = run.scenarios[1]
    reporter.scenario_started(sc.name)
    reporter.step_finished(sc.name, sc.steps[0])
    reporter.scenario_finished(sc)
    out = buffer.getvalue()
    assert "… okta-oin-spec-test" in out
    assert "FAIL  get unknown user (request) — 2 failed check(s)" in out
    assert "error.status-string [RFC 7644 §3.12, MUST]" in out


def test_console_scrubs_secrets():
    run = fake_run()
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=200, color_system=None), verbose=True,
                               secrets=[TOKEN, ADMIN])
    reporter.start(len(run.scenarios), run.target, "all")
    for sc in run.scenarios:
        reporter.scenario_finished(sc)
    reporter.finish(run, {})
    out = buffer.getvalue()
    assert "leaky message with [REDACTED]" in out
    assert ADMIN not in out and TOKEN not in out


def test_huge_bodies_are_cut_in_the_reports_and_whole_in_the_har(tmp_path: Path) -> None:
    from harness.reports.json_report import MAX_EMBEDDED_BODY
    from harness.transcript import Transcript

    huge = '{"padding": "' + "é" * (3 * MAX_EMBEDDED_BODY) + '"}'  # 6x the cap in UTF-8 bytes
    ex = Exchange(method="POST", url="http://127.0.0.1:9/scim/v2/Users", request_headers={},
                  request_body="x" * (MAX_EMBEDDED_BODY + 10), status=200,
                  response_headers={"Content-Type": "application/scim+json"}, response_body=huge, truncated=True)
    small = _exchange("GET", "/Users/u1", 200, {"id": "u1"})
    run = RunResult(target="http://127.0.0.1:9/scim/v2", dialect="okta", started="2025-01-01T00:00:00+00:00",
                    scenarios=[ScenarioResult(name="huge", file="f", steps=[StepResult(
                        name="s", action="request", exchanges=[ex, small],
                        checks=[CheckResult("body.json", "fail", "RFC 7644 §3.1", "MUST", "too large", ex)])])])
    paths = write_reports(run, tmp_path, ["json", "html", "junit"])
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    big, little = doc["run"]["scenarios"][0]["steps"][0]["exchanges"]
    body = big["response_body"]
    assert body.startswith('{"padding": "éé') and len(body.encode()) < MAX_EMBEDDED_BODY + 200
    cut = len(huge.encode()) - MAX_EMBEDDED_BODY
    assert body.endswith(f"… ({cut} bytes cut; the report keeps {MAX_EMBEDDED_BODY} bytes of a body, the HAR (--har) all of it)")
    assert big["request_body"].endswith("(10 bytes cut; the report keeps 262144 bytes of a body, the HAR (--har) all of it)")
    assert big["truncated"] is True
    assert little["response_body"] == '{"id": "u1"}'  # small bodies untouched
    for fmt in ("json", "html", "junit"):
        assert paths[fmt].stat().st_size < 3 * MAX_EMBEDDED_BODY  # not 1.5 MiB of padding
    transcript = Transcript()
    transcript.append(ex)
    har = transcript.to_har()
    assert har["log"]["entries"][0]["response"]["content"]["text"] == huge  # the HAR keeps the body whole


def test_a_run_that_stopped_says_so_and_is_not_ready(tmp_path: Path) -> None:
    stop = "the target stopped answering (3 consecutive transport failures: timed out after 2 s (ReadTimeout))"
    run = fake_run()
    run.scenarios.append(ScenarioResult(name="rfc: users", file="f", dialect="rfc", skipped=f"skipped: {stop}"))
    paths = write_reports(run, tmp_path, ["json", "html"])
    summary = json.loads(paths["json"].read_text(encoding="utf-8"))["summary"]
    assert summary["stopped"] == stop
    assert all(v["verdict"] == "not ready" and v["because"][0] == f"the run stopped: {stop}"
               for v in summary["verdicts"] if v["idp"] in ("okta", "entra"))
    assert f"Stopped:</strong> {stop}" in paths["html"].read_text(encoding="utf-8")
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=400, color_system=None))
    reporter.finish(run, {})
    assert f"Stopped: {stop}; nothing more was sent (1 scenario(s) not run)" in out.getvalue()
    ok = fake_run()
    assert json.loads(write_reports(ok, tmp_path / "ok", ["json"])["json"].read_text())["summary"]["stopped"] is None


def test_html_verdict_lines_stay_apart(tmp_path):
    # A reason, "(and N more)" and the SHOULD warnings each start a line of their own (the block tags
    # used to swallow the newline: "… → 400 invalidValueSHOULD warnings: …").
    from harness.reports.html import render_html
    from harness.reports.json_report import run_to_dict

    document = run_to_dict(fake_run())
    document["summary"]["verdicts"] = [{
        "idp": "entra", "name": "Entra", "verdict": "not ready", "checks": 3, "line": "Entra: not ready",
        "because": ["Entra cannot deactivate users: PATCH → 400 invalidValue"], "more": 2,
        "warnings": ["Entra cannot page: count ignored"], "more_warnings": 0}]
    html = render_html(document)
    # each its own list item now
    assert "<li>cannot deactivate users: PATCH → 400 invalidValue</li>" in html
    assert '<li class="muted">(and 2 more: see the failures below)</li>' in html
    assert "<li>SHOULD warning: cannot page: count ignored</li>" in html


def test_html_shows_diagnoses_first_the_exit_reason_and_the_users_own_scenarios_apart():
    # The runner's diagnoses, exit policy and own-scenario section (when it reports them) have their place.
    from harness.reports.json_report import run_to_dict

    document = run_to_dict(fake_run())
    summary = document["summary"]
    summary["diagnoses"] = ["401 on the first request: check the token (--token or SCIM_HARNESS_TOKEN)"]
    summary["exit"] = {"fail_on": "must", "ok": False,
                       "reason": "2 failure(s) fail the run under --fail-on must: a › b: x [MUST] y; c › d: z [MUST] w"}
    summary["own_scenarios"] = {"total": 1, "pass": 0, "fail": 1, "skip": 0, "error": 0, "scenarios": [
        {"name": "okta-oin-spec-test", "file": "scenarios/okta_oin.scim.yaml", "status": "fail",
         "rules": ["QA: our flow"], "skipped": None, "failures": ["get unknown user: error.detail: {'a': None}"]}]}
    html, parser = _page(document)
    assert html.index('id="diagnoses"') < html.index('id="verdicts"') < html.index('id="own-scenarios"')
    assert html.index('id="own-scenarios"') < html.index('id="scenarios"')
    text = "".join(parser.text)
    assert "401 on the first request: check the token" in text
    # the exit reason's head in view, the failures it lists on demand
    assert '<summary>Exit: 2 failure(s) fail the run under --fail-on must</summary><div class="msg">a › b: x' in html
    assert "Your scenarios (1; not part of the verdicts)" in text and 'error.detail: {"a":null}' in text
    assert 'href="#s1">okta-oin-spec-test</a>' in html  # links to its details
    # and a runner that reports none of them: no empty sections
    plain, _ = _page(run_to_dict(fake_run()))
    assert 'id="diagnoses"' not in plain and 'id="own-scenarios"' not in plain and 'id="exit"' not in plain
