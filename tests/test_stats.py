"""The overview's figures (api.stats, `jobconsole stats`) against tasks with known
outcomes: counted as they end, by the worker's step and by every other way a task ends,
and read without scanning the task table."""
import json
import time

from helpers import wait_for
from jobconsole import api
from test_cli import jc


def test_the_figures_count_what_ended_how_it_ended(dsn, start_monitor):
    start_monitor("--workers", "2")
    done = [api.schedule(dsn, "double", i) for i in range(5)]
    failed = [api.schedule(dsn, "fail", i) for i in range(2)]
    for t in done + failed:
        t.join(timeout=30)
    # a worker writes its counts once a second (one killed meanwhile loses them)
    counted(dsn, [5, 2, 0])
    aborted = api.schedule(dsn, "sleep", 30)
    wait_for(lambda: aborted.info().status == "running", 30, "the sleep to run")
    api.abort(dsn, aborted.id)
    aborted.join(timeout=30)
    figures = counted(dsn, [5, 2, 1])
    assert len(figures.minutes) == 60
    by_op = {o[0]: o for o in figures.operations}
    assert by_op["double"][1:4] == (5, 0, 0.0)
    assert by_op["fail"][1:4] == (2, 2, 1.0)
    assert by_op["sleep"][1:3] == (1, 0)
    assert 0 < by_op["double"][4] <= by_op["double"][5] <= 4.1   # p50 <= p95, in seconds
    assert figures.rates["5m"][0] > 0 and figures.rates["60m"][1] > 0
    [(host, busy, idle, cpu, mem)] = figures.hosts
    # the aborted task's worker was killed: its replacement may not have started yet
    assert 1 <= busy + idle <= 2 and cpu is not None and 0 < mem <= 100


def test_a_monitor_stopped_as_its_queue_drains_loses_no_count(dsn, start_monitor):
    """Workers count in memory and write once a second; an idle one, which a
    monitor's stop kills, has written what it counted."""
    monitor = start_monitor("--workers", "2")
    api.schedule_many(dsn, "double", range(200))
    wait_for(lambda: api.count_tasks(dsn).get("done") == 200, 30, "every task to end")
    time.sleep(0.3)     # for its workers to find the queue empty; less than their second
    monitor.stop()
    assert sum(m[1] for m in api.stats(dsn).minutes) == 200


def test_monitors_sample_the_backlog_and_busy_workers_for_the_overview(dsn, start_monitor):
    for _ in range(3):
        api.schedule(dsn, "double", 1, delay=3600)
    start_monitor("--workers", "2")         # it samples as it first beats
    figures = wait_for(lambda: (f := api.stats(dsn)).busy_history and f, 10, "a sample")
    # the last 60 minutes, as the ended tasks' are; the sample in this minute or the last
    [(domain, backlog)] = figures.backlog_history.items()
    assert domain == "default" and len(backlog) == 60 and 3 in backlog[-2:]
    [(host, busy)] = figures.busy_history.items()
    assert host == figures.hosts[0][0] and len(busy) == 60 and set(busy) == {0}


def counted(dsn, expected):
    """The figures once they count [done, failed, aborted] as expected."""
    def now():
        figures = api.stats(dsn)
        return figures if [sum(m[i] for m in figures.minutes) for i in (1, 2, 3)] == \
            expected else None
    return wait_for(now, 10, f"{expected} done, failed and aborted to be counted")


def test_the_backlog_per_domain_with_its_oldest_task(dsn):
    api.schedule(dsn, "double", 1)
    api.schedule(dsn, "double", 2, delay=3600)
    figures = api.stats(dsn)
    [(domain, queued, waiting, oldest)] = figures.backlog
    assert (domain, queued, waiting) == ("default", 1, 1) and 0 <= oldest < 60


def test_stats_on_the_command_line(dsn):
    api.schedule(dsn, "double", 1)
    code, out, err = jc(dsn, "stats")
    assert code == 0, err
    assert "ended per second, last  5m" in out and "default" in out
    code, out, err = jc(dsn, "stats", "--json")
    assert code == 0 and json.loads(out)["backlog"][0][:3] == ["default", 1, 0]


def test_reading_the_figures_never_scans_the_task_table(dsn, sql_conn):
    api.schedule_many(dsn, "double", list(range(200)))
    sql_conn.execute("update jobconsole.task set status = 'done', finished = now(), "
                     "started = now()")
    sql_conn.execute("analyze jobconsole.task")
    sql_conn.execute("set enable_seqscan = off")   # what a big table's planner would do
    plan = "\n".join(r[0] for r in sql_conn.execute(
        "explain select domain, count(*) from jobconsole.task "
        "where status in ('queued', 'waiting') group by domain"))
    assert "Index" in plan and "Seq Scan on task" not in plan


def test_counters_and_samples_older_than_a_week_are_pruned(sql_conn):
    from jobconsole import stats
    for age in ("8 days", "1 minute"):
        sql_conn.execute("insert into jobconsole.backlog_minute "
                         "values (now() - %s::interval, 'd', 1, 0, null)", (age,))
        sql_conn.execute("insert into jobconsole.host_minute "
                         "values (now() - %s::interval, 'h', 1, 0, 5, 5)", (age,))
        sql_conn.execute("insert into jobconsole.task_minute (minute, domain, operation, "
                         "shard, hist) values (now() - %s::interval, 'd', 'op', 0, '{}')",
                         (age,))
    stats.prune(sql_conn)
    for table in ("backlog_minute", "host_minute", "task_minute"):
        [(n, newest)] = sql_conn.execute(
            f"select count(*), bool_and(minute > now() - interval '1 hour') "
            f"from jobconsole.{table}").fetchall()
        assert (n, newest) == (1, True), table
