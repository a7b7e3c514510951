"""rex.asynctask on jobconsole: `get_transport`, `AsyncTaskWorker`, and the
`asynctask-workers` daemon (docs/architecture.md; README "Coming from rex.asynctask").

    from jobconsole.compat.asynctask import get_transport, AsyncTaskWorker

A worker is an operation named after it: each payload it processes is a task whose
input is the payload, so the console and the CLI show, abort and kill it like any
other. The daemon reads each configured queue (intake.py) and runs a monitor whose
workers process the tasks; its scheduled entries are jobconsole cron schedules, so any
number of daemons may be given --scheduler and each entry still fires once.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any, ClassVar

from .. import checks, db, hosts, operations, queues, registry
from . import classes
from ..errors import BadInput
from ..intake import Intake, wait_all
from ..transports import ENV_TRANSPORT, Transport, check_queue, get_transport as _get

__all__ = ["get_transport", "AsyncTaskWorker", "run_workers", "parse_workers",
           "parse_scheduled", "cron_rule", "ENV_TRANSPORT"]

log = logging.getLogger("jobconsole.asynctask")


def get_transport(uri: str | None = None) -> Transport:
    """rex.asynctask's call: the transport `uri` names; with none, $JOBCONSOLE_TRANSPORT,
    else jobconsole's own database (as $JOBCONSOLE_DSN or the embedded server)."""
    return _get(uri)


class AsyncTaskWorker:
    """Subclass with a `name` and `process(self, payload)`: defining the class declares
    the operation `name`, which `jobconsole register-operations` records as it does
    `@task` functions. `self.logger` and what `process` prints go to the task's log."""
    name: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.logger = logging.getLogger(f"asynctask.{self.name}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        classes.declare(cls, "process", lambda worker, task: worker.process(task.input))

    def process(self, payload: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__}.process")


# -- the daemon's settings -----------------------------------------------------------------

def parse_workers(text: str | dict[str, str]) -> dict[str, str]:
    """asynctask_workers: a JSON object of queue -> worker name."""
    value = _json("asynctask_workers", text)
    if not isinstance(value, dict) or not value:
        raise BadInput('asynctask_workers must be a JSON object of queue names to worker '
                       'names, like {"queue_foo": "my_worker"}')
    for queue, worker in value.items():
        check_queue(queue)
        if not isinstance(worker, str) or not worker:
            raise BadInput(f"asynctask_workers: queue {queue!r} needs a worker name, "
                           f"got {worker!r:.60}")
    return value


# the fields of a scheduled entry, most significant last, as APScheduler names them
_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_scheduled(text: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """asynctask_scheduled_workers: a JSON list of {"worker": name, <field>: value}."""
    value = _json("asynctask_scheduled_workers", text)
    if not isinstance(value, list):
        raise BadInput('asynctask_scheduled_workers must be a JSON list of entries like '
                       '{"worker": "my_worker", "second": "*/5"}')
    for entry in value:
        cron_rule(entry)
    return value


def cron_rule(entry: Any) -> str:
    """The six-field cron rule (seconds first) of a scheduled entry.

    Its fields are rex.asynctask's (APScheduler's): a field not given is '*' when it is
    more significant than the least significant one given, and its least value when
    less; day_of_week counts from 0 = Monday, where cron counts from 0 = Sunday, so its
    numbers become day names.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("worker"), str) \
            or not entry["worker"]:
        raise BadInput(f"a scheduled entry needs a worker name: {entry!r:.80}")
    unknown = set(entry) - {"worker", *_FIELDS}
    if unknown:
        raise BadInput(f"a scheduled entry has unknown fields {', '.join(sorted(unknown))}: "
                       f"its fields are {', '.join(_FIELDS)}")
    given = [i for i, f in enumerate(_FIELDS) if f in entry]
    if not given:
        raise BadInput(f"a scheduled entry needs at least one of {', '.join(_FIELDS)}: "
                       f"{entry!r:.80}")
    least = given[0]
    fields = []
    for i, name in enumerate(_FIELDS):
        if name in entry:
            value = str(entry[name])
            if not value or not value.isprintable() or " " in value.strip():
                raise BadInput(f"scheduled entry for {entry['worker']}: {name} {value!r} "
                               f"is not a cron field")
            fields.append(_weekdays(value.strip()) if name == "day_of_week" else value.strip())
        elif i < least:
            fields.append("1" if name in ("day", "month") else "0")
        else:
            fields.append("*")
    rule = " ".join(fields)
    from .. import cron
    cron.check(rule)
    return rule


def _weekdays(field: str) -> str:
    def name(match: re.Match[str]) -> str:
        number = int(match[0])
        if number > 6:
            raise BadInput(f"day_of_week {field!r}: days count from 0 (Monday) to 6 (Sunday)")
        return _DAYS[number]
    # a step (*/2) counts days, not names them
    parts = field.split("/")
    parts[0] = re.sub(r"\d+", name, parts[0])
    return "/".join(parts)


def _json(setting: str, text: Any) -> Any:
    if not isinstance(text, str):     # given as Python values, by run_workers' callers
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{setting} is not JSON: {exc}") from None


# -- the daemon -----------------------------------------------------------------------------

def run_workers(dsn: str | None, workers: dict[str, str], *, transport: str | None = None,
                scheduled: list[dict[str, Any]] | None = None, scheduler: bool = False,
                domain: str = registry.DEFAULT_DOMAIN, min_workers: int | None = None,
                max_workers: int | None = None, max_runs: int | None = None,
                max_mem: int | None = None) -> int:
    """The `asynctask-workers` daemon: reads each queue of `workers` (queue -> worker
    name) from `transport`, and runs a monitor of `domain` whose workers process what it
    reads; with `scheduler`, first makes each `scheduled` entry a cron schedule. Runs
    until the monitor is stopped (a signal or a request); returns its exit code."""
    from .. import api
    dsn = db.resolve(checks.dsn(dsn))
    workers = parse_workers(workers)
    scheduled = parse_scheduled(scheduled or [])
    known = {op.name for op in operations.list_operations(dsn, domain=domain,
                                                          host=hosts.this_host())}
    wanted = set(workers.values()) | ({e["worker"] for e in scheduled} if scheduler else set())
    missing = sorted(wanted - known)
    if missing:
        raise BadInput(f"unknown worker {', '.join(missing)}: register its module first "
                       f"(jobconsole register-operations FILE|MODULE)")
    made = [_get(transport, dsn) for _ in workers]     # fails here, in one line, if unreachable
    if scheduler:
        for entry in scheduled:
            api.prepare(dsn, entry["worker"], cron_rule(entry), domain=domain,
                        metadata={"asynctask": "scheduled"})
    stop = threading.Event()
    intakes = [Intake(dsn, t, queue, worker, domain, stop)
               for t, (queue, worker) in zip(made, workers.items())]
    threads: list[threading.Thread] = list(intakes)
    if made[0].scheme != "pgsql":     # pgsql's queues are read where they are, live
        threads.append(threading.Thread(target=_publish, args=(dsn, transport, stop),
                                        name="queue depths", daemon=True))
    for thread in threads:
        thread.start()
    count = min_workers if min_workers is not None else len(set(workers.values()))
    try:
        return api.run_monitor(dsn, domain, min_workers=count, max_workers=max_workers,
                               max_runs=max_runs, max_mem=max_mem)
    finally:
        stop.set()
        wait_all(intakes, 5.0)


# the console shows a daemon's queues as long as it renews them
PUBLISH_EVERY = 2.0


def _publish(dsn: str, uri: str | None, stop: threading.Event) -> None:
    """Every two seconds, the depth and oldest age of each queue of a broker's or a
    directory's transport, into jobconsole.queue_seen."""
    transport = None
    while True:
        try:
            transport = transport or _get(uri, dsn)
            seen = transport.queues()
            with db.pooled(dsn) as conn:
                queues.publish(conn, seen)
        except Exception as exc:    # a broker away: the next round tries again
            log.warning("queue depths: %s", exc)
        if stop.wait(PUBLISH_EVERY):
            return
