"""Intake: the loop that turns each payload of a transport's queue into a task.

A payload is acknowledged to its transport only once its task is durably recorded (the
pooled connections commit synchronously). Payloads are taken in batches, whose tasks one
commit records, so that the wait for the disk is shared. So a process killed anywhere in between
leaves the payload claimed, and `recover` or the broker gives it back: nothing is lost,
and a payload becomes two tasks only if the kill fell between the commit and the ack.
On the pgsql transport of jobconsole's own database the two are one transaction, and
even that cannot happen.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from . import db, sanitize, tasks
from .errors import BadInput, JobconsoleError
from .transports import Transport

log = logging.getLogger("jobconsole.intake")

# pauses between tries while the database or the broker is away, growing like a
# worker's (worker.py)
_FIRST_PAUSE, _LAST_PAUSE = 0.5, 5.0


class Intake(threading.Thread):
    """Reads `queue` of `transport` until `stop` is set; each payload becomes a task of
    `operation` in `domain`, whose metadata names the queue and transport."""

    def __init__(self, dsn: str, transport: Transport, queue: str, operation: str,
                 domain: str | None, stop: threading.Event) -> None:
        super().__init__(name=f"intake {queue}", daemon=True)
        self.dsn, self.transport, self.queue = dsn, transport, queue
        self.operation, self.domain, self.stop = operation, domain, stop

    def run(self) -> None:
        pause = _FIRST_PAUSE
        while not self.stop.is_set():
            try:
                back = self.transport.recover(self.queue)
                if back:
                    log.warning("queue %s: %s payloads of consumers that are gone put back",
                                sanitize.sanitize(self.queue), back)
                while not self.stop.is_set():
                    self.take_batch()
                    pause = _FIRST_PAUSE
            except BadInput as exc:
                # a payload no task can hold (over the size limit): it stays where it is,
                # for a person to see; taking the next ones would reorder the queue
                log.error("queue %s: intake stopped: %s", sanitize.sanitize(self.queue),
                          sanitize.sanitize(str(exc)))
                return
            except (JobconsoleError, psycopg.OperationalError, OSError, ConnectionError) as exc:
                log.warning("queue %s: %s: trying again in %g s", sanitize.sanitize(self.queue),
                            sanitize.sanitize(str(exc) or type(exc).__name__), pause)
                self.stop.wait(pause)
                pause = min(2 * pause, _LAST_PAUSE)
        self.transport.close()

    def take_batch(self) -> None:
        batch = self.transport.claim_batch(self.queue, timeout=1.0)
        if batch is None:
            return
        try:
            self.record(batch.payloads, batch.connection)
        except BaseException:
            try:
                batch.release()
            except Exception:   # its session is gone: so is its claim, put back
                pass
            raise
        batch.ack()

    def record(self, payloads: list[Any], same_session: Any) -> None:
        options = dict(domain=self.domain, metadata={"queue": self.queue,
                                                     "transport": self.transport.shown})
        if same_session is not None and getattr(self.transport, "dsn", None) == self.dsn:
            tasks.insert(same_session, self.operation, payloads, **options)
            return
        with db.pooled(self.dsn) as conn:
            tasks.insert(conn, self.operation, payloads, **options)


def wait_all(intakes: list[Intake], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for intake in intakes:
        intake.join(max(0.0, deadline - time.monotonic()))
