"""Retries: which failures retry, how often, after how long; an abort never does."""
import os
import signal

import psycopg
import pytest
from helpers import task_pid

from jobconsole import api
from jobconsole.errors import BadInput


def test_a_failing_task_is_retried_until_it_succeeds(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "flaky").join(timeout=30)          # retries=2 on the operation
    info = task.info()
    assert (info.status, info.output, info.attempt) == ("done", "worked at attempt 3", 3)


def test_every_failed_attempt_is_listed_with_its_outcome(dsn, start_monitor):
    from test_cli import jc
    start_monitor()
    task = api.schedule(dsn, "flaky").join(timeout=30)
    attempts = task.attempts()
    assert [(a.attempt, a.error_kind) for a in attempts] == [(1, "error"), (2, "error")]
    assert all(a.started <= a.finished and a.worker_id for a in attempts)
    assert "attempt 1 failed" in attempts[0].traceback
    assert "attempt 2 failed" in attempts[1].traceback
    code, out, err = jc(dsn, "show-task", str(task.id))
    assert code == 0 and "attempts that failed before this one:" in out
    assert out.count("failed (error)") == 2


def test_retries_run_out_and_the_last_failure_is_kept(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "flaky", retries=1).join(timeout=30)
    info = task.info()
    assert (info.status, info.error_kind, info.attempt) == ("failed", "error", 2)
    assert "attempt 2 failed" in info.traceback


def test_a_crashed_task_is_retried_on_another_worker(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "crash_first")
    os.kill(task_pid(task), signal.SIGKILL)
    info = task.join(timeout=30).info()
    assert (info.status, info.output, info.attempt) == ("done", "second attempt", 2)


def test_an_abort_never_retries(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "sleep", 60, retries=3)
    task_pid(task)
    task.abort()
    info = task.join(timeout=30).info()
    assert (info.status, info.attempt) == ("aborted", 1)


def test_only_the_listed_error_kinds_retry(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "flaky", retry_on=["crash"]).join(timeout=30)
    assert (task.state, task.info().attempt) == ("failed", 1)


def test_a_backoff_delays_the_retry(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "flaky", retries=1, backoff=1.0)
    from helpers import wait_for
    wait_for(lambda: task.info().attempt == 2, 10, "the first failure")
    info = task.info()
    assert info.status == "waiting"
    assert info.run_at is not None and info.error_kind == "error"
    task.join(timeout=30)
    assert task.state == "failed" and task.info().attempt == 2


def test_a_retry_policy_is_checked(dsn):
    with pytest.raises(BadInput, match="an abort never retries"):
        api.schedule(dsn, "double", 1, retries=1, retry_on=["abort"])
    with pytest.raises(BadInput):
        api.schedule(dsn, "double", 1, retries=-1)
    assert api.list_tasks(dsn) == []


def test_a_task_scheduled_without_options_takes_all_its_operations_defaults(dsn):
    # the commonest enqueue has a statement of its own: it must fill what the full one does
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update jobconsole.operation set timeout = 7, retries = 3, backoff = 2, "
                     "retry_on = '{timeout}' where name = 'flaky'")
    bare = api.schedule(dsn, "flaky", {"n": 1})
    full = api.schedule(dsn, "flaky", {"n": 1}, workflow="w")
    fields = ("operation", "domain", "status", "priority", "timeout", "retries", "backoff",
              "retry_on", "input", "owner", "host", "run_at", "attempt")
    assert [getattr(bare.info(), f) for f in fields] == [getattr(full.info(), f) for f in fields]
    assert (bare.info().timeout, bare.info().retries, bare.info().status) == (7, 3, "queued")
