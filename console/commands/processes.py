"""Processes: run a monitor, and see and steer the monitors and workers of every host."""
import logging
import sys

import click

from jobconsole import api
from jobconsole.errors import BadInput

from .. import columns
from .common import json_option, output


@click.command()
@click.option("--domain", default="default", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="A fixed number of workers.")
@click.option("--min-workers", type=click.IntRange(min=0), help="Keep at least this many.")
@click.option("--max-workers", type=click.IntRange(min=1), help="Scale up to this many.")
@click.option("--max-runs", type=click.IntRange(min=1), help="Recycle a worker after N tasks.")
@click.option("--max-mem", type=click.IntRange(min=1), metavar="MB",
              help="Recycle a worker once its memory passes MB.")
@click.option("--allow-shipped-code", is_flag=True,
              help="Also run functions shipped as their source (myjobs' jobs): whatever "
                   "anyone who can write to the database stored.")
@click.option("--label", default="", help="Run beside this host's other monitors of the "
              "domain: each needs its own label.")
@click.option("--tmux", metavar="SESSION", help="Run each worker in a window of this tmux "
              "session, where you can attach and watch it.")
@click.option("--tmux-socket", metavar="NAME", help="The tmux server to use (tmux -L NAME).")
@click.pass_obj
def monitor(dsn, domain, workers, min_workers, max_workers, max_runs, max_mem,
            allow_shipped_code, label, tmux, tmux_socket):
    """Run a monitor for a domain in the foreground (Ctrl-C or SIGTERM stops it)."""
    if workers is not None and (min_workers is not None or max_workers is not None):
        raise BadInput("give --workers, or --min-workers/--max-workers, not both")
    if workers is not None:
        min_workers = max_workers = workers
    min_workers = 1 if min_workers is None else min_workers
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    sys.exit(api.run_monitor(dsn, domain, min_workers=min_workers, max_workers=max_workers,
                             max_runs=max_runs, max_mem=max_mem,
                             allow_shipped_code=allow_shipped_code, label=label, tmux=tmux,
                             tmux_socket=tmux_socket))


@click.command("list-monitors")
@click.option("--all", "show_all", is_flag=True, help="Include stopped and dead monitors.")
@json_option
@click.pass_obj
def list_monitors(dsn, show_all, as_json):
    """Monitors, with their workers and how fresh their heartbeat is."""
    output(as_json, api.list_monitors(dsn, all=show_all), columns.MONITORS)


@click.command("shutdown-monitor")
@click.argument("monitor_id", type=int)
@click.option("--now", is_flag=True, help="Kill the workers instead of letting them finish.")
@click.pass_obj
def shutdown_monitor(dsn, monitor_id, now):
    """Ask a monitor, on any host, to stop."""
    api.shutdown_monitor(dsn, monitor_id, now=now)
    click.echo(f"asked monitor {monitor_id} to stop" + (" now" if now else ""))


@click.command("list-workers")
@click.option("--all", "show_all", is_flag=True, help="Include stopped and dead workers.")
@json_option
@click.pass_obj
def list_workers(dsn, show_all, as_json):
    """Workers, with the task each one runs."""
    output(as_json, api.list_workers(dsn, all=show_all), columns.WORKERS)


@click.command("shutdown-worker")
@click.argument("worker_id", type=int)
@click.pass_obj
def shutdown_worker(dsn, worker_id):
    """Ask a worker to exit once its current task is done."""
    api.shutdown_worker(dsn, worker_id)
    click.echo(f"asked worker {worker_id} to stop after its task")


@click.command("kill-worker")
@click.argument("worker_id", type=int)
@click.pass_obj
def kill_worker(dsn, worker_id):
    """Have a worker killed now by its monitor; its task fails as a crash."""
    api.kill_worker(dsn, worker_id)
    click.echo(f"asked for worker {worker_id} to be killed")


COMMANDS = [monitor, list_monitors, shutdown_monitor, list_workers, shutdown_worker,
            kill_worker]
