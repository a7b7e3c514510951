"""What the commands share: one-line errors with exit codes, the options every task
takes, reading JSON and times from arguments, printing records for people or scripts.
"""
import dataclasses
import json
from datetime import datetime

import click
import psycopg

from jobconsole.api import sanitize
from jobconsole.errors import (BadInput, DatabaseUnavailable, JobconsoleError, SchemaError,
                               first_line)
from jobconsole.records import size_text

from .. import render
from .database_args import hoist_database

EXIT_TASK_FAILED = 1


class Group(click.Group):
    """Turns jobconsole errors into one line and an exit code."""

    def parse_args(self, ctx, args):
        if ctx.parent is None:      # the top level: the whole command line
            try:
                args = hoist_database(args)
            except BadInput as exc:
                fail(ctx, str(exc), exc.exit_code)
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JobconsoleError as exc:
            fail(ctx, str(exc), exc.exit_code)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            # a subcommand's arguments are parsed in here: its usage errors too are one
            # line, as the README promises of every error
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            fail(ctx, exc.format_message() + where, BadInput.exit_code)
        except psycopg.OperationalError as exc:
            fail(ctx, f"lost the database: {first_line(exc)}", DatabaseUnavailable.exit_code)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                psycopg.errors.UndefinedFunction) as exc:
            fail(ctx, f"the jobconsole schema does not match this jobconsole ({first_line(exc)})"
                 ": run `jobconsole init-db`", SchemaError.exit_code)
        except psycopg.Error as exc:
            fail(ctx, f"database error: {first_line(exc)}", 1)
        except UnicodeError as exc:   # an argument of undecodable bytes, say
            fail(ctx, f"not valid text: {exc}", BadInput.exit_code)
        except KeyboardInterrupt:
            fail(ctx, "interrupted", 130)


def fail(ctx, message, code):
    click.echo(f"jobconsole: {sanitize(message, keep_colours=False)}", err=True)
    ctx.exit(code)


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


def json_arg(text, option):
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{option} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:   # an integer of 5,000 digits, [[[[...
        raise BadInput(f"{option} is JSON that cannot be read here: {exc}") from None


def time_arg(text, option):
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} is not an ISO 8601 time (like 2026-12-01T08:30 or "
                       f"2026-12-01 08:30+01:00): {text!r}") from None


def output(as_json, items, columns):
    """Records as JSON for scripts, or as the table of these columns (columns.py)."""
    if as_json:
        click.echo(render.to_json([dataclasses.asdict(i) for i in items]))
    else:
        click.echo(render.table([c.header for c in columns],
                                [[c.text(i) for c in columns] for i in items]))


def show(info, as_json, dependencies=None, attempts=()):
    """One task, every field on a line of its own, its failed attempts (when it was
    retried) and its traceback last."""
    data = info.as_json()
    if dependencies is not None:
        data["depends_on"], data["dependents"] = dependencies
    if as_json:
        data["attempts"] = [dataclasses.asdict(a) for a in attempts]
        click.echo(render.to_json(data))
        return
    for key in ("input", "output", "metadata", "facet"):
        raw = getattr(info, f"raw_{key}", None)
        data[key] = size_text(raw) if raw is not None else json.dumps(data[key])
    data.pop("raw_input"), data.pop("raw_output")
    tb = data.pop("traceback")
    width = max(map(len, data))
    for key, value in data.items():
        click.echo(f"{key.ljust(width)}  {sanitize('' if value is None else str(value))}")
    if attempts:
        click.echo("attempts that failed before this one:")
        for a in attempts:
            last = (a.traceback or "").rstrip("\n").rsplit("\n", 1)[-1]
            click.echo(f"  {a.attempt}  failed ({a.error_kind})  "
                       f"{render.duration(a.started, a.finished) if a.started else ''}  "
                       f"worker {a.worker_id}  {sanitize(last)}")
    if tb:
        click.echo("traceback:")
        for line in tb.rstrip("\n").split("\n"):
            click.echo("  " + sanitize(line))
