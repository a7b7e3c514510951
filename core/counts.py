"""Counts of tasks by status, read from the counters the task table's triggers keep
(jobconsole.task_count, migration 024) instead of counting the table, and the recount
that corrects them.

A read sums a few rows per owner, domain and status (times 32 shards at most), however
many tasks there are: the status bar and the overview read it at every change.
"""
import logging

import psycopg

from . import chores

log = logging.getLogger("jobconsole.counts")

# A recount reads the whole task table: seconds at ten million tasks. Monitors run it
# this often (whichever gets there first: an advisory lock keeps it to one at a time).
RECOUNT_EVERY = 3600.0
_RECOUNT_LOCK = 0x6A6F63   # pg_try_advisory_lock key: jobconsole's, for the recount


BY_STATUS = """
select status, sum(n)::bigint from jobconsole.task_count
where (%(owner)s::text is null or owner = %(owner)s)
  and (%(domain)s::text is null or domain = %(domain)s)
group by status having sum(n) <> 0
"""

BY_DOMAIN = """
select domain, status, sum(n)::bigint from jobconsole.task_count
where status = any(%s) group by domain, status having sum(n) <> 0
"""


def by_status(conn, owner=None, domain=None):
    """{status: count} over all tasks, or one owner's, or one domain's (nonzero ones)."""
    return dict(conn.execute(BY_STATUS, dict(owner=owner, domain=domain)).fetchall())


def by_domain(conn, statuses):
    """{domain: {status: count}} for these statuses."""
    found = {}
    for domain, status, n in conn.execute(BY_DOMAIN, (list(statuses),)):
        found.setdefault(domain, {})[status] = n
    return found


_DRIFT = """
select coalesce(t.owner, c.owner), coalesce(t.domain, c.domain),
       coalesce(t.status, c.status), (coalesce(t.n, 0) - coalesce(c.n, 0))::bigint
from (select coalesce(owner, '') as owner, domain, status, count(*) as n
      from jobconsole.task group by 1, 2, 3) t
full join (select owner, domain, status, sum(n) as n
           from jobconsole.task_count group by 1, 2, 3) c
    on (t.owner, t.domain, t.status) = (c.owner, c.domain, c.status)
where coalesce(t.n, 0) <> coalesce(c.n, 0)
"""


def recount(conn):
    """Correct the counters to the task table's counts; returns how many were wrong.

    No writer waits for it. The counts and the counters are read in one snapshot
    (repeatable read), in which the two agree on which changes have happened, since
    each change and its count commit together; their difference is then added as one
    more delta, which commutes with the deltas written meanwhile. `conn` must not be in
    a transaction (autocommit, as jobconsole's connections are).
    """
    saved = conn.isolation_level
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with conn.transaction():
            drift = conn.execute(_DRIFT).fetchall()
    finally:
        conn.isolation_level = saved
    if drift:
        conn.execute("select jobconsole.add_counts(%s::text[], %s::text[], %s::text[], "
                     "%s::bigint[])", [list(column) for column in zip(*drift)])
    return len(drift)


def recount_if_due(conn, every=RECOUNT_EVERY):
    """Recount if no other monitor is at it and none did it within `every` seconds;
    returns how many counts were wrong, or None when it was not this one's turn."""
    if not conn.execute("select pg_try_advisory_lock(%s)", (_RECOUNT_LOCK,)).fetchone()[0]:
        return None
    try:
        due = conn.execute(
            "select coalesce(max(at) < now() - make_interval(secs => %s), true) "
            "from jobconsole.recounted", (every,)).fetchone()[0]
        if not due:
            return None
        wrong = recount(conn)
        conn.execute("insert into jobconsole.recounted (at, wrong) values (now(), %s)",
                     (wrong,))
        return wrong
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (_RECOUNT_LOCK,))


class Recounter(chores.Chore):
    """A monitor's recounts (at ten million tasks one takes seconds): looked at every
    minute, run when due (`recount_if_due`)."""
    name = "recount"

    def __init__(self, dsn, every=RECOUNT_EVERY):
        super().__init__(dsn, look=60.0)   # the first not in the rush of a monitor's start
        self.every = every

    def work(self, conn):
        # if it fails, the counts meanwhile are as the triggers keep them
        wrong = recount_if_due(conn, self.every)
        if wrong:
            log.warning("recount: %d task count%s had drifted, now corrected", wrong,
                        "" if wrong == 1 else "s")
