"""The public Python API of jobconsole (DESIGN.md, "Public Python API").

Every function takes the database first: a libpq DSN, or None for the usual
resolution ($JOBCONSOLE_DSN, then the embedded server).
"""
from . import db, operations, processes, schedules, schema, tasks, workflows
from .errors import BadInput
from .registry import task
from .task import Task

__all__ = [
    "task", "Task", "schedule", "schedule_many", "get_task", "list_tasks", "abort",
    "relaunch", "delete", "register_operations", "unregister_operation", "list_operations",
    "list_monitors", "list_workers", "shutdown_monitor", "shutdown_worker", "kill_worker",
    "init_db", "vacuum", "prepare", "unprepare", "list_scheduled", "scheduled_plan",
    "pause_schedule", "resume_schedule", "run_schedule", "workflow",
]

register_operations = operations.register_operations
unregister_operation = operations.unregister_operation
list_operations = operations.list_operations


def schedule(dsn, operation, input=None, *, rawinput=None, domain=None, host=None,
             owner=None, metadata=None, priority=0, timeout=None, retries=None,
             run_at=None, delay=None, backoff=None, retry_on=None, depends_on=(),
             workflow=None):
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
    if rawinput is not None and input is not None:
        raise BadInput("give input or rawinput, not both")
    return schedule_many(dsn, operation, [rawinput if rawinput is not None else input],
                         raw=rawinput is not None, domain=domain, host=host, owner=owner,
                         metadata=metadata, priority=priority, timeout=timeout,
                         retries=retries, run_at=run_at, delay=delay, backoff=backoff,
                         retry_on=retry_on, depends_on=depends_on, workflow=workflow)[0]


def schedule_many(dsn, operation, inputs, *, raw=False, **options):
    """Queue one run per input in a single statement; returns their Tasks in order."""
    dsn = db.resolve(dsn)
    with db.pooled(dsn) as conn:
        ids = tasks.insert(conn, operation, list(inputs), raw=raw, **options)
    return [Task(dsn, tid) for tid in ids]


def get_task(dsn, tid):
    """The Task with this id; NotFound if there is none."""
    dsn = db.resolve(dsn)
    with db.pooled(dsn) as conn:
        tasks.get(conn, tid)
    return Task(dsn, tid)


def list_tasks(dsn, **filters):
    """[TaskInfo], newest first; filters: status, domain, owner, operation, workflow,
    limit, before (an id: the page after it)."""
    with db.pooled(db.resolve(dsn)) as conn:
        return tasks.list_tasks(conn, **filters)


def workflow(dsn, name):
    """The WorkflowInfo of the tasks scheduled with workflow=name: counts by status and
    an aggregate status ('done', 'failed', 'running', 'queued' or 'waiting')."""
    with db.pooled(db.resolve(dsn)) as conn:
        return workflows.get(conn, name)


def abort(dsn, tid):
    with db.pooled(db.resolve(dsn)) as conn:
        return tasks.abort(conn, tid)


def relaunch(dsn, tid):
    dsn = db.resolve(dsn)
    with db.pooled(dsn) as conn:
        return Task(dsn, tasks.relaunch(conn, tid))


def delete(dsn, tid):
    with db.pooled(db.resolve(dsn)) as conn:
        tasks.delete(conn, tid)


def list_monitors(dsn, all=False):
    with db.pooled(db.resolve(dsn)) as conn:
        return processes.list_monitors(conn, all=all)


def list_workers(dsn, all=False, monitor_id=None):
    with db.pooled(db.resolve(dsn)) as conn:
        return processes.list_workers(conn, all=all, monitor_id=monitor_id)


def shutdown_monitor(dsn, mid, now=False):
    with db.pooled(db.resolve(dsn)) as conn:
        processes.shutdown_monitor(conn, mid, now=now)


def shutdown_worker(dsn, wid):
    with db.pooled(db.resolve(dsn)) as conn:
        processes.shutdown_worker(conn, wid)


def kill_worker(dsn, wid):
    with db.pooled(db.resolve(dsn)) as conn:
        processes.kill_worker(conn, wid)


def init_db(dsn):
    """Create or upgrade the jobconsole schema; returns (version before, version after)."""
    dsn = db.resolve(dsn)
    with db.connect(dsn, check_schema=False) as conn:
        return schema.init_db(conn)


def vacuum(dsn, days=7):
    with db.pooled(db.resolve(dsn)) as conn:
        return tasks.vacuum(conn, days)


# -- cron schedules ------------------------------------------------------------------------

def prepare(dsn, operation, rule, input=None, *, rawinput=None, domain=None, host=None,
            owner=None, metadata=None, priority=0, missed="once", tz=None):
    """Schedule `operation` by a cron `rule`; returns its ScheduleInfo.

    The rule has five fields (minute hour day month weekday) or six, seconds first, and
    is read in time zone `tz` (default: this machine's). Preparing again with the same
    operation, domain, host, rule, zone and input updates that schedule instead of
    adding one. `missed` says what a fire time missed while no monitor ran becomes:
    'once' (one task for all missed in a row, on recovery) or 'skip' (logged, no task).
    """
    with db.pooled(db.resolve(dsn)) as conn:
        return schedules.prepare(conn, operation, rule, input=input, rawinput=rawinput,
                                 domain=domain, host=host, owner=owner, metadata=metadata,
                                 priority=priority, missed=missed, tz=tz)


def unprepare(dsn, sid):
    """Delete a schedule (the tasks it made stay)."""
    with db.pooled(db.resolve(dsn)) as conn:
        schedules.unprepare(conn, sid)


def list_scheduled(dsn):
    """[ScheduleInfo], by id."""
    with db.pooled(db.resolve(dsn)) as conn:
        return schedules.list_schedules(conn)


def scheduled_plan(dsn, hours=1):
    """[(fire time, ScheduleInfo)] of the coming `hours`, soonest first."""
    with db.pooled(db.resolve(dsn)) as conn:
        return schedules.plan(conn, hours)


def pause_schedule(dsn, sid):
    with db.pooled(db.resolve(dsn)) as conn:
        return schedules.pause(conn, sid, True)


def resume_schedule(dsn, sid):
    """Resume a paused schedule from its next fire time after now."""
    with db.pooled(db.resolve(dsn)) as conn:
        return schedules.pause(conn, sid, False)


def run_schedule(dsn, sid):
    """Queue one task of a schedule now, outside its rule; returns the Task."""
    dsn = db.resolve(dsn)
    with db.pooled(dsn) as conn:
        return Task(dsn, schedules.run_now(conn, sid))
