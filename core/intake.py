"""Intake: the loop that turns each payload of a transport's queue into a task.

A payload is acknowledged to its transport only once its task is durably recorded (the
pooled connections commit synchronously). Payloads are taken in batches, whose tasks one
commit records, so that the wait for the disk is shared; where the transport allows it,
the next batch is claimed while that commit runs. So a process killed anywhere in between
leaves the payload claimed, and `recover` or the broker gives it back: nothing is lost,
and a payload becomes two tasks only if the kill fell between the commit and the ack.
On the pgsql transport of jobconsole's own database the two are one transaction, and
even that cannot happen.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import psycopg

from . import db, sanitize, tasks
from .errors import BadInput, JobconsoleError
from .transports import Transport
from .transports.base import Batch

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
        self.pause = _FIRST_PAUSE   # before the next try, while the database or broker is away

    def run(self) -> None:
        recorder = ThreadPoolExecutor(1, thread_name_prefix=f"record {self.queue}")
        try:
            while not self.stop.is_set():
                try:
                    back = self.transport.recover(self.queue)
                    if back:
                        log.warning("queue %s: %s payloads of consumers that are gone put back",
                                    sanitize.sanitize(self.queue), back)
                    if self.transport.claims_overlap:
                        self.take_overlapping(recorder)
                    else:
                        while not self.stop.is_set():
                            self.take_batch()
                except BadInput as exc:
                    # a payload no task can hold (over the size limit): it stays where it
                    # is, for a person to see; taking the next ones would reorder the queue
                    log.error("queue %s: intake stopped: %s", sanitize.sanitize(self.queue),
                              sanitize.sanitize(str(exc)))
                    return
                except (JobconsoleError, psycopg.OperationalError, OSError,
                        ConnectionError) as exc:
                    log.warning("queue %s: %s: trying again in %g s",
                                sanitize.sanitize(self.queue),
                                sanitize.sanitize(str(exc) or type(exc).__name__), self.pause)
                    self.stop.wait(self.pause)
                    self.pause = min(2 * self.pause, _LAST_PAUSE)
        finally:
            recorder.shutdown()
            self.transport.close()

    def take_batch(self) -> None:
        batch = self.transport.claim_batch(self.queue, timeout=1.0)
        if batch is None:
            return
        try:
            self.record(batch.payloads, batch.connection)
        except BaseException:
            _release(batch)
            raise
        batch.ack()
        self.pause = _FIRST_PAUSE

    def take_overlapping(self, recorder: ThreadPoolExecutor) -> None:
        """Batches claimed while the one before is being recorded: the intake's own
        work on a batch (the client's parsing of hundreds of replies) overlaps the
        database's, whose commit waits for the disk. The claim is the transport's
        thread's (a broker client is not shared between threads); only the recording
        runs in `recorder`. Each batch is acknowledged once its tasks are committed,
        in the order claimed; on a failure all that is held is put back."""
        recording: tuple[Batch, Future[None]] | None = None
        claimed: Batch | None = None

        def acknowledge() -> None:
            # once its tasks are committed; if that failed, the handler puts it back
            nonlocal recording
            assert recording is not None
            batch, recorded = recording
            recorded.result()
            recording = None
            batch.ack()
            self.pause = _FIRST_PAUSE
        try:
            while not self.stop.is_set():
                # a batch in hand is not kept waiting on an empty queue
                claimed = self.transport.claim_batch(self.queue,
                                                     timeout=0 if recording else 1.0)
                if recording is not None:
                    acknowledge()
                if claimed is not None:
                    recording = claimed, recorder.submit(self.record, claimed.payloads, None)
                    claimed = None
            if recording is not None:
                acknowledge()
        except BaseException:
            recorded_ok = False
            try:
                if recording is not None:
                    wait([recording[1]])    # its tasks are committed, or not: it goes back
                    recorded_ok = recording[1].exception() is None
                    if recorded_ok:
                        recording[0].ack()
            finally:
                # the newer first, so that a transport that puts back at the head keeps
                # the order (and AMQP's nack of the newer, which reaches the older too,
                # comes after the older's ack)
                if claimed is not None:
                    _release(claimed)
                if recording is not None and not recorded_ok:
                    _release(recording[0])
            raise

    def record(self, payloads: list[Any], same_session: Any) -> None:
        options = dict(domain=self.domain, metadata={"queue": self.queue,
                                                     "transport": self.transport.shown})
        if same_session is not None and getattr(self.transport, "dsn", None) == self.dsn:
            tasks.insert(same_session, self.operation, payloads, **options)
            return
        with db.pooled(self.dsn) as conn:
            tasks.insert(conn, self.operation, payloads, **options)


def _release(batch: Batch) -> None:
    try:
        batch.release()
    except Exception:   # its session is gone: so is its claim, put back
        pass


def wait_all(intakes: list[Intake], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for intake in intakes:
        intake.join(max(0.0, deadline - time.monotonic()))
