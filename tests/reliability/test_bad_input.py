"""Malformed calls of the public api: each raises BadInput, in one line that names the
argument and what was expected, and writes nothing.

The table is the specification: (what the call gets wrong, the call, a fragment of the
message). The database holds a small world first (a task that has just finished, a
queued one, a schedule, the test operations), and must hold exactly the same after.
"""
import math
import os
import subprocess
import sys
from datetime import datetime

import pytest
from helpers import OPS

from jobconsole import api
from jobconsole.errors import BadInput

CRON = "0 6 * * *"
INT8_TEXT = "from 1 to 9,223,372,036,854,775,807"

CASES = [
    # -- schedule: what a task is ---------------------------------------------------------
    ("an int as operation", lambda dsn: api.schedule(dsn, 5),
     "operation must be a non-empty str, got 5"),
    ("None as operation", lambda dsn: api.schedule(dsn, None), "operation must be"),
    ("an empty operation", lambda dsn: api.schedule(dsn, ""), "operation must be"),
    ("a NUL in the operation", lambda dsn: api.schedule(dsn, "dou\x00ble"),
     "operation contains a NUL character"),
    ("a dict as owner", lambda dsn: api.schedule(dsn, "double", owner={}),
     "owner must be a str or None, got {}"),
    ("an int as owner", lambda dsn: api.schedule(dsn, "double", owner=5), "owner must be a str"),
    ("an int as workflow", lambda dsn: api.schedule(dsn, "double", workflow=5),
     "workflow must be a str"),
    ("an int as domain", lambda dsn: api.schedule(dsn, "double", domain=1),
     "domain must be a str"),
    ("a list as host", lambda dsn: api.schedule(dsn, "double", host=["h"]), "host must be a str"),
    ("a NUL in the owner", lambda dsn: api.schedule(dsn, "double", owner="a\x00b"),
     "owner contains a NUL character"),
    ("undecodable bytes in the workflow",
     lambda dsn: api.schedule(dsn, "double", workflow="caf\udce9"),
     "workflow is not valid text"),
    ("a list as metadata", lambda dsn: api.schedule(dsn, "double", metadata=[1]),
     "metadata must be a JSON object"),
    ("a str as metadata", lambda dsn: api.schedule(dsn, "double", metadata="x"),
     "metadata must be a JSON object"),
    ("metadata JSON cannot say",
     lambda dsn: api.schedule(dsn, "double", metadata={"f": object()}),
     "metadata is not JSON-serialisable"),
    ("an input JSON cannot say", lambda dsn: api.schedule(dsn, "double", {1, 2}),
     "input is not JSON-serialisable"),
    ("both input and rawinput", lambda dsn: api.schedule(dsn, "double", 1, rawinput=b"x"),
     "give input or rawinput, not both"),
    ("a str as rawinput", lambda dsn: api.schedule(dsn, "double", rawinput="x"),
     "rawinput must be bytes"),
    # -- schedule: when, how often, how urgently -----------------------------------------------
    ("a word as priority", lambda dsn: api.schedule(dsn, "double", priority="high"),
     "priority must be a whole number"),
    ("True as priority", lambda dsn: api.schedule(dsn, "double", priority=True),
     "priority must be a whole number"),
    ("a priority beyond the integer column",
     lambda dsn: api.schedule(dsn, "double", priority=2**31), "priority must be"),
    ("a negative timeout", lambda dsn: api.schedule(dsn, "double", timeout=-1),
     "timeout must be positive"),
    ("a zero timeout", lambda dsn: api.schedule(dsn, "double", timeout=0),
     "timeout must be positive"),
    ("a timeout as text", lambda dsn: api.schedule(dsn, "double", timeout="10"),
     "timeout must be positive"),
    ("an infinite delay", lambda dsn: api.schedule(dsn, "double", delay=math.inf),
     "delay must be 0 seconds or more"),
    ("a NaN backoff", lambda dsn: api.schedule(dsn, "double", backoff=math.nan),
     "backoff must be"),
    ("negative retries", lambda dsn: api.schedule(dsn, "double", retries=-1),
     "retries must be a whole number"),
    ("True as retries", lambda dsn: api.schedule(dsn, "double", retries=True),
     "retries must be a whole number"),
    ("fractional retries", lambda dsn: api.schedule(dsn, "double", retries=2.5),
     "retries must be a whole number"),
    ("a date as text for run_at", lambda dsn: api.schedule(dsn, "double", run_at="2030-01-01"),
     "run_at must be a datetime"),
    ("both a delay and run_at",
     lambda dsn: api.schedule(dsn, "double", delay=1, run_at=datetime(2030, 1, 1)),
     "give a delay or run_at, not both"),
    ("retry_on an abort", lambda dsn: api.schedule(dsn, "double", retry_on=["abort"]),
     "cannot retry on 'abort'"),
    ("an int as retry_on", lambda dsn: api.schedule(dsn, "double", retry_on=5),
     "retry_on must be a list"),
    # -- schedule: what a task waits for --------------------------------------------------
    ("a word in depends_on", lambda dsn: api.schedule(dsn, "double", depends_on=["abc"]),
     "depends_on must hold Tasks or task ids"),
    ("True in depends_on", lambda dsn: api.schedule(dsn, "double", depends_on=[True]),
     "depends_on must hold Tasks or task ids"),
    ("0 in depends_on", lambda dsn: api.schedule(dsn, "double", depends_on=[0]),
     "depends_on must hold Tasks or task ids"),
    ("an int as depends_on", lambda dsn: api.schedule(dsn, "double", depends_on=5),
     "depends_on must be a list"),
    # -- schedule_many ----------------------------------------------------------------------
    ("an int as inputs", lambda dsn: api.schedule_many(dsn, "double", 5),
     "inputs must be a list (or another iterable) of inputs, got 5"),
    ("a str as inputs, which would be one task a letter",
     lambda dsn: api.schedule_many(dsn, "double", "abc"), "inputs must be a list"),
    ("bytes as inputs", lambda dsn: api.schedule_many(dsn, "double", b"abc", raw=True),
     "inputs must be a list"),
    ("a dict as inputs, which would be its keys",
     lambda dsn: api.schedule_many(dsn, "double", {"a": 1}), "inputs must be a list"),
    ("a word as raw", lambda dsn: api.schedule_many(dsn, "double", [b"x"], raw="yes"),
     "raw must be True or False"),
    ("text as raw inputs", lambda dsn: api.schedule_many(dsn, "double", ["x"], raw=True),
     "rawinput must be bytes"),
    ("an option of the schedules' own", lambda dsn: api.schedule_many(
        dsn, "double", [1], fired=(1, datetime(2030, 1, 1))), "unknown option fired"),
    ("an int owner for many", lambda dsn: api.schedule_many(dsn, "double", [1, 2], owner=5),
     "owner must be a str"),
    # -- tasks ------------------------------------------------------------------------------
    ("a word as task id", lambda dsn: api.get_task(dsn, "abc"),
     f"task id must be a whole number {INT8_TEXT}, got 'abc'"),
    ("True as task id", lambda dsn: api.get_task(dsn, True), "task id must be"),
    ("0 as task id", lambda dsn: api.get_task(dsn, 0), "task id must be"),
    ("a task id beyond bigint", lambda dsn: api.get_task(dsn, 10**20), "task id must be"),
    ("a float as task id", lambda dsn: api.get_task(dsn, 1.0), "task id must be"),
    ("a str id to abort", lambda dsn: api.abort(dsn, "1"), "task id must be"),
    ("None to relaunch", lambda dsn: api.relaunch(dsn, None), "task id must be"),
    ("a negative id to delete", lambda dsn: api.delete(dsn, -1), "task id must be"),
    ("a word as the handle's id", lambda dsn: api.Task(dsn, "abc"), "task id must be"),
    ("a negative log limit", lambda dsn: api.Task(dsn, 1).logs(limit=-1),
     "limit must be a whole number"),
    ("a negative wait", lambda dsn: api.Task(dsn, 1).join(timeout=-1),
     "timeout must be a number"),
    ("a zero poll to follow", lambda dsn: next(api.Task(dsn, 1).follow(poll=0)),
     "poll must be a number more than 0"),
    ("a negative limit", lambda dsn: api.list_tasks(dsn, limit=-1),
     f"limit must be a whole number {INT8_TEXT}, got -1"),
    ("a zero limit", lambda dsn: api.list_tasks(dsn, limit=0), "limit must be"),
    ("a limit beyond bigint", lambda dsn: api.list_tasks(dsn, limit=10**20), "limit must be"),
    ("a limit as text", lambda dsn: api.list_tasks(dsn, limit="10"), "limit must be"),
    ("True as limit", lambda dsn: api.list_tasks(dsn, limit=True), "limit must be"),
    ("an unknown status", lambda dsn: api.list_tasks(dsn, status="finished"),
     "unknown status 'finished'"),
    ("an int as status", lambda dsn: api.list_tasks(dsn, status=5), "status must be a str"),
    ("an int owner to list", lambda dsn: api.list_tasks(dsn, owner=5), "owner must be a str"),
    ("an int as the filter text", lambda dsn: api.list_tasks(dsn, text=5),
     "text must be a str"),
    ("a sort by input", lambda dsn: api.list_tasks(dsn, sort="input"),
     "cannot sort tasks by 'input'"),
    ("a word as descending", lambda dsn: api.list_tasks(dsn, descending="no"),
     "descending must be True or False"),
    ("a word as the keyset cursor", lambda dsn: api.list_tasks(dsn, before="x"),
     "before must be"),
    ("a negative search span", lambda dsn: api.list_tasks(dsn, newest=-1), "newest must be"),
    ("an int owner to count", lambda dsn: api.count_tasks(dsn, owner=5), "owner must be a str"),
    ("an int as workflow name", lambda dsn: api.workflow(dsn, 5),
     "workflow name must be a non-empty str"),
    ("an empty workflow name", lambda dsn: api.workflow(dsn, ""), "workflow name must be"),
    # -- processes ------------------------------------------------------------------------
    ("a word as worker id to kill", lambda dsn: api.kill_worker(dsn, "x"),
     "worker id must be a whole number from 1 to 2,147,483,647, got 'x'"),
    ("True as worker id", lambda dsn: api.kill_worker(dsn, True), "worker id must be"),
    ("a worker id beyond the serial column", lambda dsn: api.kill_worker(dsn, 2**31),
     "worker id must be"),
    ("a float as worker id", lambda dsn: api.shutdown_worker(dsn, 1.5), "worker id must be"),
    ("a str as monitor id", lambda dsn: api.shutdown_monitor(dsn, "1"), "monitor id must be"),
    ("a word as now", lambda dsn: api.shutdown_monitor(dsn, 1, now="yes"),
     "now must be True or False"),
    ("a word as all monitors", lambda dsn: api.list_monitors(dsn, all="x"),
     "all must be True or False"),
    ("1 as all workers", lambda dsn: api.list_workers(dsn, all=1), "all must be True or False"),
    ("a word as monitor id of workers", lambda dsn: api.list_workers(dsn, monitor_id="x"),
     "monitor id must be"),
    ("a negative minimum of workers", lambda dsn: api.run_monitor(dsn, min_workers=-1),
     "min_workers must be"),
    ("a million workers", lambda dsn: api.run_monitor(dsn, max_workers=10**6),
     "max_workers must be"),
    ("an int as the monitor's domain", lambda dsn: api.run_monitor(dsn, 5),
     "domain must be a non-empty str"),
    ("memory as text", lambda dsn: api.run_monitor(dsn, max_mem="1G"), "max_mem must be"),
    # -- cron schedules ---------------------------------------------------------------------
    ("an int as the operation to prepare", lambda dsn: api.prepare(dsn, 5, CRON),
     "operation must be a non-empty str"),
    ("an int as rule", lambda dsn: api.prepare(dsn, "double", 5),
     "rule must be a non-empty str"),
    ("a rule of three fields", lambda dsn: api.prepare(dsn, "double", "* * *"),
     "a cron rule has five fields"),
    ("an int as time zone", lambda dsn: api.prepare(dsn, "double", CRON, tz=5),
     "tz must be a str"),
    ("an unknown time zone", lambda dsn: api.prepare(dsn, "double", CRON, tz="Mars/Olympus"),
     "unknown time zone"),
    ("an unknown missed policy", lambda dsn: api.prepare(dsn, "double", CRON, missed="twice"),
     "missed must be one of once, skip"),
    ("a list as the schedule's metadata",
     lambda dsn: api.prepare(dsn, "double", CRON, metadata=[1]),
     "metadata must be a JSON object"),
    ("a schedule's priority beyond the column",
     lambda dsn: api.prepare(dsn, "double", CRON, priority=2**40), "priority must be"),
    ("an int as the schedule's owner", lambda dsn: api.prepare(dsn, "double", CRON, owner=5),
     "owner must be a str"),
    ("a word as schedule id", lambda dsn: api.unprepare(dsn, "x"),
     "schedule id must be a whole number from 1 to 2,147,483,647"),
    ("True as schedule id to pause", lambda dsn: api.pause_schedule(dsn, True),
     "schedule id must be"),
    ("a negative schedule id to resume", lambda dsn: api.resume_schedule(dsn, -1),
     "schedule id must be"),
    ("a schedule id beyond the column", lambda dsn: api.run_schedule(dsn, 2**31),
     "schedule id must be"),
    ("hours as a word", lambda dsn: api.scheduled_plan(dsn, "x"),
     "hours must be a number more than 0 and at most 8784"),
    ("True as hours", lambda dsn: api.scheduled_plan(dsn, True), "hours must be"),
    ("no hours", lambda dsn: api.scheduled_plan(dsn, 0), "hours must be"),
    ("NaN hours", lambda dsn: api.scheduled_plan(dsn, math.nan), "hours must be"),
    ("a million hours", lambda dsn: api.scheduled_plan(dsn, 10**6), "hours must be"),
    # -- operations ---------------------------------------------------------------------------
    ("an int as path", lambda dsn: api.register_operations(dsn, 5),
     "path must be a file path or a module name"),
    ("an empty path", lambda dsn: api.register_operations(dsn, ""), "path must be"),
    ("an int as domain to register", lambda dsn: api.register_operations(dsn, OPS, domain=5),
     "domain must be a str"),
    ("a list as host to register", lambda dsn: api.register_operations(dsn, OPS, host=["h"]),
     "host must be a str"),
    ("an int as operation to unregister", lambda dsn: api.unregister_operation(dsn, 5),
     "operation name must be a non-empty str"),
    ("an int as domain to list", lambda dsn: api.list_operations(dsn, domain=5),
     "domain must be a str"),
    ("a retry count below 0 in @task", lambda dsn: api.task(retries=-1), "retries must be"),
    ("an int as retry_on in @task", lambda dsn: api.task(retry_on=5), "retry_on must be a list"),
    ("an int as domain in @task", lambda dsn: api.task(domain=5),
     "an operation's domain must be printable text"),
    ("a name where @task takes its function", lambda dsn: api.task("report"),
     "@task takes a function, or options by keyword"),
    # -- the database -----------------------------------------------------------------------
    ("days beyond PostgreSQL's intervals", lambda dsn: api.vacuum(dsn, days=10**12),
     "days must be a whole number from 1 to 36,500, got 1000000000000"),
    ("days as a word", lambda dsn: api.vacuum(dsn, days="x"), "days must be"),
    ("negative days, which would delete what just finished",
     lambda dsn: api.vacuum(dsn, days=-1), "days must be"),
    ("no days, which would delete what just finished",
     lambda dsn: api.vacuum(dsn, days=0), "days must be"),
    ("fractional days", lambda dsn: api.vacuum(dsn, days=1.5), "days must be"),
    ("True as days", lambda dsn: api.vacuum(dsn, days=True), "days must be"),
    ("an int as dsn", lambda dsn: api.list_tasks(123),
     "dsn must be a libpq DSN or URI (a str), a SQLAlchemy engine or URL, or None, got 123"),
    ("an int as dsn to schedule", lambda dsn: api.schedule(123, "double"), "dsn must be"),
    ("bytes as dsn", lambda dsn: api.init_db(dsn.encode()), "dsn must be"),
    ("a list as dsn", lambda dsn: api.check_database([dsn]), "dsn must be"),
    ("an int as dsn to resolve", lambda dsn: api.resolve_dsn(5), "dsn must be"),
    ("an int as dsn to register", lambda dsn: api.register_operations(5, OPS), "dsn must be"),
    ("None as dsn to describe", lambda dsn: api.describe_dsn(None),
     "dsn must be a non-empty str"),
    ("an int as dsn to watch", lambda dsn: api.watch(5), "dsn must be"),
    # -- for front ends ---------------------------------------------------------------------
    ("a negative sanitize limit", lambda dsn: api.sanitize("x", limit=-1), "limit must be"),
    ("a word as keep_colours", lambda dsn: api.sanitize("x", keep_colours="no"),
     "keep_colours must be True or False"),
]


TABLES = ("task", "dependency", "log", "schedule", "operation", "monitor", "worker")


def contents(conn):
    """A digest of every row of every table: equal digests, nothing written."""
    return {table: conn.execute(
        f"select count(*), md5(coalesce(string_agg(r::text, ',' order by r::text), '')) "
        f"from jobconsole.{table} r").fetchone() for table in TABLES}


@pytest.fixture
def world(dsn, sql_conn):
    """A task that has just finished, with a log line; a queued one; a schedule.
    Returns the finished task."""
    finished = api.schedule(dsn, "double", 1)
    api.schedule(dsn, "double", 2)
    api.prepare(dsn, "double", CRON)
    sql_conn.execute("update jobconsole.task set status = 'done', output = '2', "
                     "claimed = now(), started = now(), finished = now() where id = %s",
                     (finished.id,))
    sql_conn.execute("insert into jobconsole.log (task_id, line) values (%s, 'doubling 1')",
                     (finished.id,))
    return finished


@pytest.mark.parametrize("call, fragment",
                         [pytest.param(call, fragment, id=what) for what, call, fragment in CASES])
def test_a_malformed_call_raises_bad_input_in_one_line_and_writes_nothing(
        dsn, sql_conn, world, call, fragment):
    before = contents(sql_conn)
    with pytest.raises(BadInput) as raised:
        call(dsn)
    message = str(raised.value)
    assert fragment in message
    assert "\n" not in message
    assert contents(sql_conn) == before
    assert world.state == "done"


def test_the_table_covers_every_call_named_in_the_issue_and_many_more():
    assert len(CASES) >= 60
    assert len({what for what, _, _ in CASES}) == len(CASES)


# -- vacuum keeps a day: what just finished is still there to be read -----------------------

def test_the_shortest_vacuum_keeps_a_task_that_has_just_finished(dsn, sql_conn, world):
    assert api.vacuum(dsn, days=1) == {"tasks": 0, "monitors": 0}
    assert world.output == 2


def test_a_vacuum_deletes_what_finished_before_its_days(dsn, sql_conn, world):
    sql_conn.execute("update jobconsole.task set finished = now() - interval '2 days' "
                     "where id = %s", (world.id,))
    assert api.vacuum(dsn, days=1)["tasks"] == 1
    assert api.vacuum(dsn, days=36_500) == {"tasks": 0, "monitors": 0}


# -- valid calls the checks must let through -----------------------------------------------

def test_tasks_and_their_ids_serve_as_dependencies_and_a_path_as_a_file(dsn, world, tmp_path):
    first = api.schedule(dsn, "double", 3)
    info = first.info()
    task = api.schedule(dsn, "double", 4, depends_on=(t for t in [first, world.id, info]))
    assert task.dependencies() == (sorted([first.id, world.id]), [])
    assert [t.state for t in api.schedule_many(dsn, "double", range(3), owner="o")] == \
        ["queued"] * 3
    from pathlib import Path
    assert api.register_operations(dsn, Path(OPS))


# -- the command line: the same checks, one line on stderr --------------------------------

def jobconsole(dsn, *args):
    """(exit code, stdout, stderr) of `jobconsole ARGS` run as a real process."""
    env = dict(os.environ, JOBCONSOLE_DSN=dsn)
    proc = subprocess.run([sys.executable, "-m", "jobconsole.console", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


CLI_CASES = [
    (["vacuum", "--days", "1000000000000"], "days must be a whole number from 1 to 36,500"),
    (["vacuum", "--days", "0"], "days must be"),
    (["vacuum", "--days", "-1"], "days must be"),
    (["list-tasks", "--limit", "100000000000000000000"], "limit must be a whole number"),
    (["list-tasks", "--limit", "1e20"], "Invalid value for '--limit'"),
    (["list-tasks", "--limit", "0"], "limit must be"),
    (["schedule", "double", "--metadata", "[1]"], "metadata must be a JSON object"),
    (["schedule", "double", "--metadata", '"text"'], "metadata must be a JSON object"),
    (["show-task", "100000000000000000000"], "task id must be"),
    (["kill-worker", "10000000000"], "worker id must be"),
    (["unprepare", "10000000000"], "schedule id must be"),
    (["show-task"], "Missing argument 'TASK_ID'"),
]


@pytest.mark.parametrize("args, fragment", [
    pytest.param(args, fragment, id=" ".join(args)) for args, fragment in CLI_CASES])
def test_the_cli_says_what_is_wrong_in_one_line_and_exits_2(dsn, sql_conn, world, args,
                                                            fragment):
    before = contents(sql_conn)
    code, out, err = jobconsole(dsn, *args)
    assert code == 2
    assert err.startswith("jobconsole: ") and fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""
    assert contents(sql_conn) == before
