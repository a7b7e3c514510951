"""Change notifications for live views: what changed, not the data itself.

A `Watcher` holds one LISTENing connection and reports which kinds of data changed
('task', 'log', 'worker', 'monitor', 'operation', 'schedule', 'queue') since the last call, so
that a view re-reads only what it shows. It blocks: run it off any UI thread. A lost
connection raises DatabaseUnavailable, and the next `wait` opens a new one.
"""
import time

import psycopg

from . import db
from .errors import DatabaseUnavailable, first_line

_CHANNELS = {
    "jobconsole_task": "task",
    "jobconsole_queued": "task",
    "jobconsole_log": "log",
    "jobconsole_process": None,     # payload names the table: worker, monitor, operation
    "jobconsole_control": "monitor",
    "jobconsole_schedule": "schedule",
    "jobconsole_payload": "queue",
    "jobconsole_payload_taken": "queue",
}


class Watcher:
    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None

    def open(self):
        self.conn = db.connect(self.dsn)
        for channel in _CHANNELS:
            self.conn.execute(f"listen {channel}")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def wait(self, timeout, settle=0.05):
        """The set of kinds that changed within `timeout` seconds (empty if none).

        After the first notification it keeps reading for `settle` seconds, so that a
        burst (a batch of tasks finishing) is reported once, not once per row.
        """
        if self.conn is None:
            self.open()
        changed = set()
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                for note in list(self.conn.notifies(timeout=left, stop_after=1)):
                    changed.add(_CHANNELS[note.channel] or note.payload)
                if changed:
                    deadline = min(deadline, time.monotonic() + settle)
        except psycopg.OperationalError as exc:
            self.close()
            raise DatabaseUnavailable(f"lost the database: {first_line(exc)}") from None
        return changed

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
