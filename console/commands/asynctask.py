"""rex.asynctask's daemon and queues: `asynctask-workers`, `list-queues`, `submit`.

The daemon takes rex's settings by their own names, so that a rex command line works
with `jobconsole` in place of `rex`:

    jobconsole asynctask-workers --scheduler \\
        --set asynctask_workers='{"queue_foo": "my_worker"}' \\
        --set asynctask_transport=redis://localhost \\
        --set asynctask_scheduled_workers='[{"worker": "my_worker", "second": "*/5"}]'
"""
import json
import logging
import sys

import click

from jobconsole import api
from jobconsole.compat import asynctask
from jobconsole.errors import BadInput

from .. import columns
from .common import json_option, output

SETTINGS = ("asynctask_workers", "asynctask_transport", "asynctask_scheduled_workers")


def _settings(pairs):
    found = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq:
            raise BadInput(f"--set takes NAME=VALUE, got {pair!r:.80}")
        if key not in SETTINGS:
            raise BadInput(f"unknown setting {key!r:.60}: the settings are {', '.join(SETTINGS)}")
        found[key] = value
    return found


@click.command("asynctask-workers")
@click.option("--set", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A rex.asynctask setting: asynctask_workers (JSON object of queue to "
                   "worker), asynctask_transport (URI), asynctask_scheduled_workers "
                   "(JSON list of entries).")
@click.option("--scheduler", is_flag=True,
              help="Make the scheduled entries cron schedules (any number of daemons may: "
                   "each entry still fires once).")
@click.option("--domain", default="default", show_default=True)
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes (default: one per worker name).")
@click.option("--max-runs", type=click.IntRange(min=1), help="Recycle a worker after N tasks.")
@click.option("--max-mem", type=click.IntRange(min=1), metavar="MB",
              help="Recycle a worker once its memory passes MB.")
@click.pass_obj
def asynctask_workers(dsn, pairs, scheduler, domain, workers, max_runs, max_mem):
    """Run rex.asynctask's daemon: each payload of each queue becomes a task that this
    daemon's monitor runs (Ctrl-C or SIGTERM stops it)."""
    settings = _settings(pairs)
    if "asynctask_workers" not in settings:
        raise BadInput('asynctask-workers needs --set asynctask_workers=\'{"queue": "worker"}\'')
    queues = asynctask.parse_workers(settings["asynctask_workers"])
    scheduled = asynctask.parse_scheduled(settings.get("asynctask_scheduled_workers", "[]"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    sys.exit(asynctask.run_workers(
        dsn, queues, transport=settings.get("asynctask_transport"), scheduled=scheduled,
        scheduler=scheduler, domain=domain, min_workers=workers, max_workers=workers,
        max_runs=max_runs, max_mem=max_mem))


@click.command("submit")
@click.argument("queue")
@click.argument("payload")
@click.option("--transport", "uri", metavar="URI",
              help="Default: $JOBCONSOLE_TRANSPORT, else jobconsole's own database.")
@click.pass_obj
def submit(dsn, queue, payload, uri):
    """Submit a JSON payload to a queue, as transport.submit_task does."""
    try:
        value = json.loads(payload)
    except ValueError as exc:
        raise BadInput(f"the payload is not JSON: {exc}") from None
    with api.transport(dsn, uri) as transport:
        transport.submit_task(queue, value)
    click.echo(f"submitted to {queue} on {transport.shown}")


@click.command("list-queues")
@json_option
@click.pass_obj
def list_queues(dsn, as_json):
    """Queues of payloads: jobconsole's own, and those running daemons serve."""
    output(as_json, api.list_queues(dsn), columns.QUEUES)


COMMANDS = [asynctask_workers, submit, list_queues]
