"""Parallel runs (`scim-harness run --jobs N`): the rfc suite and every (scenario x dialect) run side by
side, each as one job with a session of its own, and the run reads as if they had run one after another.

- `JobSession`: a job's view of the run's session. Its own SCIM, driver and control clients (a client
  carries one token at a time), all on one shared connection pool; its own transcript view (a step's
  exchanges are the job's, not its neighbours'), its own name prefix under the run's; every exchange still recorded in the run's one
  transcript, so the breaker (harness.breaker) counts every job's failures and stops them all; its
  org name numbered by the job's place in the plan, as a sequential run numbers it.
- `OrderedReporter`: the reporter's events in plan order. The earliest unfinished job reports live
  (its heartbeat too); the others' events wait and follow once it is done, so the console shows
  what `--jobs 1` shows, in that order.
- `Scheduler`: at most N jobs at a time; a job starts once the jobs it runs `after` are done: one of
  the plan's head unit first (the console waits for it), else the one with the longest chain of work
  ahead of it (the critical path), plan order between equals; an exclusive job runs alone (first, when it
  needs no other job: nothing waits for it then). `-x`: once a job of one
  plan unit (the rfc suite, or one scenario run) fails the run, no job of a later unit starts; the
  unit's own jobs (the suite's clean-up) still do. Ctrl-C or SIGTERM: nothing more is started, every
  job's next request is refused, and the interruption goes on.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from harness.breaker import NOT_SENT, GuardedTranscript, stopped
from harness.control_plane import ControlPlane
from harness.session import Reporter, Session, job_prefix
from harness.transcript import EXCHANGE_KEY, Exchange, Transcript

REMOTE_JOBS = 16       # a remote target: requests wait on the network, not on our CPU (16 over 8 and 24: bench/bench_jobs.py)
INTERRUPTED = "the run was interrupted"
GRACE_S = 5.0          # how long an interrupted run waits for its jobs' requests in flight


def default_jobs(embedded: bool) -> int:
    """--jobs by default: the CPUs for the embedded mock (its workers share them), else REMOTE_JOBS."""
    return max(2, os.cpu_count() or 1) if embedded else REMOTE_JOBS


class SharedTransport(httpx.BaseTransport):
    """One connection pool for every job's clients; closing a job's client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass  # the run closes the pool (close_pool), once every job is done

    def close_pool(self) -> None:
        self.inner.close()


class TranscriptView(Transcript):
    """A job's transcript: what it sent, in order; each exchange recorded by the run's transcript too
    (one HAR, one breaker). Refused requests (the breaker's, an interruption's) are in neither."""

    def __init__(self, parent: Transcript) -> None:
        super().__init__()
        self.parent = parent

    @property
    def stopped(self) -> str | None:
        return stopped(self.parent)

    def append(self, exchange: Exchange) -> None:
        with self._lock:  # the run's transcript holds (and budgets) the bodies; this holds references
            self._exchanges.append(exchange)

    def record(self, request: httpx.Request, respond: Callable[[], httpx.Response],
               budget: float | None) -> httpx.Response:
        try:
            return self.parent.record(request, respond, budget)
        finally:
            exchange = request.extensions.get(EXCHANGE_KEY)
            if exchange is not None and not (exchange.error or "").startswith(NOT_SENT):
                self.append(exchange)


class JobSession(Session):
    """Job `index` (1-based place in the plan) of the run `parent`; `transport` carries its SCIM requests
    (rate-limited for its IdP), `control_transport` its control-plane requests."""

    _OWN = frozenset({"reporter", "transcript", "transport"})

    def __init__(self, parent: Session, index: int, *, reporter: Reporter | None, transport: httpx.BaseTransport,
                 control_transport: httpx.BaseTransport) -> None:
        super().__init__(parent.target, reporter=reporter, transcript=TranscriptView(parent.transcript),
                         transport=transport, time_scale=parent.time_scale, use_control_plane=parent.isolate)
        for name, value in vars(parent).items():  # run id, prefix, the shared list of secrets, options
            if not name.startswith("_") and name not in self._OWN:
                setattr(self, name, value)
        self.index = index
        # Its own names on a shared target (two scenarios' "alice" must not meet), still under the run's prefix.
        self.prefix = job_prefix(parent.prefix, index)
        self.control_transport = control_transport

    @property
    def control(self) -> ControlPlane:
        if self._control is None:
            self._control = ControlPlane(self.target.control_client(transport=self.control_transport),
                                         self.transcript, self.secrets)
        return self._control

    def next_org_name(self, label: str | None = None) -> str:
        # The job's place in the plan, as the n-th org of a sequential run.
        return super().next_org_name(str(self.index) if label is None else label)


class OrderedReporter:
    """Forwards reporter events in job order: the head job's at once, the others' when their turn comes."""

    def __init__(self, inner: Reporter | None, jobs: int) -> None:
        self.inner = inner
        self._held: list[list[tuple[str, tuple[Any, ...]]]] = [[] for _ in range(jobs)]
        self._done = [False] * jobs
        self._head = 0
        self._lock = threading.Lock()

    def for_job(self, index: int) -> "JobReporter | None":
        return None if self.inner is None else JobReporter(self, index)

    def emit(self, index: int, name: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            if index == self._head:
                getattr(self.inner, name)(*args)
            else:
                self._held[index].append((name, args))

    def done(self, index: int) -> None:
        """Job `index` is over (or will never run): the next jobs' held events follow in order."""
        with self._lock:
            self._done[index] = True
            while self._head < len(self._done) and self._done[self._head]:
                self._head += 1
                if self._head < len(self._held):
                    for name, args in self._held[self._head]:
                        getattr(self.inner, name)(*args)
                    self._held[self._head].clear()

    def drop_after(self, last: int) -> None:
        """Events of jobs after `last` are not shown (`-x` stopped the run there)."""
        with self._lock:
            for held in self._held[last + 1:]:
                held.clear()
            self._done[last + 1:] = [True] * (len(self._done) - last - 1)


class JobReporter:
    """One job's reporter: every event the inner reporter knows, through the OrderedReporter."""

    def __init__(self, ordered: OrderedReporter, index: int) -> None:
        self.ordered, self.index = ordered, index

    def __getattr__(self, name: str) -> Callable[..., None]:
        getattr(self.ordered.inner, name)  # AttributeError for what the reporter does not have
        return lambda *args: self.ordered.emit(self.index, name, args)


@dataclass
class Job:
    run: Callable[[], Any]
    exclusive: bool = False
    after: tuple[int, ...] = ()  # the jobs (their places in the plan) that must be done before it starts
    cost: float = 1.0            # its expected duration, in any unit shared by the plan's jobs
    unit: int | None = None      # the plan unit it belongs to (-x); default: its own place in the plan


def critical_path(jobs: list[Job]) -> list[float]:
    """Each job's cost plus the longest chain of jobs that wait on it (theirs after it, transitively)."""
    rank = [job.cost for job in jobs]
    for i in range(len(jobs) - 1, -1, -1):  # a job runs after earlier jobs only: one pass from the end
        for j in jobs[i].after:
            rank[j] = max(rank[j], jobs[j].cost + rank[i])
    return rank


class Scheduler:
    """Runs jobs, at most `jobs` at a time (the head unit's, then the longest critical path, first); returns
    their results in plan order (None for a job never started). `halt(result)` True: no job of a later
    unit starts (-x); `on_done(i, result)` follows each."""

    def __init__(self, jobs: int, *, halt: Callable[[Any], bool] = lambda _: False,
                 on_done: Callable[[int, Any], None] = lambda i, r: None, interrupt: Callable[[], None] = lambda: None) -> None:
        self.jobs, self.halt, self.on_done, self.interrupt = max(1, jobs), halt, on_done, interrupt
        self._cond = threading.Condition()
        self._running = 0
        self._exclusive = False
        self._halted = False
        self._last_unit: float = float("inf")  # -x: the last unit whose jobs may still start
        self._done: set[int] = set()

    def run(self, jobs: list[Job]) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        threads: list[threading.Thread] = []
        rank = critical_path(jobs)
        waiting = sorted(range(len(jobs)), key=lambda i: (-rank[i], i))
        try:
            while waiting:
                i = self._next(jobs, waiting)
                if i is None:
                    break
                t = threading.Thread(target=self._one, args=(i, jobs[i], results), daemon=True, name=f"scim-harness-job-{i}")
                threads.append(t)
                t.start()
            self._wait(lambda: self._running == 0)
        except BaseException:  # Ctrl-C / SIGTERM (harness.cli.Stopped): stop the jobs, then go on unwinding
            with self._cond:
                self._halted = True
            self.interrupt()
            for t in threads:
                t.join(GRACE_S / max(1, len(threads)))
            raise
        return results

    def _unit(self, jobs: list[Job], i: int) -> int:
        return i if jobs[i].unit is None else jobs[i].unit  # type: ignore[return-value]

    def _next(self, jobs: list[Job], waiting: list[int]) -> int | None:
        """Wait for a slot and a ready job; take it off `waiting` and count it running (None: start no more)."""
        def pick() -> int | None:
            if self._running >= self.jobs or self._exclusive:
                return None
            ready = [i for i in waiting if self._unit(jobs, i) <= self._last_unit and all(d in self._done for d in jobs[i].after)]
            # An exclusive job ready while nothing runs (at the start) goes first: it makes no other job wait.
            alone = next((i for i in ready if jobs[i].exclusive), None) if not self._running else None
            if alone is not None:
                return alone
            # The head of the plan first (the console shows it live; the rest waits for it), then the critical path.
            head = min((self._unit(jobs, i) for i in range(len(jobs)) if i not in self._done), default=None)
            ready = next((i for i in ready if self._unit(jobs, i) == head), ready[0] if ready else None)
            # An exclusive job waits for the running ones to finish, and nothing overtakes it meanwhile.
            return None if ready is None or (jobs[ready].exclusive and self._running) else ready

        with self._cond:
            while True:
                allowed = [i for i in waiting if self._unit(jobs, i) <= self._last_unit]
                if self._halted or not allowed:
                    return None
                found = pick()
                if found is not None:
                    waiting.remove(found)
                    self._running += 1
                    self._exclusive = jobs[found].exclusive
                    return found
                self._cond.wait(0.2)  # short waits: a signal reaches the main thread between them

    def _wait(self, ready: Callable[[], bool]) -> None:
        with self._cond:
            while not ready():
                self._cond.wait(0.2)  # short waits: a signal reaches the main thread between them

    def _one(self, index: int, job: Job, results: list[Any]) -> None:
        try:
            results[index] = job.run()
        finally:
            with self._cond:
                self._running -= 1
                self._done.add(index)
                if job.exclusive:
                    self._exclusive = False
                if results[index] is not None and self.halt(results[index]):
                    unit = index if job.unit is None else job.unit
                    self._last_unit = min(self._last_unit, unit)
                self._cond.notify_all()
            self.on_done(index, results[index])


def stop_sending(transcript: Transcript, reason: str = INTERRUPTED) -> None:
    """Refuse every later request of the run (the breaker's way), e.g. once it was interrupted."""
    if isinstance(transcript, GuardedTranscript) and transcript.stopped is None:
        transcript.stopped = reason
