"""A worker in the calling process that runs what is queued and returns when nothing is
left (myjobs' worker_inprocess_start): for tests and debugging, where a breakpoint in a
job's code should stop the caller's own process.

It is a worker like the others (worker.py): it claims, logs, beats and records results
with the same statements, and the console lists it, of kind 'inprocess'. Its
supervisor is the calling process itself, recorded as a monitor row with a label of
its own, beside any monitor of the host. What a monitor does by killing a process is
out of its reach: nothing may kill the caller, so a timeout or an abort of a job that
runs here takes effect when the job returns, and a worker declared dead stops after
its job instead of being fenced.
"""
from __future__ import annotations

import itertools
import os

from . import db, hosts, processes
from .errors import BadInput
from .worker import Worker

_count = itertools.count(1)


class InProcessWorker(Worker):
    child = False     # its parent is the caller's

    def fence(self, why: str) -> None:
        self.stop_reason = self.stop_reason or why

    def turn(self) -> str | None:
        if not self.hand and not self.stop_reason and not self.claim():
            return "nothing left to run"
        return super().turn()


def run_queued(dsn: str, domain: str = "default", allow_shipped_code: bool = True) -> int:
    """Run the queued tasks of `domain` that this process can run (its registered
    operations, and shipped functions if allowed) here, one at a time, until none is
    left; returns how many ran."""
    host = hosts.this_host()
    label = f"inprocess-{os.getpid()}-{next(_count)}"
    options = dict(min_workers=1, max_workers=1, allow_shipped_code=allow_shipped_code,
                   inprocess=True)
    with db.pooled(dsn) as conn:
        with conn.transaction():
            mid = processes.add_monitor(conn, host, domain, options, label)
            wid = processes.add_worker(conn, mid, host, domain, "inprocess")
    worker = InProcessWorker(wid, dsn)
    try:
        reason = worker.run()
    finally:
        worker.ended = True
        if worker.conn is not None:
            worker.conn.close()
        with db.pooled(dsn) as conn:
            processes.monitor_stopped(conn, mid)
            conn.execute(
                "update jobconsole.worker set status = 'stopped', finished = now(), "
                "reason = coalesce(reason, %s) where id = %s and status <> 'stopped'",
                ("its process stopped it", wid))
    if reason == "not expected to start":
        raise BadInput(f"in-process worker {wid} was not allowed to start")
    return worker.runs

