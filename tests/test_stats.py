"""The overview's figures (api.stats, `jobconsole stats`) against tasks with known
outcomes: counted as they end, by the worker's step and by every other way a task ends,
and read without scanning the task table."""
import json

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
