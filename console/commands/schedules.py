"""Cron schedules: prepare one, list them and their plan, pause, resume, run now."""
import click

from jobconsole import api
from jobconsole.records import MISSED_POLICIES

from .. import columns, render
from .common import json_arg, json_option, output, task_options


@click.command()
@click.argument("operation")
@click.argument("rule")
@task_options("each task")
@click.option("--tz", metavar="ZONE", help="The rule's time zone (default: this machine's).")
@click.option("--missed", type=click.Choice(MISSED_POLICIES), default="once",
              show_default=True,
              help="Fire times missed while no monitor ran: run once on recovery, or skip.")
@click.pass_obj
def prepare(dsn, operation, rule, input_text, domain, host, owner, metadata, priority, tz,
            missed):
    """Schedule OPERATION by a cron RULE: five fields (minute hour day month weekday), or
    six with seconds first. Preparing the same again updates it."""
    info = api.prepare(dsn, operation, rule, json_arg(input_text, "--input"), domain=domain,
                       host=host, owner=owner, metadata=json_arg(metadata, "--metadata"),
                       priority=priority, tz=tz, missed=missed)
    click.echo(f"prepared schedule {info.id}: {operation} at {rule!r} ({info.timezone}), "
               f"next {render.when(info.next_fire)}")


@click.command()
@click.argument("schedule_id", type=int)
@click.pass_obj
def unprepare(dsn, schedule_id):
    """Delete a schedule (the tasks it made stay)."""
    api.unprepare(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} deleted")


@click.command("list-scheduled")
@json_option
@click.pass_obj
def list_scheduled(dsn, as_json):
    """Cron schedules, with their next fire time and what their last one made."""
    output(as_json, api.list_scheduled(dsn), columns.SCHEDULES)


@click.command("scheduled-plan")
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


@click.command("pause-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def pause_schedule(dsn, schedule_id):
    """Stop a schedule from firing until it is resumed."""
    api.pause_schedule(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} paused")


@click.command("resume-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def resume_schedule(dsn, schedule_id):
    """Resume a paused schedule from its next fire time after now."""
    info = api.resume_schedule(dsn, schedule_id)
    click.echo(f"schedule {schedule_id} resumed, next {render.when(info.next_fire)}")


@click.command("run-schedule")
@click.argument("schedule_id", type=int)
@click.pass_obj
def run_schedule(dsn, schedule_id):
    """Queue a task of a schedule now, outside its rule; print its id."""
    click.echo(api.run_schedule(dsn, schedule_id).id)


COMMANDS = [prepare, unprepare, list_scheduled, scheduled_plan, pause_schedule,
            resume_schedule, run_schedule]
