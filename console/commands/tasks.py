"""Tasks: queue one, list them, read one and its log, abort, relaunch, delete."""
import sys

import click

from jobconsole import api
from jobconsole.errors import BadInput, JobconsoleError
from jobconsole.records import TASK_STATUSES

from .. import columns, render
from .common import (EXIT_TASK_FAILED, json_arg, json_option, output, show, task_options,
                     time_arg)


@click.command()
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
    task = api.schedule(dsn, operation, json_arg(input_text, "--input"), domain=domain,
                        host=host, owner=owner, metadata=json_arg(metadata, "--metadata"),
                        priority=priority, timeout=timeout, delay=delay,
                        run_at=time_arg(run_at, "--at"), retries=retries, backoff=backoff,
                        depends_on=depends_on, workflow=workflow)
    if not wait:
        click.echo(render.to_json({"id": task.id}) if as_json else task.id)
        return
    info = task.join().info()
    show(info, as_json)
    if info.status != "done":
        sys.exit(EXIT_TASK_FAILED)


@click.command("list-tasks")
@click.option("--status", type=click.Choice(TASK_STATUSES))
@click.option("--domain")
@click.option("--owner")
@click.option("--operation")
@click.option("--workflow", metavar="NAME")
@click.option("--where", metavar="QUERY", help="a query, as in the console's filter: "
              "'status:failed op:report owner:alice kind:timeout age>1h dur>30s', free "
              "text, '!' to negate")
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@click.pass_obj
def list_tasks(dsn, status, domain, owner, operation, workflow, where, limit, as_json):
    """Tasks, newest first."""
    rows = api.list_tasks(dsn, status=status, domain=domain, owner=owner,
                          operation=operation, workflow=workflow, where=where, limit=limit)
    output(as_json, rows, columns.TASKS)


@click.command("show-task")
@click.argument("task_id", type=int)
@json_option
@click.pass_obj
def show_task(dsn, task_id, as_json):
    """Everything about one task but its log."""
    task = api.get_task(dsn, task_id)
    info = task.info()
    show(info, as_json, task.dependencies(), task.attempts() if info.attempt > 1 else ())


@click.command("show-workflow")
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
    click.echo(f"workflow {api.sanitize(name)}: {info.summary}")
    click.echo(render.table(["id", "status", "operation", "queued", "duration", "error"],
                            [[t.id, t.status, t.operation, render.when(t.queued),
                              render.duration(t.started, t.finished), t.error_kind]
                             for t in reversed(rows)]))


@click.command("log-task")
@click.argument("task_id", type=int)
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the task finishes.")
@click.option("--prefix", is_flag=True,
              help="Start each line with its source, level and time, as rework prints it.")
@click.pass_obj
def log_task(dsn, task_id, follow, prefix):
    """Print a task's log."""
    task = api.get_task(dsn, task_id)
    rows = task.follow(detailed=prefix) if follow else task.logs(detailed=prefix)
    for row in rows:
        click.echo(api.sanitize(rework_line(*row[1:]) if prefix else row[1]))


def rework_line(line, ts, source):
    """`stdout:INFO: 2018-11-28 16:08:27: I am running`: rework's log line. A logging
    record's line is stored with its level and logger in front: rework has them in the
    prefix instead. What reached the worker's stdout or stderr unseen by capturelogs
    has no known source: shown as stdout, where rework's print goes."""
    source = source or "stdout:INFO"
    name, _, level = source.rpartition(":")
    ours = f"{level} {name}: "
    if name not in ("stdout", "stderr") and line.startswith(ours):
        line = line[len(ours):]
    return f"{source}: {ts.astimezone():%Y-%m-%d %H:%M:%S}: {line}"


def bulk(dsn, task_id, where, yes, verb, act):
    """Act on one task, or on every task the query `where` matches when the user
    confirms (--yes, or at the prompt): those ids, fixed then; tasks that match later
    are not touched. Prints what happened to each, and a count."""
    if (task_id is None) == (where is None):
        raise BadInput(f"give a task id or --where QUERY to {verb}")
    if task_id is not None:
        click.echo(act(task_id))
        return
    ids = api.task_ids(dsn, where)
    if not ids:
        click.echo(f"no task matches {where!r}")
        return
    if not yes:
        click.confirm(f"{verb.capitalize()} {len(ids)} task{'s' * (len(ids) != 1)} matching "
                      f"{where!r} ({render.id_list(ids)})?", abort=True, err=True)
    done = 0
    for tid in ids:
        try:
            click.echo(act(tid))
            done += 1
        except JobconsoleError as exc:     # it changed since it matched: say so, go on
            click.echo(f"task {tid}: {exc}", err=True)
    click.echo(f"{verb}: {done} of {len(ids)} tasks matching {where!r}", err=True)


def where_options(command):
    command = click.argument("task_id", type=int, required=False)(command)
    command = click.option("--where", metavar="QUERY",
                           help="every task this query matches now (e.g. 'status:failed "
                                "op:report'), instead of one id")(command)
    return click.option("--yes", is_flag=True, help="do not ask before acting on "
                        "what --where matches")(command)


@click.command("abort-task")
@where_options
@click.pass_obj
def abort_task(dsn, task_id, where, yes):
    """Abort a task (or all a query matches): a queued one never runs, a running one's
    worker is killed."""
    bulk(dsn, task_id, where, yes, "abort", lambda tid: f"task {tid} {api.abort(dsn, tid)}")


@click.command("relaunch-task")
@where_options
@click.pass_obj
def relaunch_task(dsn, task_id, where, yes):
    """Queue a new task with the same operation and input (for each task a query
    matches); print its id."""
    def relaunch(tid):
        new = api.relaunch(dsn, tid).id
        return new if where is None else f"task {tid} relaunched as {new}"
    bulk(dsn, task_id, where, yes, "relaunch", relaunch)


@click.command("delete-task")
@where_options
@click.pass_obj
def delete_task(dsn, task_id, where, yes):
    """Delete a task that is not running, with its log (or all a query matches)."""
    def delete(tid):
        api.delete(dsn, tid)
        return f"task {tid} deleted"
    bulk(dsn, task_id, where, yes, "delete", delete)


COMMANDS = [schedule, list_tasks, show_task, show_workflow, log_task, abort_task,
            relaunch_task, delete_task]
