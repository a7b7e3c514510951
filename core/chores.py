"""A monitor's chores: work that may take seconds (a recount, a vacuum), which the
monitor's loop (heartbeats, kills) must not wait for. Each runs in a thread of its own
with a connection of its own, at most one at a time, looked at no more often than
`look` seconds. `poke` is cheap; a monitor calls it at every heartbeat."""
import logging
import threading
import time

import psycopg

from . import db
from .errors import JobconsoleError

log = logging.getLogger("jobconsole.chores")


class Chore:
    name = "chore"      # the thread's, the connection's application name, the log's

    def __init__(self, dsn, look, first=None):
        self.dsn = dsn
        self.look = look
        self.thread = None
        self.next_look = time.monotonic() + (look if first is None else first)

    def poke(self):
        if time.monotonic() < self.next_look or (self.thread and self.thread.is_alive()):
            return
        self.next_look = time.monotonic() + self.look
        self.thread = threading.Thread(target=self._run, name=f"jobconsole {self.name}",
                                       daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with db.connect(self.dsn, application_name=f"jobconsole {self.name}") as conn:
                self.work(conn)
        except (psycopg.Error, JobconsoleError) as exc:
            # the next look tries again
            log.warning("%s failed: %s", self.name, exc)

    def work(self, conn):
        raise NotImplementedError
