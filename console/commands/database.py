"""The database: its schema, the embedded server, and clearing out old rows."""
import sys

import click

from jobconsole import api

from .. import render
from .common import Group, json_option


@click.command("init-db")
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


@click.group("db", cls=Group)
def server():
    """The embedded PostgreSQL server (used when no DSN is configured)."""


@server.command("start")
def start():
    """Start the embedded server (reuse it if it runs) and print its DSN."""
    click.echo(api.start_embedded())


@server.command("stop")
@click.option("--force", is_flag=True,
              help="Stop it even though monitors or workers are connected.")
def stop(force):
    """Stop the embedded server (not while monitors or workers use it, unless --force)."""
    click.echo("stopped" if api.stop_embedded(force=force) else "not running")


@server.command("status")
@json_option
def status(as_json):
    """Say whether the embedded server runs, where, and its DSN."""
    info = api.embedded_status()
    if as_json:
        click.echo(render.to_json(info))
        return
    for key, value in info.items():
        click.echo(f"{key}: {'' if value is None else value}")
    if not info.get("running"):
        sys.exit(3)


@click.command()
@click.option("--days", type=int, default=7, show_default=True,
              help="Delete what finished more than this many days ago (at least 1).")
@click.pass_obj
def vacuum(dsn, days):
    """Delete finished tasks (with their logs) and ended monitors and workers."""
    counts = api.vacuum(dsn, days)
    click.echo(f"deleted {counts['tasks']} tasks and {counts['monitors']} monitors")


@click.command()
@click.pass_obj
def recount(dsn):
    """Correct the counts of tasks by status to the task table's (monitors do it hourly)."""
    wrong = api.recount(dsn)
    click.echo(f"recounted: {wrong} count{'' if wrong == 1 else 's'} corrected")


COMMANDS = [init_db, server, vacuum, recount]
