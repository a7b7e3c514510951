"""A vacuum of the task table when its dead rows pile up faster than autovacuum comes.

Each task leaves two dead row versions behind it (queued, running), and their entries
in the claim's index stay until a vacuum: every claim reads past them. At thousands of
tasks a second, the minute autovacuum sleeps between looks (its stock naptime) lets
hundreds of thousands pile up: in bench/soak.py the rate fell to 0.55-0.74x of the
first 100,000 tasks' before each autovacuum. So monitors look at the server's count of
dead rows every few seconds, and one at a time (an advisory lock) vacuums the table
once there are more than $JOBCONSOLE_VACUUM_DEAD (0: never; autovacuum still does).
A user who may not vacuum the table (neither its owner nor a superuser) leaves it to
autovacuum: the monitor asks once, and stops looking.
"""
import logging
import os

from . import chores

log = logging.getLogger("jobconsole.vacuum")

ENV_DEAD = "JOBCONSOLE_VACUUM_DEAD"
DEFAULT_DEAD = 100_000
LOOK = 5.0          # seconds between two looks at the count of dead rows
_LOCK = 0x6A6F64    # pg_try_advisory_lock key: jobconsole's, for the vacuum

DEAD = """
select n_dead_tup from pg_stat_user_tables where relid = 'jobconsole.task'::regclass
"""
MAY = "select pg_has_role(relowner, 'usage') from pg_class where oid = 'jobconsole.task'::regclass"


def dead_limit():
    """Dead rows past which a monitor vacuums the task table; 0: never."""
    text = os.environ.get(ENV_DEAD, "").strip()
    try:
        return max(int(text), 0) if text else DEFAULT_DEAD
    except ValueError:
        log.warning("%s=%r is not a whole number: %d is used", ENV_DEAD, text, DEFAULT_DEAD)
        return DEFAULT_DEAD


def vacuum_if_due(conn, limit):
    """Vacuum the task table if it has more than `limit` dead rows and no other monitor
    is at it; returns the dead rows it found then, or None when it did not vacuum."""
    dead = conn.execute(DEAD).fetchone()
    if dead is None or dead[0] <= limit:
        return None
    if not conn.execute("select pg_try_advisory_lock(%s)", (_LOCK,)).fetchone()[0]:
        return None
    try:
        conn.execute("vacuum jobconsole.task")   # autocommit: a vacuum runs outside one
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (_LOCK,))
    return dead[0]


class Vacuumer(chores.Chore):
    name = "vacuum"

    def __init__(self, dsn):
        super().__init__(dsn, look=LOOK)
        self.limit = dead_limit()
        self.allowed = None     # whether this user may vacuum the table: asked once

    def poke(self):
        if self.limit and self.allowed is not False:
            super().poke()

    def work(self, conn):
        if self.allowed is None:
            self.allowed = conn.execute(MAY).fetchone()[0]
            if not self.allowed:
                log.info("the task table is not this user's: autovacuum alone cleans it")
                return
        dead = vacuum_if_due(conn, self.limit)
        if dead is not None:
            log.info("vacuumed the task table (%d dead rows)", dead)
