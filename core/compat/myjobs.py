"""Jumpscale's myjobs on jobconsole: schedule a plain function, wait for it, read its
result (docs/architecture.md; README "Coming from myjobs").

    from jobconsole.compat import myjobs
    job = myjobs.schedule(addition, a=1, b=2)

The function travels as its source (core/shipped.py), stored once as an action; each
job is a task that runs it, whose operation is the function's name. Only monitors
started with --allow-shipped-code run such tasks (workers_subprocess_start starts
one); a job waits for one, queued, meanwhile. The database is $JOBCONSOLE_DSN, else
the embedded server, unless `use(dsn)` names another.
"""
from __future__ import annotations

import itertools
import os
import signal
import time
import types
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .. import actions, checks, db, hosts, inprocess, shipped, tasks, tmux
from ..detached import start_detached_monitor
from ..errors import BadInput, NotFound
from ..records import FINISHED, TaskInfo
from ..registry import check_seconds
from ..task import Task

__all__ = ["schedule", "wait", "results", "jobs", "model_job", "Job", "JobError",
           "workers_subprocess_start", "worker_tmux_start", "workers_tmux_start",
           "worker_inprocess_start", "worker_start", "find", "workers_stop", "stop", "use",
           "STATES", "ERROR_CATS"]

# a task's status and error kind in myjobs' words
STATES = {"waiting": "NEW", "queued": "NEW", "running": "RUNNING", "aborting": "RUNNING",
          "done": "OK", "failed": "ERROR", "aborted": "ERROR"}
ERROR_CATS = {None: "NA", "error": "ERROR", "timeout": "TIMEOUT", "crash": "CRASH",
              "abort": "HALTED", "dependency": "ERROR"}

_dsn: str | None = None
_started: list[int] = []        # pids of the monitors this process started
_count = itertools.count(1)     # each of them has a label of its own (so any number of
                                # processes may start workers on one host)


def use(dsn: Any) -> None:
    """Schedule and read jobs in this database from now on (default: $JOBCONSOLE_DSN,
    else the embedded server)."""
    global _dsn
    _dsn = checks.dsn(dsn)


def _database() -> str:
    return db.resolve(_dsn)


class JobError(Exception):
    """A job waited for with die=True did not end OK; `traceback` is the remote one."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.traceback = job.error.get("traceback", "")
        last = self.traceback.strip().splitlines()[-1:] or [job.error_cat]
        super().__init__(f"job {job.id} ({job.name}) ended {job.error_cat}: {last[0]}\n\n"
                         f"remote traceback:\n{self.traceback}")


class Job:
    """A myjobs job: a task that runs a shipped function, read in myjobs' words. Its
    fields are as the last load() found them; schedule and get load it."""

    def __init__(self, id: int, dsn: str | None = None) -> None:
        self.id = checks.task_id(id)
        self._dsn = dsn or _database()
        self._info: TaskInfo | None = None
        self._dependencies: list[int] = []

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name} {self.state}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def load(self) -> Job:
        task = Task(self._dsn, self.id)
        self._info = task.info()
        self._dependencies = task.dependencies()[0]
        return self

    @property
    def _task(self) -> TaskInfo:
        return self._info or self.load()._info      # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self._task.operation

    @property
    def state(self) -> str:
        return STATES[self._task.status]

    @property
    def error_cat(self) -> str:
        return ERROR_CATS[self._task.error_kind] if self.state == "ERROR" else "NA"

    @property
    def result(self) -> Any:
        return self._task.output

    @property
    def error(self) -> dict[str, Any]:
        """{} when it did not fail; else its traceback, and for a job that never ran
        because a dependency failed, that dependency's id as dependency_failure."""
        t = self._task
        if self.state != "ERROR":
            return {}
        error: dict[str, Any] = {"traceback": t.traceback or "", "category": self.error_cat}
        if t.error_kind == "dependency":
            with db.pooled(self._dsn) as conn:
                failed = [d for d in self._dependencies
                          if tasks.status_of(conn, d) in ("failed", "aborted")]
            error["dependency_failure"] = failed[0] if failed else None
        return error

    @property
    def category(self) -> str:
        return (self._task.metadata or {}).get("category") or ""

    @property
    def timeout(self) -> float:
        return self._task.timeout or 0

    @property
    def dependencies(self) -> list[int]:
        self._task      # noqa: B018   (loads)
        return list(self._dependencies)

    @property
    def time_start(self) -> int:
        return _epoch(self._task.started)

    @property
    def time_stop(self) -> int:
        return _epoch(self._task.finished)

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict((self._task.input or {}).get("kwargs") or {})

    def check_ready(self) -> bool:
        """Whether it has ended (OK or ERROR), as the database says now."""
        return self.load()._task.status in FINISHED

    def wait(self, die: bool = False, timeout: float | None = None) -> Job:
        """Block until it has ended; with die=True, raise JobError unless it ended OK."""
        checks.flag("die", die)
        Task(self._dsn, self.id).join(timeout)
        self.load()
        if die and self.state != "OK":
            raise JobError(self)
        return self


def _epoch(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def schedule(method: Any, *args: Any, category: str | None = None,
             timeout: float | None = None, die: bool = False, wait: bool = False,
             inprocess: bool = False, dependencies: Iterable[Any] = (),
             **kwargs: Any) -> Any:
    """Run `method(*args, **kwargs)` as a job; returns its Job (waited for with
    wait=True, raising if it failed and die=True). With inprocess=True, run it here
    and now and return its result. `timeout` (seconds, 0 for none) kills it once
    passed; `dependencies` (Jobs or ids) must all end OK before it starts."""
    for name, value in (("die", die), ("wait", wait), ("inprocess", inprocess)):
        checks.flag(name, value)
    parents = _job_ids(dependencies)
    if inprocess:
        if "job" in _parameters(method):
            kwargs["job"] = types.SimpleNamespace(id=None, dependencies=parents)
        return method(*args, **kwargs)
    packed = shipped.pack(method)
    call = {"args": list(args), "kwargs": kwargs}
    tasks.to_json_text(call, "the arguments")      # refused here, not on a worker
    check_seconds(timeout, "timeout")      # myjobs' 0 is no timeout
    checks.optional_text("category", category)
    dsn = _database()
    with db.pooled(dsn) as conn:
        with conn.transaction():
            action_id = actions.store(conn, packed)
            [tid] = tasks.insert(
                conn, packed.name, [call], timeout=timeout or None, depends_on=parents,
                metadata={"category": category} if category else None, action_id=action_id)
    job = Job(tid, dsn)
    if wait:
        job.wait(die=die)
    return job


def _parameters(method: Any) -> set[str]:
    import inspect
    try:
        return set(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return set()


def _job_ids(dependencies: Iterable[Any]) -> list[int]:
    ids = []
    for dep in checks.iterable("dependencies", dependencies, "Jobs or job ids"):
        if isinstance(dep, Job):
            ids.append(dep.id)
        elif isinstance(dep, int) and not isinstance(dep, bool):
            ids.append(checks.task_id(dep))
        else:
            raise BadInput(f"a dependency must be a Job or a job id, got {dep!r:.60}")
    return ids


def wait(ids: Iterable[Any], die: bool = False, timeout: float | None = None) -> list[Job]:
    """Block until all these jobs (Jobs or ids) have ended; returns them, loaded. With
    die=True, raise JobError for the first that did not end OK."""
    checks.flag("die", die)
    deadline = None if timeout is None else time.monotonic() + timeout
    done = []
    for jid in _job_ids(ids):
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        done.append(Job(jid).wait(die=die, timeout=left))
    return done


def results(ids: Iterable[Any], timeout: float | None = None) -> dict[int, Any]:
    """{id: result} once all these jobs have ended."""
    return {job.id: job.result for job in wait(ids, timeout=timeout)}


class _Jobs:
    """myjobs' job model: `jobs.get(id)`, `jobs.find(**filters)`."""

    def get(self, id: int) -> Job:
        job = Job(id)
        try:
            job.load()
        except NotFound:
            raise NotFound(f"no job {id}") from None
        return job

    def find(self, **filters: Any) -> list[Job]:
        """The jobs whose fields equal these: name, category, state, error_cat."""
        unknown = set(filters) - {"name", "category", "state", "error_cat"}
        if unknown:
            raise BadInput(f"find: unknown fields {', '.join(sorted(unknown))} (one of "
                           "name, category, state, error_cat)")
        dsn = _database()
        with db.pooled(dsn) as conn:
            ids = actions.job_ids(conn, name=filters.get("name"),
                                  category=filters.get("category"))
        found = [Job(i, dsn).load() for i in ids]
        return [j for j in found
                if all(getattr(j, f) == filters[f] for f in ("state", "error_cat") if f in filters)]


jobs = model_job = _Jobs()


# -- workers ----------------------------------------------------------------------------------

def workers_subprocess_start(nr_min: int = 1, nr_max: int = 10) -> int:
    """Start a detached, supervised monitor whose workers run jobs, scaling from nr_min
    to nr_max with the load; returns its pid at once, as myjobs' does. Any number of
    processes may start workers."""
    checks.count("nr_min", nr_min, 0, 1000)
    checks.count("nr_max", nr_max, 1, 1000)
    if nr_min > nr_max:
        raise BadInput(f"nr_min ({nr_min}) must not be more than nr_max ({nr_max})")
    return _start(min_workers=nr_min, max_workers=nr_max)


def worker_tmux_start(socket: str | None = None) -> int:
    """Start one worker in a window of the tmux session `jobconsole`, supervised by a
    detached monitor; returns the monitor's pid. `tmux attach -t jobconsole` shows
    the jobs it runs. `socket` (tmux -L; default $JOBCONSOLE_TMUX_SOCKET, else tmux's
    own server) picks the tmux server."""
    return workers_tmux_start(1, socket)


def workers_tmux_start(nr: int = 4, socket: str | None = None) -> int:
    """Start `nr` workers, each in a window of the tmux session `jobconsole`."""
    checks.count("nr", nr, 1, 1000)
    socket = socket or os.environ.get("JOBCONSOLE_TMUX_SOCKET") or None
    if socket is not None:
        checks.label("the tmux socket", socket)
    tmux.check_installed()
    return _start(workers=nr, extra=("--tmux", tmux.SESSION) +
                  (("--tmux-socket", socket) if socket else ()))


def worker_inprocess_start() -> int:
    """Run the queued jobs in this process, one at a time, and return when none is
    left (how many ran). For tests and debugging: a timeout or a halt takes effect
    only when the running job returns, as nothing may kill this process."""
    return inprocess.run_queued(_database())


worker_start = worker_inprocess_start      # myjobs' older name


def _start(extra: tuple[str, ...] = (), workers: int | None = None,
           min_workers: int | None = None, max_workers: int | None = None) -> int:
    pid, _ = start_detached_monitor(
        _database(), label=f"myjobs-{os.getpid()}-{next(_count)}", workers=workers,
        min_workers=min_workers, max_workers=max_workers,
        extra=("--allow-shipped-code",) + extra)
    _started.append(pid)
    return pid


def find() -> list[Any]:
    """The live workers that may run jobs (those of monitors that allow shipped code)."""
    from .. import processes
    with db.pooled(_database()) as conn:
        allowed = {m.id for m in processes.list_monitors(conn)
                   if (m.options or {}).get("allow_shipped_code")}
        return [w for w in processes.list_workers(conn) if w.monitor_id in allowed]


def workers_stop(timeout: float = 30) -> None:
    """Stop the monitors (and so the workers) that this process started, letting their
    running jobs finish."""
    while _started:
        pid = _started.pop()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:       # not our child: wait for it to go
                if not hosts.alive(pid, None):
                    break
            time.sleep(0.1)


def stop(reset: bool = False) -> None:
    """Stop the workers this process started; with reset=True, also delete every
    myjobs job and action."""
    checks.flag("reset", reset)
    workers_stop()
    if reset:
        with db.pooled(_database()) as conn:
            actions.reset(conn)
