"""A run session: one run against one target, shared by the runner, the scenario runs, the rfc suite
and the pytest plugin.

It holds the target, the run's HTTP clients (SCIM, the driver's, and control plane: creating an
httpx.Client costs ~40 ms, so each is made once), the transcript every request goes through (with the breaker of
harness.breaker, unless a plain Transcript is given), the run id and prefix, the secrets to scrub
from every artefact, the time scale of Okta's waits, and the reporter. A scenario or the suite gets
its `Prober` here, and "a throwaway org" is made here, once for all.
"""
from __future__ import annotations

import secrets
from typing import Protocol

import httpx

from harness.auth import Credential, with_secret
from harness.breaker import GuardedTranscript, stopped
from harness.control_plane import ControlPlane, Org
from harness.prober import Prober
from harness.results import ScenarioResult, StepResult
from harness.target import Target
from harness.transcript import Transcript

EMBEDDED_TIME_SCALE = 0.01


class Reporter(Protocol):
    def scenario_started(self, name: str) -> None: ...
    def step_finished(self, scenario: str, step: StepResult) -> None: ...
    def scenario_finished(self, result: ScenarioResult) -> None: ...


def run_prefix(run_id: str) -> str:
    """The prefix of every name a run makes on a shared target: `scimh-<run id>-`."""
    return f"scimh-{run_id}-"


def job_prefix(prefix: str, index: int) -> str:
    """The names of a parallel run's job `index` (harness.parallel), under the run's `prefix`: a number, then
    `-`. The rfc suite (job 0) keeps the run's own prefix and names its areas with words."""
    return f"{prefix}{index}-" if index else prefix


def another_jobs_name(name: str, prefix: str) -> bool:
    """Whether `name`, under the run's `prefix`, is a parallel job's (job_prefix), not the rfc suite's own."""
    rest = name[len(prefix):] if name.startswith(prefix) else ""
    number, dash, _ = rest.partition("-")
    return bool(dash) and number.isdigit()


class Session:
    def __init__(self, target: Target, *, reporter: Reporter | None = None, transcript: Transcript | None = None,
                 transport: httpx.BaseTransport | None = None, time_scale: float | None = None,
                 use_control_plane: bool | None = None) -> None:
        self.target = target
        self.reporter = reporter
        # A given plain Transcript has no breaker; the default one stops sending when the target stops answering.
        self.transcript = transcript if transcript is not None else GuardedTranscript()
        self.transport = transport
        # Okta's 429 waits (Retry-After, doubling) are real against a real target; against the embedded
        # mock the 429s are injected faults, so the waits are scaled down to keep the run short.
        self.time_scale = time_scale if time_scale is not None else (EMBEDDED_TIME_SCALE if target.embedded else 1.0)
        # Isolation: an org of its own per scenario on a target with the control plane, else the run prefix.
        self.isolate = target.has_control_plane if use_control_plane is None else use_control_plane
        self.run_id = secrets.token_hex(3)
        self.prefix = run_prefix(self.run_id)
        self.secrets: list[str] = list(target.secrets)
        # The longest 429 wait the driver sleeps (seconds; None: Okta's own waits, uncapped but for
        # mock_okta.backoff.LONGEST_WAIT); each wait is told to the reporter (`note`), when it has one.
        self.max_wait: float | None = None
        target.share_secrets(self.secrets)  # the OAuth access tokens it obtains during the run
        self._orgs = 0
        self._scim: httpx.Client | None = None
        self._driver: httpx.Client | None = None
        self._control: ControlPlane | None = None
        self._org_credentials: dict[str, tuple[str, Credential]] = {}  # org name -> (token, credential), not bearer

    @property
    def stopped(self) -> str | None:
        """Why no request is sent any more (the target stopped answering), or None."""
        return stopped(self.transcript)

    def note_wait(self, wait: float, slept: float, retry_after: str | None) -> None:
        """One 429 back-off wait of the driver, for the console."""
        note = getattr(self.reporter, "note", None)
        if note is None:
            return
        header = "no Retry-After" if retry_after is None else f"Retry-After: {retry_after[:40]!r}"
        capped = " (capped by --max-wait)" if slept < wait * self.time_scale else ""
        note(f"429 ({header}): Okta waits {wait:g} s; waiting {slept:g} s{capped}")

    # --- clients ------------------------------------------------------------------------
    def scim_client(self, token: str | None = None) -> httpx.Client:
        """The run's SCIM client, now carrying `token` (default: the target's; one context at a time)."""
        if self._scim is None:
            self._scim = self.target.scim_client(token, transport=self.transport)
        self.authenticate(self._scim, token)
        return self._scim

    def driver_client(self, token: str | None = None) -> httpx.Client:
        """The client the driver sends on, now carrying `token`: a SCIM client whose transport records
        every exchange in the run's transcript (the driver only sends; the harness records)."""
        if self._driver is None:
            inner = self.transport if self.transport is not None else httpx.HTTPTransport(**self.target.tls.client_options())
            self._driver = self.target.scim_client(token, transport=self.transcript.transport(inner))
        self.authenticate(self._driver, token)
        return self._driver

    def authenticate(self, client: httpx.Client, token: str | None) -> None:
        """`client` in the target's auth mode: with the credential of the org whose token `token` is, when
        the run made that org in a mode other than bearer (open_org), else as the target says."""
        credential = next((c for t, c in self._org_credentials.values() if t == token), None) if token else None
        if credential is None:
            self.target.authenticate(client, token)
        else:
            client.headers.pop("Authorization", None)
            client.auth = credential.auth

    @property
    def control(self) -> ControlPlane:
        """The target's control plane (ValueError when it has none)."""
        if self._control is None:
            self._control = ControlPlane(self.target.control_client(transport=self.transport), self.transcript,
                                         self.secrets)
        return self._control

    def prober(self, token: str | None = None, *, prefix: str | None = None) -> Prober:
        """A prober on the run's SCIM client with `token`, naming with `prefix` (default: the run's)."""
        return Prober(self.scim_client(token), self.transcript, prefix=self.prefix if prefix is None else prefix)

    def close(self) -> None:
        for client in (self._scim, self._driver):
            if client is not None:
                client.close()
        if self._control is not None:
            self._control.close()
        for _, credential in self._org_credentials.values():
            credential.close()
        self._org_credentials.clear()
        self._scim = self._driver = self._control = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- throwaway orgs -----------------------------------------------------------------
    def new_token(self) -> str:
        """A fresh SCIM bearer token for an org of the run; a secret from now on."""
        token = secrets.token_urlsafe(18)
        self.secrets.append(token)
        return token

    def next_org_name(self, label: str | None = None) -> str:
        """`h<run id>-<label>`, by default `h<run id>-<n>` (the run's n-th org)."""
        if label is None:
            self._orgs += 1
            label = str(self._orgs)
        return f"h{self.run_id}-{label}"

    def open_org(self, name: str, *, what: str, **settings: object) -> Org:
        """Create a throwaway org `name` with a fresh token on the control plane (ControlPlaneError, saying
        "cannot <what>", when it is not created), in the run's auth mode: the fresh token is also the
        secret of that mode (Basic password, header value, client secret or refresh token), the
        other settings (user, header name, client id, token URL) are the run's."""
        org = Org(name, self.new_token())
        config = self.target.credential.config if self.target.credential is not None else None
        if config is not None and config.mode != "bearer":
            settings["auth"] = {"mode": config.mode, "secret": org.token, "username": config.username,
                                "header": config.header, "client_id": config.client_id}
        self.control.create_org(org, what=what, **settings)
        if config is not None and config.mode != "bearer":
            self._org_credentials[name] = (org.token, Credential(with_secret(config, org.token), self.target.tls,
                                                                 self.target.timeout, sinks=[self.secrets]))
        return org

    def close_org(self, name: str) -> None:
        """Best effort: delete the org, unless the target stopped answering."""
        _, credential = self._org_credentials.pop(name, (None, None))
        if credential is not None:
            credential.close()
        if self.stopped is None:
            self.control.delete_org(name)
