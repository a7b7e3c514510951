"""What every transport offers, and the checks they share.

A transport holds queues of JSON payloads, named by text. `submit_task` adds one,
`get_task` takes the oldest off for good (rex.asynctask's two calls). Intake needs more:
`claim` takes the oldest off *provisionally*, for one consumer, until `ack` says that its
task is durably recorded; a consumer that dies before that leaves it claimed, and
`recover` puts such payloads back at the head of their queue. So a payload is never
lost, and runs twice only if a consumer died between recording its task and the ack.
"""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import tasks
from ..capture import say
from ..errors import BadInput, DatabaseUnavailable, first_line
from ..records import QueueInfo

T = TypeVar("T")

# a queue name is shown in terminals and used in keys, file names and AMQP names
MAX_QUEUE_NAME = 200


# one queue as the console shows it
QueueStats = QueueInfo


@dataclass
class Claim:
    """A payload taken off its queue for one consumer, not yet acknowledged."""
    queue: str
    payload: Any
    ack: Callable[[], None]       # its task is recorded: forget it for good
    release: Callable[[], None]   # not recorded, and we stop: put it back at the head
    # the session holding the claim, when its task can be recorded in the same
    # transaction (pgsql on jobconsole's own database)
    connection: Any = None


@dataclass
class Batch:
    """Payloads claimed together, recorded as tasks together, acknowledged together:
    one durable commit covers a batch, not each payload."""
    payloads: list[Any]
    ack: Callable[[], None]
    release: Callable[[], None]
    connection: Any = None      # as a Claim's


# payloads recorded in one transaction at most: enough that a commit's wait for the
# disk and the round trips are shared widely, few enough that a batch is quick to redo.
# An intake is one thread, so its cost per batch bounds a daemon's rate: at 100, every
# transport processed at 0.58-0.82x jobconsole's own rate; at 400, 0.81-0.89x
# (bench/transports.py, bench/README.md)
BATCH = 400


def consumer_name() -> str:
    """Who holds a claim: host and pid, so that a consumer's host can tell it is gone."""
    return f"{socket.gethostname()}:{os.getpid()}"


def check_queue(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise BadInput(f"a queue name must be non-empty text, got {name!r:.60}")
    if len(name) > MAX_QUEUE_NAME:
        raise BadInput(f"a queue name must be at most {MAX_QUEUE_NAME} characters, "
                       f"got {len(name)}")
    if not name.isprintable():
        raise BadInput(f"a queue name must be printable text, got {name!r:.60}")
    return name


def encode(payload: Any) -> str:
    """The payload as the JSON every transport stores; BadInput for what a task's input
    could not hold (not JSON, a NUL, broken Unicode): refused at submit, it would
    otherwise stop its queue's intake later."""
    return tasks.to_json_text(payload, "payload")


def patiently(op: Callable[[], T], lost: tuple[type[BaseException], ...], what: str,
              on_lost: Callable[[], None] = lambda: None, give_up: float | None = None) -> T:
    """op(), tried again while its server is out of reach (`lost`): a broker that
    restarts is back in seconds, so waiting is better than failing, with pauses from
    0.5 s doubling to 5 s as a worker waits for PostgreSQL. `on_lost` drops the broken
    connection; after `give_up` seconds (None: never) the caller hears of it."""
    pause, since = 0.5, time.monotonic()
    while True:
        try:
            return op()
        except lost as exc:
            on_lost()
            if give_up is not None and time.monotonic() - since + pause > give_up:
                raise DatabaseUnavailable(f"{what}: {first_line(exc)}") from None
            say(f"{what}: {first_line(exc)}: trying again in {pause:g} s")
        time.sleep(pause)
        pause = min(2 * pause, 5.0)


class Transport:
    """The interface; see the module's docstring."""
    scheme = ""
    # whether a consumer may claim a batch while it still holds the one before (intake
    # then records one while it claims the next); not where a claim is a transaction
    claims_overlap = True

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shown}>"

    @property
    def shown(self) -> str:
        """The URI without its password: what logs and the console show."""
        return self.uri

    def submit_task(self, queue: str, payload: Any) -> None:
        raise NotImplementedError

    def get_task(self, queue: str) -> Any:
        """The oldest payload, taken off for good, or None when the queue is empty."""
        claim = self.claim(queue, timeout=0)
        if claim is None:
            return None
        claim.ack()
        return claim.payload

    def claim(self, queue: str, timeout: float) -> Claim | None:
        """The oldest payload, held for this consumer; waits up to `timeout` seconds for
        one, and returns None when none came."""
        raise NotImplementedError

    def claim_batch(self, queue: str, timeout: float, limit: int = BATCH) -> Batch | None:
        """Up to `limit` of the oldest payloads, claimed: waits up to `timeout` seconds
        for the first, then takes only what is there already."""
        first = self.claim(queue, timeout)
        if first is None:
            return None
        claims = [first]
        try:
            while len(claims) < limit and (more := self.claim(queue, 0)) is not None:
                claims.append(more)
        except BaseException:
            _release_all(claims)
            raise
        return batch_of(claims)

    def recover(self, queue: str) -> int:
        """Put back what consumers that are gone had claimed from `queue`; how many."""
        raise NotImplementedError

    def queues(self) -> list[QueueStats]:
        """Every queue this transport holds, with its depth and oldest age."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def batch_of(claims: list[Claim]) -> Batch:
    """Claims made one by one, as a Batch: acknowledged in order, released in reverse,
    so that released payloads go back to the head in their order."""
    def ack() -> None:
        for claim in claims:
            claim.ack()
    return Batch([c.payload for c in claims], ack, lambda: _release_all(claims))


def _release_all(claims: list[Claim]) -> None:
    for claim in reversed(claims):
        claim.release()
