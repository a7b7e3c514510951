"""rex.job on jobconsole: a row inserted into the job table runs, a job deleted before it
starts never runs, a started one cannot be deleted, and executors store facets.

Jobs are inserted with plain SQL, as rex.job's users (and any other client) do.
"""
import json
import os

import psycopg
import pytest

from helpers import HERE, MonitorProcess, alive, wait_for
from jobconsole import api
from jobconsole.errors import NotFound
from jobconsole.records import TASK_STATUSES

OPS = os.path.join(HERE, "rexjob_ops.py")


@pytest.fixture
def jobs(dsn, sql_conn):
    """The job types of rexjob_ops.py, registered; jobs.insert(type, payload, owner) ->
    the new job's code."""
    api.register_operations(dsn, OPS)

    class Jobs:
        @staticmethod
        def insert(type, payload, owner="some-user"):
            return sql_conn.execute(
                "insert into jobconsole.job (owner, type, payload) values (%s, %s, %s) "
                "returning code", (owner, type, json.dumps(payload))).fetchone()[0]

        @staticmethod
        def status(code):
            row = sql_conn.execute("select status from jobconsole.job where code = %s",
                                   (code,)).fetchone()
            return row and row[0]

        @staticmethod
        def wait(code, *statuses, timeout=20):
            wait_for(lambda: Jobs.status(code) in statuses, timeout,
                     f"job {code} {' or '.join(statuses)}")

    return Jobs


@pytest.fixture
def monitor(dsn):
    """A monitor with two workers, for the job types of rexjob_ops.py."""
    started = []

    def start():
        mon = MonitorProcess(dsn, "--workers", "2", ops=OPS)
        started.append(mon)
        mon.wait_workers(2)
        return mon

    yield start
    for mon in started:
        mon.stop_with_workers()


def test_the_documents_example_runs_from_an_insert(jobs, monitor, dsn, sql_conn):
    monitor()
    # rex.job's example, in SQL: /insert(job := {owner := 'some-user', type := 'my_job',
    # payload := '{"some_param": 123}'})
    code = sql_conn.execute(
        "insert into jobconsole.job (owner, type, payload) "
        "values ('some-user', 'my_job', '{\"some_param\": 123}') returning code").fetchone()[0]
    jobs.wait(code, "completed")
    task = api.get_task(dsn, code)
    assert (task.info().operation, task.info().owner, task.input) == \
        ("my_job", "some-user", {"some_param": 123})
    assert any("My Job did something!" in line for _, line in task.logs())
    row = sql_conn.execute("select date_submitted <= date_started and date_started <= "
                           "date_completed from jobconsole.job where code = %s",
                           (code,)).fetchone()
    assert row == (True,)


def test_a_job_waits_queued_until_a_monitor_serves_its_type(jobs, monitor):
    code = jobs.insert("my_job", {})
    assert jobs.status(code) == "queued"
    monitor()
    jobs.wait(code, "completed")


def test_the_executor_receives_code_owner_and_payload(jobs, monitor, dsn):
    monitor()
    code = jobs.insert("echo_job", {"some_param": [1, "two"]}, owner="alice")
    jobs.wait(code, "completed")
    printed = [json.loads(line) for _, line in api.get_task(dsn, code).logs()
               if line.startswith("{")]
    assert printed == [{"code": code, "owner": "alice", "payload": {"some_param": [1, "two"]}}]


def test_a_failing_job_is_failed_with_its_traceback(jobs, monitor, dsn):
    monitor()
    code = jobs.insert("failing_job", {"x": 1})
    jobs.wait(code, "failed")
    assert "RuntimeError: job %d cannot do {'x': 1}" % code in api.get_task(dsn, code).traceback


def test_statuses_are_read_in_rex_jobs_words(sql_conn):
    words = dict(sql_conn.execute(
        "select s, jobconsole.job_status(s) from unnest(%s::text[]) s", (list(TASK_STATUSES),)))
    assert words == {"waiting": "new", "queued": "queued", "running": "started",
                     "aborting": "started", "done": "completed", "failed": "failed",
                     "aborted": "failed"}


def test_deleting_a_job_before_it_starts_cancels_it(jobs, monitor, dsn, sql_conn):
    cancelled = jobs.insert("echo_job", {"n": 1})
    kept = jobs.insert("echo_job", {"n": 2})
    deleted = sql_conn.execute("delete from jobconsole.job where code = %s", (cancelled,))
    assert deleted.rowcount == 1
    monitor()
    jobs.wait(kept, "completed")
    assert jobs.status(cancelled) is None
    with pytest.raises(NotFound):
        api.get_task(dsn, cancelled).info()


def test_deleting_a_started_job_is_refused_and_the_row_stays(jobs, monitor, dsn, sql_conn):
    monitor()
    code = jobs.insert("slow_job", {"sleep": 30})
    jobs.wait(code, "started")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as refused:
        sql_conn.execute("delete from jobconsole.job where code = %s", (code,))
    assert f"job {code} is started, so it can no longer be cancelled" in str(refused.value)
    assert jobs.status(code) == "started"
    # what the console's abort key and abort-task do: an aborted job has failed
    api.abort(dsn, code)
    jobs.wait(code, "failed")


def test_deleting_a_finished_job_is_refused(jobs, monitor, sql_conn):
    monitor()
    code = jobs.insert("my_job", {})
    jobs.wait(code, "completed")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="is completed"):
        sql_conn.execute("delete from jobconsole.job where code = %s", (code,))
    assert jobs.status(code) == "completed"


def test_facets_are_stored_merged_and_read_with_sql(jobs, monitor, dsn, sql_conn):
    monitor()
    code = jobs.insert("facet_job", {}, owner="carol")
    jobs.wait(code, "completed")
    rows = dict(sql_conn.execute(
        "select name, \"values\" from jobconsole.job_facet where code = %s", (code,)))
    assert rows == {"my_job": {"num_records": 1234, "status_note": "halfway"},
                    "audit": {"checked_by": "carol"}}
    # the console's task screen shows the task's facet, under each table's name
    assert api.get_task(dsn, code).info().facet == rows


def test_an_executor_cannot_write_another_jobs_facet(jobs, monitor, dsn):
    monitor()
    other = jobs.insert("my_job", {})
    code = jobs.insert("meddler_job", {"other": other})
    jobs.wait(code, "failed")
    assert f"not of job {other}" in api.get_task(dsn, code).traceback


def test_an_unknown_type_is_refused_and_nothing_is_stored(jobs, sql_conn):
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match="no job type 'no_such_job': register its JobExecutor"):
        jobs.insert("no_such_job", {})
    assert sql_conn.execute("select count(*) from jobconsole.task").fetchone() == (0,)


@pytest.mark.parametrize("columns, values", [
    ("code, owner, type, payload", "(99, 'u', 'my_job', '{}')"),
    ("owner, type, payload, status", "('u', 'my_job', '{}', 'completed')"),
])
def test_a_job_is_inserted_without_code_or_status(jobs, sql_conn, columns, values):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="jobconsole gives its code"):
        sql_conn.execute(f"insert into jobconsole.job ({columns}) values {values}")
    assert sql_conn.execute("select count(*) from jobconsole.task").fetchone() == (0,)


def test_the_job_table_shows_jobs_and_no_other_tasks(jobs, dsn, sql_conn):
    api.schedule(dsn, "my_job", {"scheduled": "by the api"})
    code = jobs.insert("my_job", {"inserted": "as a job"})
    assert [r[0] for r in sql_conn.execute("select code from jobconsole.job")] == [code]
    assert len(api.list_tasks(dsn)) == 2


def test_jobs_are_tasks_to_the_cli(jobs, dsn):
    from test_cli import jc
    code = jobs.insert("my_job", {"n": 1}, owner="dave")
    rc, out, _ = jc(dsn, "list-tasks", "--owner", "dave", "--json")
    assert rc == 0
    [listed] = json.loads(out)
    assert (listed["id"], listed["operation"], listed["status"]) == (code, "my_job", "queued")
    rc, _, _ = jc(dsn, "abort-task", str(code))
    assert rc == 0
    assert jobs.status(code) == "failed"
