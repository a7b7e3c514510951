"""The `jobconsole` command: the console with no subcommand, and its CLI twins.

Errors a user can cause (jobconsole.errors) print one line on stderr and exit with the
error's code; nothing here prints a traceback for them.
"""
import dataclasses
import json
from datetime import datetime
import logging
import sys

import click
import psycopg

from jobconsole import api, db
from jobconsole.errors import BadInput, DatabaseUnavailable, JobconsoleError, SchemaError
from jobconsole.sanitize import sanitize

from . import render

EXIT_TASK_FAILED = 1


class Group(click.Group):
    """Turns jobconsole errors into one line and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JobconsoleError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except psycopg.OperationalError as exc:
            _fail(ctx, f"lost the database: {db.first_line(exc)}", DatabaseUnavailable.exit_code)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.UndefinedFunction) as exc:
            _fail(ctx, f"the jobconsole schema does not match this jobconsole ({db.first_line(exc)})"
                  ": run `jobconsole init-db`", SchemaError.exit_code)
        except psycopg.Error as exc:
            _fail(ctx, f"database error: {db.first_line(exc)}", 1)
        except UnicodeError as exc:   # an argument of undecodable bytes, say
            _fail(ctx, f"not valid text: {exc}", BadInput.exit_code)
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", 130)


def _fail(ctx, message, code):
    click.echo(f"jobconsole: {sanitize(message, keep_colours=False)}", err=True)
    ctx.exit(code)


dsn_option = click.option(
    "--dsn", envvar=db.ENV_DSN, default=None, metavar="DSN",
    help="libpq DSN of the database (default: $JOBCONSOLE_DSN, then the embedded server)")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def task_options(which):
    """What a task is made of, as `schedule` and `prepare` both take it."""
    options = [
        click.option("--input", "input_text", metavar="JSON",
                     help=f"The input of {which}, as JSON."),
        click.option("--domain"),
        click.option("--host", help=f"Run {which} only on this host."),
        click.option("--owner"),
        click.option("--metadata", metavar="JSON", help=f"A JSON object stored with {which}."),
        click.option("--priority", type=int, default=0, show_default=True),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


@click.group(cls=Group, invoke_without_command=True)
@dsn_option
@click.option("--read-only", is_flag=True, help="Console: hide and refuse every action.")
@click.option("--refresh", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              metavar="SECONDS", help="Console: fallback refresh when no notification comes.")
@click.option("--owner", help="Console: show only this owner's tasks.")
@click.pass_context
def cli(ctx, dsn, read_only, refresh, owner):
    """jobconsole: a PostgreSQL job queue with a terminal operations console.

    With no command, open the console.
    """
    ctx.obj = dsn
    if ctx.invoked_subcommand is None:
        open_console(dsn, read_only=read_only, refresh=refresh, owner=owner)


def open_console(dsn, **options):
    from .app import JobConsole
    dsn = db.resolve(dsn)
    db.connect(dsn).close()     # a bad DSN or schema: one line here, not a broken screen
    JobConsole(dsn, **options).run()


def main():
    cli(prog_name="jobconsole")


# -- schema and server ------------------------------------------------------------------

@cli.command("init-db")
@click.pass_obj
def init_db(dsn):
    """Create or upgrade the jobconsole schema (idempotent)."""
    before, after = api.init_db(dsn)
    if before == after:
        click.echo(f"schema jobconsole is up to date (version {after})")
    elif before == 0:
        click.echo(f"created schema jobconsole (version {after})")
    else:
        click.echo(f"upgraded schema jobconsole from version {before} to {after}")


@cli.group(cls=Group)
def db_group():
    """The embedded PostgreSQL server (used when no DSN is configured)."""


cli.add_command(db_group, "db")


@db_group.command("start")
def db_start():
    """Start the embedded server (reuse it if it runs) and print its DSN."""
    from jobconsole import embedded
    click.echo(embedded.ensure_running())


@db_group.command("stop")
def db_stop():
    """Stop the embedded server."""
    from jobconsole import embedded
    click.echo("stopped" if embedded.stop() else "not running")


@db_group.command("status")
@json_option
def db_status(as_json):
    """Say whether the embedded server runs, where, and its DSN."""
    from jobconsole import embedded
    info = embedded.status()
    if as_json:
        click.echo(render.to_json(info))
        return
    for key, value in info.items():
        click.echo(f"{key}: {'' if value is None else value}")
    if not info.get("running"):
        sys.exit(3)


@cli.command()
@click.option("--days", type=click.IntRange(min=0), default=7, show_default=True,
              help="Delete what finished more than this many days ago.")
@click.pass_obj
def vacuum(dsn, days):
    """Delete finished tasks (with their logs) and ended monitors and workers."""
    counts = api.vacuum(dsn, days)
    click.echo(f"deleted {counts['tasks']} tasks and {counts['monitors']} monitors")


# -- operations -------------------------------------------------------------------------

@cli.command("register-operations")
@click.argument("path", metavar="FILE|MODULE")
@click.option("--domain", help="Only the operations of this domain.")
@click.option("--host", help="Register for this host (default: this one).")
@click.pass_obj
def register_operations(dsn, path, domain, host):
    """Record the operations a file or module declares, for this host."""
    for op in api.register_operations(dsn, path, domain=domain, host=host):
        click.echo(f"registered {op.name} (domain {op.domain}, host {op.host})")


@cli.command("unregister-operation")
@click.argument("name")
@click.option("--domain")
@click.option("--host")
@click.pass_obj
def unregister_operation(dsn, name, domain, host):
    """Forget an operation (on every host and domain unless narrowed)."""
    count = api.unregister_operation(dsn, name, domain=domain, host=host)
    click.echo(f"unregistered {count} registration{'s' * (count != 1)} of {name}")


@cli.command("list-operations")
@click.option("--domain")
@click.option("--host")
@json_option
@click.pass_obj
def list_operations(dsn, domain, host, as_json):
    """The registered operations."""
    ops = api.list_operations(dsn, domain=domain, host=host)
    _output(as_json, ops, ["id", "name", "domain", "host", "timeout", "retries", "path"],
            lambda o: [o.id, o.name, o.domain, o.host, o.timeout, o.retries, o.path])


# -- processes --------------------------------------------------------------------------

@cli.command()
@click.option("--domain", default="default", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="A fixed number of workers.")
@click.option("--min-workers", type=click.IntRange(min=0), help="Keep at least this many.")
@click.option("--max-workers", type=click.IntRange(min=1), help="Scale up to this many.")
@click.option("--max-runs", type=click.IntRange(min=1), help="Recycle a worker after N tasks.")
@click.option("--max-mem", type=click.IntRange(min=1), metavar="MB",
              help="Recycle a worker once its memory passes MB.")
@click.pass_obj
def monitor(dsn, domain, workers, min_workers, max_workers, max_runs, max_mem):
    """Run a monitor for a domain in the foreground (Ctrl-C or SIGTERM stops it)."""
    from jobconsole.monitor import Monitor
    if workers is not None and (min_workers is not None or max_workers is not None):
        raise BadInput("give --workers, or --min-workers/--max-workers, not both")
    if workers is not None:
        min_workers = max_workers = workers
    min_workers = 1 if min_workers is None else min_workers
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    code = Monitor(db.resolve(dsn), domain=domain, min_workers=min_workers,
                   max_workers=max_workers, max_runs=max_runs, max_mem=max_mem).run()
    sys.exit(code)


@cli.command("list-monitors")
@click.option("--all", "show_all", is_flag=True, help="Include stopped and dead monitors.")
@json_option
@click.pass_obj
def list_monitors(dsn, show_all, as_json):
    """Monitors, with their workers and how fresh their heartbeat is."""
    _output(as_json, api.list_monitors(dsn, all=show_all),
            ["id", "host", "domain", "pid", "status", "workers", "heartbeat", "started"],
            lambda m: [m.id, m.host, m.domain, m.pid, m.status, m.workers,
                       f"{render.seconds_text(m.heartbeat_age)} ago", render.when(m.started)])


@cli.command("shutdown-monitor")
@click.argument("monitor_id", type=int)
@click.option("--now", is_flag=True, help="Kill the workers instead of letting them finish.")
@click.pass_obj
def shutdown_monitor(dsn, monitor_id, now):
    """Ask a monitor, on any host, to stop."""
    api.shutdown_monitor(dsn, monitor_id, now=now)
    click.echo(f"asked monitor {monitor_id} to stop" + (" now" if now else ""))


@cli.command("list-workers")
@click.option("--all", "show_all", is_flag=True, help="Include stopped and dead workers.")
@json_option
@click.pass_obj
def list_workers(dsn, show_all, as_json):
    """Workers, with the task each one runs."""
    _output(as_json, api.list_workers(dsn, all=show_all),
            ["id", "monitor", "host", "domain", "pid", "status", "task", "runs", "mem",
             "started", "reason"],
            lambda w: [w.id, w.monitor_id, w.host, w.domain, w.pid, w.status, w.task_id,
                       w.runs, f"{w.mem_mb} MB" if w.mem_mb else "", render.when(w.started),
                       w.reason])


@cli.command("shutdown-worker")
@click.argument("worker_id", type=int)
@click.pass_obj
def shutdown_worker(dsn, worker_id):
    """Ask a worker to exit once its current task is done."""
    api.shutdown_worker(dsn, worker_id)
    click.echo(f"asked worker {worker_id} to stop after its task")


@cli.command("kill-worker")
@click.argument("worker_id", type=int)
@click.pass_obj
def kill_worker(dsn, worker_id):
    """Have a worker killed now by its monitor; its task fails as a crash."""
    api.kill_worker(dsn, worker_id)
    click.echo(f"asked for worker {worker_id} to be killed")


# -- tasks ------------------------------------------------------------------------------

@cli.command()
@click.argument("operation")
@task_options("the task")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS")
@click.option("--delay", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Start no sooner than this many seconds from now.")
@click.option("--at", "run_at", metavar="TIME",
              help="Start no sooner than this ISO 8601 time (local time if no offset).")
@click.option("--retries", type=click.IntRange(min=0),
              help="Retry a failure this many times (default: the operation's).")
@click.option("--backoff", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Wait before a retry, doubled at each attempt.")
@click.option("--after", "depends_on", type=int, multiple=True, metavar="ID",
              help="Run only once task ID is done (repeat for several).")
@click.option("--workflow", metavar="NAME", help="Make it part of this group of tasks.")
@click.option("--wait", is_flag=True, help="Wait for the task; exit 1 unless it is done.")
@json_option
@click.pass_obj
def schedule(dsn, operation, input_text, domain, host, owner, metadata, priority, timeout,
             delay, run_at, retries, backoff, depends_on, workflow, wait, as_json):
    """Queue a task of OPERATION and print its id."""
    task = api.schedule(dsn, operation, _json_arg(input_text, "--input"), domain=domain,
                        host=host, owner=owner, metadata=_json_arg(metadata, "--metadata"),
                        priority=priority, timeout=timeout, delay=delay,
                        run_at=_time_arg(run_at, "--at"), retries=retries, backoff=backoff,
                        depends_on=depends_on, workflow=workflow)
    if not wait:
        click.echo(render.to_json({"id": task.id}) if as_json else task.id)
        return
    info = task.join().info()
    _show(info, as_json)
    if info.status != "done":
        sys.exit(EXIT_TASK_FAILED)


@cli.command("list-tasks")
@click.option("--status", type=click.Choice(api.tasks.STATUSES))
@click.option("--domain")
@click.option("--owner")
@click.option("--operation")
@click.option("--workflow", metavar="NAME")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
@click.pass_obj
def list_tasks(dsn, status, domain, owner, operation, workflow, limit, as_json):
    """Tasks, newest first."""
    rows = api.list_tasks(dsn, status=status, domain=domain, owner=owner,
                          operation=operation, workflow=workflow, limit=limit)
    _output(as_json, rows,
            ["id", "status", "operation", "domain", "owner", "workflow", "queued", "duration",
             "progress", "worker", "error"],
            lambda t: [t.id, t.status, t.operation, t.domain, t.owner, t.workflow,
                       render.when(t.queued), render.duration(t.started, t.finished),
                       render.progress(t, 6), t.worker_id, t.error_kind])


@cli.command("show-task")
@click.argument("task_id", type=int)
@json_option
@click.pass_obj
def show_task(dsn, task_id, as_json):
    """Everything about one task but its log."""
    task = api.get_task(dsn, task_id)
    _show(task.info(), as_json, task.dependencies())


@cli.command("show-workflow")
@click.argument("name")
@json_option
@click.pass_obj
def show_workflow(dsn, name, as_json):
    """A workflow's aggregate status and its tasks (those scheduled with --workflow)."""
    info = api.workflow(dsn, name)
    rows = api.list_tasks(dsn, workflow=name, limit=1000)
    if as_json:
        click.echo(render.to_json({**info.as_json(), "tasks": [t.as_json() for t in rows]}))
        return
    click.echo(f"workflow {sanitize(name)}: {info.summary}")
    click.echo(render.table(["id", "status", "operation", "queued", "duration", "error"],
                            [[t.id, t.status, t.operation, render.when(t.queued),
                              render.duration(t.started, t.finished), t.error_kind]
                             for t in reversed(rows)]))


@cli.command("log-task")
@click.argument("task_id", type=int)
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the task finishes.")
@click.pass_obj
def log_task(dsn, task_id, follow):
    """Print a task's log."""
    task = api.get_task(dsn, task_id)
    lines = task.follow() if follow else task.logs()
    for _, line in lines:
        click.echo(sanitize(line))


@cli.command("abort-task")
@click.argument("task_id", type=int)
@click.pass_obj
def abort_task(dsn, task_id):
    """Abort a task: a queued one never runs, a running one's worker is killed."""
    status = api.abort(dsn, task_id)
    click.echo(f"task {task_id} {status}")


@cli.command("relaunch-task")
@click.argument("task_id", type=int)
@click.pass_obj
def relaunch_task(dsn, task_id):
    """Queue a new task with the same operation and input; print its id."""
    click.echo(api.relaunch(dsn, task_id).id)


@cli.command("delete-task")
@click.argument("task_id", type=int)
@click.pass_obj
def delete_task(dsn, task_id):
    """Delete a task that is not running, with its log."""
    api.delete(dsn, task_id)
    click.echo(f"task {task_id} deleted")


# -- cron schedules ---------------------------------------------------------------------

@cli.command()
@click.argument("operation")
@click.argument("rule")
@task_options("each task")
@click.option("--tz", metavar="ZONE", help="The rule's time zone (default: this machine's).")
@click.option("--missed", type=click.Choice(api.schedules.MISSED_POLICIES), default="once",
              show_default=True,
              help="Fire times missed while no monitor ran: run once on recovery, or skip.")
@click.pass_obj
def prepare(dsn, operation, rule, input_text, domain, host, owner, metadata, priority, tz,
            missed):
    """Schedule OPERATION by a cron RULE: five fields (minute hour day month weekday), or
    six with seconds first. Preparing the same again updates it."""
    info = api.prepare(dsn, operation, rule, _json_arg(input_text, "--input"), domain=domain,
                       host=host, owner=owner, metadata=_json_arg(metadata, "--metadata"),
                       priority=priority, tz=tz, missed=missed)
    click.echo(f"prepared schedule {info.id}: {operation} at {rule!r} ({info.timezone}), "
               f"next {render.when(info.next_fire)}")


@cli.command()
@click.argument("schedule_id", type=int)
@click.pass_obj
def unprepare(dsn, schedule_id):
    """Delete a schedule (the tasks it made stay)."""
    api.unprepare(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} deleted")


@cli.command("list-scheduled")
@json_option
@click.pass_obj
def list_scheduled(dsn, as_json):
    """Cron schedules, with their next fire time and what their last one made."""
    _output(as_json, api.list_scheduled(dsn),
            ["id", "operation", "domain", "rule", "zone", "next", "last task", "missed",
             "input", "error"],
            lambda s: [s.id, s.operation, s.domain, s.rule, s.timezone,
                       "paused" if s.paused else render.when(s.next_fire),
                       render.last_task(s), render.missed(s), render.input_text(s),
                       s.last_error])


@cli.command("scheduled-plan")
@click.option("--hours", type=float, default=1.0, show_default=True,
              help="How far ahead to look (at most a year).")
@json_option
@click.pass_obj
def scheduled_plan(dsn, hours, as_json):
    """The tasks the schedules will make in the coming hours, soonest first."""
    plan = api.scheduled_plan(dsn, hours)
    if as_json:
        click.echo(render.to_json([{"time": t, "schedule": s.id, "operation": s.operation,
                                    "domain": s.domain} for t, s in plan]))
        return
    click.echo(render.table(["time", "schedule", "operation", "domain", "input"],
                            [[render.when(t), s.id, s.operation, s.domain, render.input_text(s)]
                             for t, s in plan]))


@cli.command("pause-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def pause_schedule(dsn, schedule_id):
    """Stop a schedule from firing until it is resumed."""
    api.pause_schedule(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} paused")


@cli.command("resume-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def resume_schedule(dsn, schedule_id):
    """Resume a paused schedule from its next fire time after now."""
    info = api.resume_schedule(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} resumed, next {render.when(info.next_fire)}")


@cli.command("run-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def run_schedule(dsn, schedule_id):
    """Queue a task of a schedule now, outside its rule; print its id."""
    click.echo(api.run_schedule(dsn, schedule_id).id)


# -- demo -------------------------------------------------------------------------------

@cli.command()
@click.option("--workers", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--console/--no-console", default=True, show_default=True,
              help="Open the console on the demo.")
@click.pass_obj
def demo(dsn, workers, console):
    """Register demo operations, start a demo monitor, queue a realistic mix and two
    cron schedules, and open the console on it."""
    from jobconsole.hosts import this_host

    from .demo import queue_mix
    from .launch import start_detached_monitor
    dsn = db.resolve(dsn)
    running = [m for m in api.list_monitors(dsn)
               if m.domain == "demo" and m.host == this_host()]
    if running:
        click.echo(f"demo monitor {running[0].id} already runs (pid {running[0].pid})")
    else:
        pid, log_path = start_detached_monitor(dsn, "demo", workers=workers)
        click.echo(f"started a demo monitor (pid {pid}, log {log_path})")
    queued = queue_mix(dsn)
    click.echo(f"queued tasks {', '.join(str(t.id) for t in queued)}")
    if console:
        open_console(dsn)


# -- helpers ----------------------------------------------------------------------------

def _json_arg(text, option):
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{option} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:   # an integer of 5,000 digits, [[[[...
        raise BadInput(f"{option} is JSON that cannot be read here: {exc}") from None


def _time_arg(text, option):
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} is not an ISO 8601 time (like 2026-12-01T08:30 or "
                       f"2026-12-01 08:30+01:00): {text!r}") from None


def _output(as_json, items, headers, row):
    if as_json:
        click.echo(render.to_json([dataclasses.asdict(i) for i in items]))
    else:
        click.echo(render.table(headers, [row(i) for i in items]))


def _show(info, as_json, dependencies=None):
    data = info.as_json()
    if dependencies is not None:
        data["depends_on"], data["dependents"] = dependencies
    if as_json:
        click.echo(render.to_json(data))
        return
    for key in ("input", "output", "metadata", "facet"):
        raw = getattr(info, f"raw_{key}", None)
        data[key] = f"<{len(raw)} bytes>" if raw is not None else json.dumps(data[key])
    data.pop("raw_input"), data.pop("raw_output")
    tb = data.pop("traceback")
    width = max(map(len, data))
    for key, value in data.items():
        click.echo(f"{key.ljust(width)}  {sanitize('' if value is None else str(value))}")
    if tb:
        click.echo("traceback:")
        for line in tb.rstrip("\n").split("\n"):
            click.echo("  " + sanitize(line))


if __name__ == "__main__":
    main()
