"""Counts of tasks by status come from counters the task table's triggers keep, exact
whoever changes the tasks, and corrected by a recount; no refresh of the console counts
the task table (plan-regression tests: their cost must not grow with it)."""
import threading
import time

import psycopg
import pytest

from jobconsole import api, counts, db
from jobconsole.console.source import Source

EXACT = ("select coalesce(owner, ''), domain, status, count(*) from jobconsole.task "
         "group by 1, 2, 3")


def exact(conn, owner=None):
    found = {}
    for o, _, status, n in conn.execute(EXACT):
        if owner is None or o == owner:
            found[status] = found.get(status, 0) + n
    return found


def kept(conn, owner=None):
    return counts.by_status(conn, owner=owner)


def test_counts_follow_every_way_a_task_is_made_changed_and_deleted(dsn, sql_conn,
                                                                     start_monitor):
    api.schedule(dsn, "double", 1, owner="alice")
    api.schedule_many(dsn, "double", [2, 3, 4], owner="bob")
    api.schedule(dsn, "double", 5, delay=3600)
    queued = api.schedule(dsn, "sleep", 60, owner="alice")
    api.abort(dsn, queued.id)
    sql_conn.execute("insert into jobconsole.task (operation, domain, owner) "
                     "values ('double', 'default', 'carol'), ('fail', 'default', 'carol')")
    assert kept(sql_conn) == exact(sql_conn) == {"queued": 6, "waiting": 1, "aborted": 1}
    start_monitor("--workers", "2")
    ran = [api.schedule(dsn, "flaky", 0), api.schedule(dsn, "fail", 0, owner="bob")]
    for t in ran:
        t.join(timeout=30)
    relaunched = api.relaunch(dsn, ran[1].id)
    deadline = time.monotonic() + 30
    while {"queued", "running"} & set(exact(sql_conn)) and time.monotonic() < deadline:
        time.sleep(0.1)
    sql_conn.execute("update jobconsole.task set owner = 'dave' where owner = 'carol'")
    api.delete(dsn, queued.id)
    sql_conn.execute("delete from jobconsole.task where status = 'waiting'")
    assert kept(sql_conn) == exact(sql_conn)
    for owner in ("alice", "bob", "dave", ""):
        assert kept(sql_conn, owner) == exact(sql_conn, owner), owner
    assert relaunched and kept(sql_conn, "dave") == {"failed": 2}   # no input to double
    sql_conn.execute("truncate jobconsole.task cascade")
    assert kept(sql_conn) == {}


def test_a_recount_corrects_counts_that_something_bypassed(dsn, sql_conn):
    api.schedule_many(dsn, "double", [1, 2, 3])
    # as pg_restore and logical replication apply rows: no trigger fires
    sql_conn.execute("set session_replication_role = replica")
    sql_conn.execute("insert into jobconsole.task (operation, domain, owner) "
                     "select 'double', 'default', 'erin' from generate_series(1, 5)")
    sql_conn.execute("update jobconsole.task set status = 'done' where owner is null "
                     "and id = (select min(id) from jobconsole.task)")
    sql_conn.execute("set session_replication_role = origin")
    assert kept(sql_conn) == {"queued": 3}
    assert counts.recount(sql_conn) == 3    # two queued counts wrong, and one done
    assert kept(sql_conn) == exact(sql_conn) == {"queued": 7, "done": 1}
    assert kept(sql_conn, "erin") == {"queued": 5}
    assert counts.recount(sql_conn) == 0


def test_a_recount_stops_no_writer_and_loses_none_of_their_changes(dsn, sql_conn):
    sql_conn.execute("set session_replication_role = replica")
    sql_conn.execute("insert into jobconsole.task (operation, domain) "
                     "select 'double', 'default' from generate_series(1, 20000)")
    sql_conn.execute("set session_replication_role = origin")
    stop = threading.Event()
    errors = []

    def write():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not stop.is_set():
                    conn.execute("insert into jobconsole.task (operation, domain) "
                                 "values ('double', 'default')")
                    conn.execute("update jobconsole.task set status = 'done' where id = "
                                 "(select max(id) from jobconsole.task where status = 'queued')")
        except Exception as exc:   # shown by the assertion below
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for w in writers:
        w.start()
    try:
        time.sleep(0.3)
        started = time.monotonic()
        assert counts.recount(sql_conn) >= 1
        recount_took = time.monotonic() - started
        time.sleep(0.3)
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert not errors
    assert kept(sql_conn) == exact(sql_conn)
    assert recount_took < 10


def test_monitors_recount_in_turn(dsn, sql_conn):
    sql_conn.execute("set session_replication_role = replica")
    sql_conn.execute("insert into jobconsole.task (operation, domain) values ('double', 'default')")
    sql_conn.execute("set session_replication_role = origin")
    assert counts.recount_if_due(sql_conn) == 1
    # another monitor, a moment later: not due yet
    assert counts.recount_if_due(sql_conn) is None
    assert counts.recount_if_due(sql_conn, every=0) == 0
    assert [r[0] for r in sql_conn.execute(
        "select wrong from jobconsole.recounted order by at")] == [1, 0]


# -- plan regressions: what a refresh reads must not grow with the task table ------------

@pytest.fixture
def many_tasks(dsn, sql_conn):
    """100,000 tasks of four owners, mostly ended, as a year of use leaves them."""
    sql_conn.execute("set session_replication_role = replica")
    sql_conn.execute(
        "insert into jobconsole.task (operation, domain, status, owner, started, finished) "
        "select (array['double', 'fail'])[1 + i % 2], 'default', "
        "case when i > 99900 then 'queued' when i % 50 = 0 then 'failed' else 'done' end, "
        "(array['alice', 'bob', 'carol', 'dave'])[1 + i % 4], now(), now() "
        "from generate_series(1, 100000) i")
    sql_conn.execute("set session_replication_role = origin")
    counts.recount(sql_conn)
    sql_conn.execute("vacuum analyze jobconsole.task")
    return dsn


def relations(plan):
    """Every relation a JSON plan reads."""
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= relations(child)
    return found


def explain(conn, query, params=()):
    [[[doc]]] = conn.execute("explain (format json) " + query, params).fetchall()
    return doc["Plan"]


def test_the_status_counts_never_read_the_task_table(many_tasks, sql_conn):
    for owner in (None, "alice"):
        plan = explain(sql_conn, counts.BY_STATUS, dict(owner=owner, domain=None))
        assert relations(plan) == {"task_count"}
    assert relations(explain(sql_conn, counts.BY_DOMAIN, (["queued"],))) == {"task_count"}


def task_reads(conn):
    """Rows of the task table read so far, by scans and through indexes, as the
    server's statistics count them, once every other session has flushed its own."""
    conn.execute("select pg_stat_clear_snapshot()")
    return conn.execute(
        "select seq_tup_read + coalesce(idx_tup_fetch, 0), seq_scan + coalesce(idx_scan, 0) "
        "from pg_stat_user_tables where schemaname = 'jobconsole' and relname = 'task'"
    ).fetchone()


def settled_reads(conn):
    """task_reads once the sessions that read have ended and their statistics landed
    (a session flushes them when it ends, or within a second of going idle)."""
    db.close_pools()
    last, since = None, time.monotonic()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = task_reads(conn)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > 1.5:
            return now
        time.sleep(0.2)
    return last


def test_a_refresh_of_every_view_reads_a_bounded_number_of_tasks(many_tasks):
    """What the console reads at each change, on 100,000 tasks: a page of rows, the
    counts, the overview, the workers, monitors, operations, schedules and queues."""
    source = Source(many_tasks)
    with psycopg.connect(many_tasks, autocommit=True) as conn:
        before = settled_reads(conn)
        page = source.tasks(limit=100)
        assert len(page) == 100
        assert source.counts()["done"] > 90000
        source.stats(), source.task_id_span(), source.workers(), source.monitors()
        source.operations(), source.schedules(), source.queues()
        source.tasks(where="status:queued owner:alice", limit=100)
        after = settled_reads(conn)
    rows, scans = after[0] - before[0], after[1] - before[1]
    assert scans > 0, "the statistics did not land: nothing was measured"
    # a page of 100 rows, the queued ones, the oldest queued task: well under 1% of them
    assert rows < 1000, f"a refresh read {rows} rows of 100,000 tasks"


def test_the_backlog_comes_from_the_counts_and_one_task_per_domain(many_tasks):
    [(domain, queued, waiting, oldest)] = api.stats(many_tasks).backlog
    assert (domain, queued, waiting) == ("default", 100, 0) and 0 <= oldest < 600
