"""The demo: the console on a realistic mix of tasks, on the embedded database."""
import os

import click

from jobconsole import api

from ..demo import queue_mix
from ..launch import open_console


@click.command()
@click.option("--workers", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--console/--no-console", default=True, show_default=True,
              help="Open the console on the demo.")
@click.pass_obj
def demo(dsn, workers, console):
    """Register demo operations, start a demo monitor, queue a realistic mix and two
    cron schedules, and open the console on it."""
    embedded = not (dsn or os.environ.get(api.ENV_DSN))
    dsn = api.resolve_dsn(dsn)
    if running := api.serving_monitor(dsn, "demo"):
        click.echo(f"demo monitor {running.id} already runs (pid {running.pid})")
    else:
        pid, log_path = api.start_detached_monitor(dsn, "demo", workers=workers)
        click.echo(f"started a demo monitor (pid {pid}, log {log_path})")
    queued = queue_mix(dsn)
    click.echo(f"queued tasks {', '.join(str(t.id) for t in queued)}")
    if console:
        open_console(dsn)
    # they outlive the console on purpose (the demo's tasks run on): say how to end them
    steps = []
    if monitor := api.serving_monitor(dsn, "demo"):
        steps.append(f"jobconsole shutdown-monitor {monitor.id} --now")
    if embedded:
        steps.append("jobconsole db stop")
    if steps:
        what = ("The demo monitor and the embedded database keep" if embedded and monitor
                else "The demo monitor keeps" if monitor else "The embedded database keeps")
        click.echo(f"{what} running in the background; to stop: {' && '.join(steps)}")


COMMANDS = [demo]
