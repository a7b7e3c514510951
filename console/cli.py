"""The `jobconsole` command: the console with no subcommand, and its CLI twins.

The commands live in commands/, a module per theme. Errors a user can cause
(jobconsole.errors) print one line on stderr and exit with the error's code; nothing
here prints a traceback for them.
"""
import click

from jobconsole import api

from .commands import (asynctask, database, demo, operations, processes, schedules, serve,
                       stats, tasks)
from .commands.common import Group
from .launch import open_console


def load_keymap(path):
    """The user's keymap, checked against the console's binding ids (keymap.py)."""
    from .help import binding_ids
    from .keymap import load
    return load(path, known=binding_ids())


@click.group(cls=Group, invoke_without_command=True)
@click.option("--dsn", envvar=api.ENV_DSN, default=None, metavar="DSN",
              help="libpq DSN of the database (default: $JOBCONSOLE_DSN, then the embedded "
                   "server)")
@click.option("--read-only", is_flag=True, help="Console: hide and refuse every action.")
@click.option("--refresh", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              metavar="SECONDS", help="Console: fallback refresh when no notification comes.")
@click.option("--owner", help="Console: show only this owner's tasks.")
@click.option("--keymap", type=click.Path(dir_okay=False), metavar="FILE",
              help="Console: a TOML file of binding ids and keys (default: "
                   "$XDG_CONFIG_HOME/jobconsole/keymap.toml, if it exists).")
@click.pass_context
def cli(ctx, dsn, read_only, refresh, owner, keymap):
    """jobconsole: a PostgreSQL job queue with a terminal operations console.

    With no command, open the console.
    """
    ctx.obj = dsn
    if ctx.invoked_subcommand is None:
        open_console(dsn, read_only=read_only, refresh=refresh, owner=owner,
                     keymap=load_keymap(keymap))


for _theme in (database, operations, processes, tasks, stats, schedules, asynctask, serve,
               demo):
    for _command in _theme.COMMANDS:
        cli.add_command(_command)


def main():
    cli(prog_name="jobconsole")


if __name__ == "__main__":
    main()
