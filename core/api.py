"""The public Python API of jobconsole (docs/architecture.md).

Every function takes the database first: a libpq DSN, or None for the usual
resolution ($JOBCONSOLE_DSN, then the embedded server). What they return are the
records of `jobconsole.records` and `Task` handles; what they raise, the errors of
`jobconsole.errors`. Front ends (the console, the CLI, a web app) need nothing else.

Every function checks its arguments before it touches the database (checks.py): a
malformed call raises BadInput with one line naming the argument, and writes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

from . import actions, checks, counts, db, detached, embedded, hosts, limits, operations, processes
from . import sanitize as _sanitize
from . import query, queues, schedules, schema, tasks, timing as _timing, transports
from . import stats as _stats
from . import watch as _watch, workflows
from .db import Cancel
from .errors import BadInput, Conflict
from .records import (MISSED_POLICIES, MonitorInfo, OperationInfo, QueueInfo, ScheduleInfo,
                      Stats, TaskSummary, WorkerInfo, WorkflowInfo)
from .registry import task
from .task import Task
from .transports import Transport

__all__ = [
    "task", "Task", "schedule", "schedule_many", "get_task", "task_summary", "task_source", "list_tasks", "Cancel", "count_tasks", "recount",
    "task_id_span", "abort", "relaunch", "delete", "workflow",
    "register_operations", "unregister_operation", "list_operations",
    "list_monitors", "list_workers", "serving_monitor", "shutdown_monitor", "shutdown_worker",
    "kill_worker", "transport", "list_queues",
    "run_monitor", "prepare", "unprepare", "list_scheduled", "scheduled_plan",
    "pause_schedule", "resume_schedule", "run_schedule",
    "init_db", "vacuum", "resolve_dsn", "check_database", "describe_dsn", "ENV_DSN",
    "start_detached_monitor", "start_embedded", "stop_embedded", "embedded_status", "data_dir",
    "watch", "sanitize", "timing", "this_host",
]

# a libpq DSN or URI, None (resolved as usual), or a SQLAlchemy engine or URL (rework)
Dsn = Any
TaskRef = Task | int

# A vacuum keeps at least a day of finished tasks, so a program that has just scheduled
# one can still read what it did; a hundred years is far inside what PostgreSQL's
# timestamps can go back.
VACUUM_DAYS = (1, 36_500)
# Workers one monitor may run: more than a host has cores by far, less than a typo.
MAX_WORKERS = 1000
_SCHEDULE_OPTIONS = ("domain", "host", "owner", "metadata", "priority", "timeout", "retries",
                     "run_at", "delay", "backoff", "retry_on", "depends_on", "workflow")


def _resolve(dsn: Dsn) -> str:
    return db.resolve(checks.dsn(dsn))


def register_operations(dsn: Dsn, path: str | PathLike[str], *, domain: str | None = None,
                        host: str | None = None) -> list[OperationInfo]:
    """Import `path` (a .py file or a module) and record its operations for `host`
    (default: this one); with `domain`, only that domain's. Registering again updates
    them in place. Returns the OperationInfo rows written."""
    dsn = checks.dsn(dsn)
    return operations.register_operations(
        dsn, checks.path("path", path), domain=checks.optional_text("domain", domain),
        host=checks.optional_text("host", host))


def unregister_operation(dsn: Dsn, name: str, *, domain: str | None = None,
                         host: str | None = None) -> int:
    """Remove an operation (from every host and domain unless narrowed); returns how
    many registrations were removed."""
    dsn = checks.dsn(dsn)
    return operations.unregister_operation(
        dsn, checks.text("operation name", name), domain=checks.optional_text("domain", domain),
        host=checks.optional_text("host", host))


def list_operations(dsn: Dsn, *, domain: str | None = None,
                    host: str | None = None) -> list[OperationInfo]:
    """[OperationInfo] by domain, name and host."""
    dsn = checks.dsn(dsn)
    return operations.list_operations(dsn, domain=checks.optional_text("domain", domain),
                                      host=checks.optional_text("host", host))


def schedule(dsn: Dsn, operation: str, input: Any = None, *, rawinput: bytes | None = None,
             domain: str | None = None, host: str | None = None, owner: str | None = None,
             metadata: dict | None = None, priority: int = 0, timeout: float | None = None,
             retries: int | None = None, run_at: datetime | None = None,
             delay: float | None = None, backoff: float | None = None,
             retry_on: Sequence[str] | str | None = None,
             depends_on: Iterable[TaskRef] = (), workflow: str | None = None) -> Task:
    """Queue one run of `operation`; returns its Task.

    `input` must be JSON-serialisable; pass bytes as `rawinput` instead. `domain` and
    `host` narrow which registration is meant; `timeout` (seconds) and `retries`
    override the operation's defaults, as do `backoff` and `retry_on` (see
    `task`). `run_at` (a datetime) or `delay` (seconds) delays the start: the task is
    'waiting' until then. Higher `priority` runs first. With `depends_on` (Tasks or
    ids) it waits until all of those are done, then is queued at once; if one fails or
    is aborted, it fails with kind 'dependency' without running. `workflow` names a
    group of tasks whose aggregate status `workflow()` reports.
    """
    value, raw = tasks.one_input(input, rawinput)
    return schedule_many(dsn, operation, [value], raw=raw, domain=domain, host=host,
                         owner=owner, metadata=metadata, priority=priority, timeout=timeout,
                         retries=retries, run_at=run_at, delay=delay, backoff=backoff,
                         retry_on=retry_on, depends_on=depends_on, workflow=workflow)[0]


def schedule_many(dsn: Dsn, operation: str, inputs: Iterable[Any], *, raw: bool = False,
                  **options: Any) -> list[Task]:
    """Queue one run per input in a single statement; returns their Tasks in order.
    The options are those of `schedule`; with raw=True the inputs are bytes."""
    operation = checks.text("operation", operation)
    values = checks.iterable("inputs", inputs, "inputs")
    checks.flag("raw", raw)
    _check_schedule_options(options)
    dsn = _resolve(dsn)
    with db.pooled(dsn) as conn:
        ids = tasks.insert(conn, operation, values, raw=raw, **options)
    return [Task(dsn, tid) for tid in ids]


def _check_schedule_options(options: dict[str, Any]) -> None:
    """The options' names and types; tasks.insert checks the numbers and the times,
    which a schedule's firing needs checked too."""
    unknown = sorted(set(options) - set(_SCHEDULE_OPTIONS))
    if unknown:
        raise BadInput(f"unknown option {', '.join(unknown)} (the options are "
                       f"{', '.join(_SCHEDULE_OPTIONS)})")
    for name in ("domain", "host", "owner", "workflow"):
        checks.optional_text(name, options.get(name))
    checks.json_object("metadata", options.get("metadata"))
    if "depends_on" in options:
        options["depends_on"] = checks.task_refs("depends_on", options["depends_on"])


def get_task(dsn: Dsn, tid: int) -> Task:
    """The Task with this id; NotFound if there is none. Its `info()` reads the task
    whole, its input and output however big (up to $JOBCONSOLE_MAX_VALUE_MB each, or
    what an earlier limit let in)."""
    tid = checks.task_id(tid)
    dsn = _resolve(dsn)
    with db.pooled(dsn) as conn:
        tasks.status_of(conn, tid)
    return Task(dsn, tid)


def task_summary(dsn: Dsn, tid: int) -> TaskSummary:
    """A TaskSummary of one task: everything but its log, its input and output cut to
    a preview of their first characters with their whole size, its traceback to its
    end. What a screen that re-reads a task as it changes should read."""
    tid = checks.task_id(tid)
    with db.pooled(_resolve(dsn)) as conn:
        return tasks.summary(conn, tid)


def task_source(dsn: Dsn, tid: int) -> tuple[str, str] | None:
    """(name, source) of the shipped function a task runs (myjobs), or None."""
    tid = checks.task_id(tid)
    with db.pooled(_resolve(dsn)) as conn:
        return actions.source_of(conn, tid)


def list_tasks(dsn: Dsn, *, status: str | None = None, domain: str | None = None,
               owner: str | None = None, operation: str | None = None,
               workflow: str | None = None, text: str | None = None, sort: str = "id",
               descending: bool = True, limit: int = 100, before: int | None = None,
               newest: int | None = None, where: str | None = None,
               cancel: Cancel | None = None) -> list[TaskSummary]:
    """[TaskSummary], newest first (or by `sort`, one of tasks.SORTABLE): input and
    output as previews with their sizes, never whole (get_task reads one). The filters are
    column values; `where`, a query such as 'status:failed op:report age>1h' (the
    language of jobconsole.query; QueryError, a BadInput, says where one is malformed);
    `text`, a substring of id, status, operation, domain, owner or workflow ('!' first
    inverts it). `before` is a keyset cursor (an id: the page after it); `newest` searches
    only the tasks with that many highest ids. `cancel`, a Cancel, lets another thread
    stop the search (it then raises Cancelled).
    """
    for name, value in (("status", status), ("domain", domain), ("owner", owner),
                        ("operation", operation), ("workflow", workflow), ("text", text),
                        ("sort", sort), ("where", where)):
        checks.optional_text(name, value)
    checks.flag("descending", descending)
    checks.count("limit", limit, 1, checks.INT8)
    checks.optional_count("before", before, 1, checks.INT8)
    checks.optional_count("newest", newest, 0, checks.INT8)
    if cancel is not None and not isinstance(cancel, Cancel):
        raise BadInput(f"cancel: expected a jobconsole.api.Cancel, not {type(cancel).__name__}")
    with db.pooled(_resolve(dsn), cancel) as conn:
        return tasks.list_tasks(conn, status=status, domain=domain, owner=owner,
                                operation=operation, workflow=workflow, text=text,
                                sort=sort, descending=descending, limit=limit,
                                before=before, newest=newest, where_query=where)


def count_tasks(dsn: Dsn, owner: str | None = None) -> dict[str, int]:
    """{status: number of tasks}, of all tasks or one owner's (from counters: its cost
    does not grow with the number of tasks)."""
    checks.optional_text("owner", owner)
    with db.pooled(_resolve(dsn)) as conn:
        return counts.by_status(conn, owner=owner)


def check_query(where: str) -> None:
    """QueryError (a BadInput that says where) unless `where` is a well-formed query; no
    database is asked, so a console may check what is typed as it is typed."""
    checks.text("where", where)
    query.compile(where)


def task_ids(dsn: Dsn, where: str, owner: str | None = None) -> list[int]:
    """The ids of the tasks the query `where` matches now (of `owner`'s only, if given),
    oldest first: what a bulk abort, relaunch or delete acts on, so that tasks that
    match later are not included."""
    checks.text("where", where)
    checks.optional_text("owner", owner)
    with db.pooled(_resolve(dsn)) as conn:
        return tasks.matching_ids(conn, where, owner)


def stats(dsn: Dsn) -> Stats:
    """The overview's figures (Stats): tasks ended per minute over the last hour and
    per second over 5 and 60 minutes, split by done, failed and aborted; the backlog
    per domain with its oldest queued task's age; each operation's failure rate and
    p50/p95 duration; busy and idle workers, CPU and memory per host. Read from
    counters the engine keeps, never by scanning the task table."""
    with db.pooled(_resolve(dsn)) as conn:
        return _stats.read(conn)


def task_id_span(dsn: Dsn) -> int:
    """How many ids lie between the lowest and the highest task id (0: no task): how
    far a search by `newest` may have to widen."""
    with db.pooled(_resolve(dsn)) as conn:
        return tasks.id_span(conn)


def workflow(dsn: Dsn, name: str) -> WorkflowInfo:
    """The WorkflowInfo of the tasks scheduled with workflow=name: counts by status and
    an aggregate status ('done', 'failed', 'running', 'queued' or 'waiting')."""
    checks.text("workflow name", name)
    with db.pooled(_resolve(dsn)) as conn:
        return workflows.get(conn, name)


def abort(dsn: Dsn, tid: int) -> str:
    """Abort a task: 'aborted' at once if it had not started, else 'aborting' while its
    monitor kills the worker running it."""
    tid = checks.task_id(tid)
    with db.pooled(_resolve(dsn)) as conn:
        return tasks.abort(conn, tid)


def relaunch(dsn: Dsn, tid: int) -> Task:
    """A new task with the same operation, input and settings."""
    tid = checks.task_id(tid)
    dsn = _resolve(dsn)
    with db.pooled(dsn) as conn:
        return Task(dsn, tasks.relaunch(conn, tid))


def delete(dsn: Dsn, tid: int) -> None:
    """Delete a task that no worker holds, with its log (Conflict if one does)."""
    tid = checks.task_id(tid)
    with db.pooled(_resolve(dsn)) as conn:
        tasks.delete(conn, tid)


# -- processes ---------------------------------------------------------------------------

def list_monitors(dsn: Dsn, all: bool = False) -> list[MonitorInfo]:
    """Live monitors on every host (all=True: stopped and dead ones too)."""
    checks.flag("all", all)
    with db.pooled(_resolve(dsn)) as conn:
        return processes.list_monitors(conn, all=all)


def list_workers(dsn: Dsn, all: bool = False, monitor_id: int | None = None) -> list[WorkerInfo]:
    """Live workers, with the task each runs (all=True: ended ones too)."""
    checks.flag("all", all)
    if monitor_id is not None:
        checks.row_id("monitor", monitor_id)
    with db.pooled(_resolve(dsn)) as conn:
        return processes.list_workers(conn, all=all, monitor_id=monitor_id)


def serving_monitor(dsn: Dsn, domain: str = "default",
                    host: str | None = None) -> MonitorInfo | None:
    """The monitor of `domain` on `host` (this host by default) that is alive now: its
    heartbeat is fresh and, on this host, its process runs. None if there is none,
    whatever stale rows say."""
    checks.text("domain", domain)
    checks.optional_text("host", host)
    with db.pooled(_resolve(dsn)) as conn:
        return processes.serving_monitor(conn, domain, host or hosts.this_host(),
                                         _timing.Timing.from_env().stale)


def shutdown_monitor(dsn: Dsn, mid: int, now: bool = False) -> None:
    """Ask a monitor, on any host, to stop: its workers finish their task first, or
    with now=True are killed."""
    mid = checks.row_id("monitor", mid)
    checks.flag("now", now)
    with db.pooled(_resolve(dsn)) as conn:
        processes.shutdown_monitor(conn, mid, now=now)


def shutdown_worker(dsn: Dsn, wid: int) -> None:
    """Ask a worker to exit after its current task."""
    wid = checks.row_id("worker", wid)
    with db.pooled(_resolve(dsn)) as conn:
        processes.shutdown_worker(conn, wid)


def kill_worker(dsn: Dsn, wid: int) -> None:
    """Have a worker's monitor kill it now; its task fails as a crash."""
    wid = checks.row_id("worker", wid)
    with db.pooled(_resolve(dsn)) as conn:
        processes.kill_worker(conn, wid)


def run_monitor(dsn: Dsn, domain: str = "default", *, min_workers: int = 1,
                max_workers: int | None = None, max_runs: int | None = None,
                max_mem: int | None = None, allow_shipped_code: bool = False,
                label: str = "", tmux: str | None = None,
                tmux_socket: str | None = None) -> int:
    """Run a monitor in this process until it is stopped (a signal or a request);
    returns its exit code. `max_workers` defaults to `min_workers`; `max_runs` and
    `max_mem` (MB) recycle a worker between tasks. Its workers run functions shipped
    as their source (myjobs' jobs) only with `allow_shipped_code`: that runs whatever
    anyone who can write to the database stored. Monitors of one host and domain run
    side by side when their `label`s differ. With `tmux`, each worker runs in a window
    of that tmux session (on the server of `tmux_socket`, tmux's -L, if given)."""
    from .monitor import Monitor
    checks.text("domain", domain)
    checks.count("min_workers", min_workers, 0, MAX_WORKERS)
    checks.optional_count("max_workers", max_workers, 1, MAX_WORKERS)
    checks.optional_count("max_runs", max_runs, 1, checks.INT4)
    checks.optional_count("max_mem", max_mem, 1, checks.INT4)
    checks.flag("allow_shipped_code", allow_shipped_code)
    checks.label("label", label, allow_empty=True)
    if tmux is not None:
        checks.label("the tmux session", tmux)
    if tmux_socket is not None:
        checks.label("the tmux socket", tmux_socket)
    limits.max_value_bytes()    # a bad setting is told now, not by each task's output
    return Monitor(_resolve(dsn), domain=domain, min_workers=min_workers,
                   max_workers=max_workers, max_runs=max_runs, max_mem=max_mem,
                   allow_shipped_code=allow_shipped_code, label=label, tmux=tmux,
                   tmux_socket=tmux_socket).run()


# -- queues of payloads (rex.asynctask's transports) -----------------------------------------

def transport(dsn: Dsn, uri: str | None = None) -> Transport:
    """The transport `uri` names (see jobconsole.transports); with none,
    $JOBCONSOLE_TRANSPORT, else the pgsql transport on this database."""
    return transports.get_transport(uri, checks.dsn(dsn))


def list_queues(dsn: Dsn) -> list[QueueInfo]:
    """Queues of payloads: the pgsql transport's in this database, and those that
    running asynctask-workers daemons serve on other transports."""
    dsn = _resolve(dsn)
    with db.pooled(dsn) as conn:
        return queues.list_queues(conn, dsn)


# -- cron schedules ------------------------------------------------------------------------

def prepare(dsn: Dsn, operation: str, rule: str, input: Any = None, *,
            rawinput: bytes | None = None, domain: str | None = None,
            host: str | None = None, owner: str | None = None, metadata: dict | None = None,
            priority: int = 0, missed: str = "once", tz: str | None = None) -> ScheduleInfo:
    """Schedule `operation` by a cron `rule`; returns its ScheduleInfo.

    The rule has five fields (minute hour day month weekday) or six, seconds first, and
    is read in time zone `tz` (default: this machine's). Preparing again with the same
    operation, domain, host, rule, zone and input updates that schedule instead of
    adding one. `missed` says what a fire time missed while no monitor ran becomes:
    'once' (one task for all missed in a row, on recovery) or 'skip' (logged, no task).
    """
    checks.text("operation", operation)
    checks.text("rule", rule)
    for name, value in (("domain", domain), ("host", host), ("owner", owner), ("tz", tz)):
        checks.optional_text(name, value)
    checks.json_object("metadata", metadata)
    checks.one_of("missed", missed, MISSED_POLICIES)
    with db.pooled(_resolve(dsn)) as conn:
        return schedules.prepare(conn, operation, rule, input=input, rawinput=rawinput,
                                 domain=domain, host=host, owner=owner, metadata=metadata,
                                 priority=priority, missed=missed, tz=tz)


def unprepare(dsn: Dsn, sid: int) -> None:
    """Delete a schedule (the tasks it made stay)."""
    sid = checks.row_id("schedule", sid)
    with db.pooled(_resolve(dsn)) as conn:
        schedules.unprepare(conn, sid)


def list_scheduled(dsn: Dsn) -> list[ScheduleInfo]:
    """[ScheduleInfo], by id."""
    with db.pooled(_resolve(dsn)) as conn:
        return schedules.list_schedules(conn)


def scheduled_plan(dsn: Dsn, hours: float = 1) -> list[tuple[datetime, ScheduleInfo]]:
    """[(fire time, ScheduleInfo)] of the coming `hours` (at most a year), soonest
    first."""
    checks.number("hours", hours, 0, schedules.PLAN_HOURS, low_open=True)
    with db.pooled(_resolve(dsn)) as conn:
        return schedules.plan(conn, hours)


def pause_schedule(dsn: Dsn, sid: int) -> ScheduleInfo:
    """Stop a schedule from firing until it is resumed."""
    sid = checks.row_id("schedule", sid)
    with db.pooled(_resolve(dsn)) as conn:
        return schedules.pause(conn, sid, True)


def resume_schedule(dsn: Dsn, sid: int) -> ScheduleInfo:
    """Resume a paused schedule from its next fire time after now."""
    sid = checks.row_id("schedule", sid)
    with db.pooled(_resolve(dsn)) as conn:
        return schedules.pause(conn, sid, False)


def run_schedule(dsn: Dsn, sid: int) -> Task:
    """Queue one task of a schedule now, outside its rule; returns the Task."""
    sid = checks.row_id("schedule", sid)
    dsn = _resolve(dsn)
    with db.pooled(dsn) as conn:
        return Task(dsn, schedules.run_now(conn, sid))


# -- the database ------------------------------------------------------------------------

ENV_DSN = db.ENV_DSN


def init_db(dsn: Dsn) -> tuple[int, int]:
    """Create or upgrade the jobconsole schema; returns (version before, version after)."""
    dsn = _resolve(dsn)
    with db.connect(dsn, check_schema=False) as conn:
        return schema.init_db(conn)


def vacuum(dsn: Dsn, days: int = 7) -> dict[str, int]:
    """Delete tasks finished more than `days` days ago (with their logs), and monitors
    ended as long ago; returns {'tasks': n, 'monitors': n}. `days` is from 1 to 36,500:
    what finished within the last day always stays."""
    days = checks.count("days", days, *VACUUM_DAYS)
    with db.pooled(_resolve(dsn)) as conn:
        return tasks.vacuum(conn, days)


def recount(dsn: Dsn) -> int:
    """Correct the counts of tasks by status (kept by triggers, read by the console and
    count_tasks) to the task table's own; returns how many were wrong. Monitors do it
    every hour; it reads the whole table, and stops no writer."""
    with db.pooled(_resolve(dsn)) as conn:
        return counts.recount(conn)


def resolve_dsn(dsn: Dsn) -> str:
    """The DSN the usual resolution gives (the embedded server started if it is the
    one, its schema created on first use)."""
    return _resolve(dsn)


def check_database(dsn: Dsn) -> str:
    """Resolve the database and make sure it can be used now: reachable, with this
    version's schema (else DatabaseUnavailable or SchemaError). Returns the DSN."""
    dsn = _resolve(dsn)
    db.connect(dsn).close()
    return dsn


def describe_dsn(dsn: str) -> str:
    """A short name for a DSN, for people: user@host:port/dbname."""
    dsn = checks.text("dsn", dsn)
    db.validate(dsn)
    return db.describe(dsn)


def start_embedded() -> str:
    """Start the embedded server (or find it running); returns its DSN."""
    return embedded.ensure_running()


def stop_embedded(force: bool = False) -> bool:
    """Stop the embedded server; False if it was not running. Conflict if monitors or
    workers are connected to it, unless `force`: they would lose their database."""
    checks.flag("force", force)
    if not force and (attached := embedded.attached()):
        raise Conflict(f"{attached} connected to the embedded server: shut them down first "
                       "(shutdown-monitor), or stop it anyway with --force")
    return embedded.stop()


def embedded_status() -> dict[str, Any]:
    """Whether the embedded server runs, where, and its DSN."""
    return embedded.status()


def start_detached_monitor(dsn: Dsn, domain: str = "default", *, workers: int | None = None,
                           min_workers: int | None = None, max_workers: int | None = None,
                           log_dir: str | PathLike[str] | None = None,
                           allow_shipped_code: bool = False) -> tuple[int, Path]:
    """Start a monitor on this host as a detached process, which outlives its caller;
    returns (pid, log file). The options are the monitor command's."""
    domain = checks.text("domain", domain)
    for name, value, least in (("workers", workers, 1), ("min_workers", min_workers, 0),
                               ("max_workers", max_workers, 1)):
        checks.optional_count(name, value, least, MAX_WORKERS)
    checks.flag("allow_shipped_code", allow_shipped_code)
    extra = ("--allow-shipped-code",) if allow_shipped_code else ()
    return detached.start_detached_monitor(
        _resolve(dsn), domain, workers=workers, min_workers=min_workers,
        max_workers=max_workers, log_dir=log_dir, extra=extra)


def data_dir() -> Path:
    """jobconsole's folder in the user's data directory (the embedded server, logs)."""
    return embedded.home()


# -- for front ends ---------------------------------------------------------------------

def watch(dsn: str) -> _watch.Watcher:
    """A Watcher of this database: which kinds of data changed, from LISTEN/NOTIFY."""
    dsn = checks.text("dsn", dsn)
    db.validate(dsn)
    return _watch.Watcher(dsn)


def sanitize(text: Any, limit: int = _sanitize.MAX_CHARS, keep_colours: bool = True) -> str:
    """Untrusted text (a log line, an input, an error) made safe for a terminal: no
    escape sequence but colours (keep_colours=False: none), no control character,
    at most `limit` characters."""
    checks.count("limit", limit, 0, checks.INT8)
    checks.flag("keep_colours", keep_colours)
    return _sanitize.sanitize(text, limit=limit, keep_colours=keep_colours)


def timing() -> _timing.Timing:
    """The supervision clock in force here: heartbeat, staleness, kill grace, polls."""
    return _timing.Timing.from_env()


def this_host() -> str:
    """This host's name as monitors record it ($JOBCONSOLE_HOST, else the hostname)."""
    return hosts.this_host()
