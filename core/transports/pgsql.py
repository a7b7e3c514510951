"""The pgsql transport: queues in jobconsole's own schema (the table `payload`).

A claim is a row locked in an open transaction: a consumer that dies releases it with
its session, so nothing needs recovering, and intake can record the task in that same
transaction, which makes taking a payload and recording its task one atomic step.
"""
from __future__ import annotations

import time
from typing import Any

import psycopg

from .. import db, queues
from .base import BATCH, Batch, Claim, QueueStats, Transport, check_queue, encode

# a claim's session waits for notifications at most this long between looks: a
# notification lost to a reconnect costs no more than that
_LOOK_EVERY = 1.0


class PgsqlTransport(Transport):
    scheme = "pgsql"
    claims_overlap = False      # a claim is the open transaction of one session

    def __init__(self, uri: str, dsn: str) -> None:
        super().__init__(uri)
        self.dsn = dsn
        self._claiming: psycopg.Connection | None = None

    @property
    def shown(self) -> str:
        return f"pgsql:{db.describe(self.dsn)}"

    def submit_task(self, queue: str, payload: Any) -> None:
        queue, text = check_queue(queue), encode(payload)
        with db.pooled(self.dsn) as conn:
            conn.execute("insert into jobconsole.payload (queue, payload) values (%s, %s)",
                         (queue, text))

    def get_task(self, queue: str) -> Any:
        queue = check_queue(queue)
        with db.pooled(self.dsn) as conn:
            row = conn.execute(_TAKE, (queue,)).fetchone()
        return row[0] if row else None

    def claim(self, queue: str, timeout: float) -> Claim | None:
        """The oldest payload, its row locked in this transport's own session until
        ack (deleted, committed) or release (rolled back); the session's
        `connection`, in that transaction, is on the Claim for intake's use."""
        batch = self.claim_batch(queue, timeout, 1)
        if batch is None:
            return None
        return Claim(queue, batch.payloads[0], batch.ack, batch.release, batch.connection)

    def claim_batch(self, queue: str, timeout: float, limit: int = BATCH) -> Batch | None:
        """The oldest payloads, their rows locked in one transaction of this
        transport's own session, acknowledged by one delete and commit."""
        queue = check_queue(queue)
        conn = self._session()
        deadline = time.monotonic() + timeout
        while True:
            conn.execute("begin")
            rows = conn.execute(_LOCK, (queue, limit)).fetchall()
            if rows:
                return _batch(conn, rows)
            conn.execute("rollback")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for _ in conn.notifies(timeout=min(left, _LOOK_EVERY), stop_after=1):
                pass

    def recover(self, queue: str) -> int:
        return 0    # a dead consumer's lock went with its session

    def queues(self) -> list[QueueStats]:
        with db.pooled(self.dsn) as conn:
            return queues.own_queues(conn, self.dsn)

    def close(self) -> None:
        if self._claiming is not None:
            self._claiming.close()
            self._claiming = None

    def _session(self) -> psycopg.Connection:
        if self._claiming is None or self._claiming.closed or self._claiming.broken:
            self._claiming = db.connect(self.dsn)
            self._claiming.execute("listen jobconsole_payload")
        return self._claiming


# SKIP LOCKED: consumers of one queue take different payloads instead of queueing up
# behind one another's locks
_LOCK = ("select id, payload from jobconsole.payload where queue = %s "
         "order by id limit %s for update skip locked")
_TAKE = ("delete from jobconsole.payload where id = (select id from jobconsole.payload "
         "where queue = %s order by id limit 1 for update skip locked) returning payload")


def _batch(conn: psycopg.Connection, rows: list[tuple[int, Any]]) -> Batch:
    ids = [row[0] for row in rows]

    def ack() -> None:
        conn.execute("delete from jobconsole.payload where id = any(%s)", (ids,))
        conn.execute("commit")
    def release() -> None:
        conn.execute("rollback")
    return Batch([row[1] for row in rows], ack, release, conn)
