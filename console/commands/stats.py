"""`jobconsole stats`: the overview's figures, for scripts and cron."""
import dataclasses

import click

from jobconsole import api

from .. import render
from .common import json_option


@click.command("stats")
@json_option
@click.pass_obj
def stats(dsn, as_json):
    """Throughput, backlog, failures and durations per operation, and workers per host:
    the console's overview (key 0), read from counters, never by scanning tasks."""
    figures = api.stats(dsn)
    if as_json:
        click.echo(render.to_json(dataclasses.asdict(figures)))
        return
    for window in ("5m", "60m"):
        done, failed, aborted = figures.rates[window]
        click.echo(f"ended per second, last {window:>3}: {done:8.2f} done {failed:8.2f} failed "
                   f"{aborted:8.2f} aborted")
    click.echo()
    click.echo(render.table(
        ["DOMAIN", "QUEUED", "WAITING", "OLDEST QUEUED"],
        [[d, q, w, "" if age is None else render.seconds_text(age)]
         for d, q, w, age in figures.backlog]) if figures.backlog else "backlog: none")
    click.echo()
    click.echo(render.table(
        ["OPERATION (LAST HOUR)", "ENDED", "FAILED", "FAILURE RATE", "P50", "P95"],
        [[name, ended, failed, f"{rate * 100:.1f}%", render.upto(p50), render.upto(p95)]
         for name, ended, failed, rate, p50, p95 in figures.operations])
        if figures.operations else "no task ended in the last hour")
    click.echo()
    click.echo(render.table(
        ["HOST", "BUSY", "IDLE", "CPU", "MEMORY"],
        [[host, busy, idle, _percent(cpu), _percent(mem)]
         for host, busy, idle, cpu, mem in figures.hosts]) if figures.hosts else "no monitor runs")


def _percent(value):
    return "" if value is None else f"{value:.0f}%"


COMMANDS = [stats]
