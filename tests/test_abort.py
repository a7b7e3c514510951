"""Abort and timeouts: a queued task never runs; a running one's worker is killed."""
import time

from helpers import alive, task_pid, wait_for

import pytest

from jobconsole import api
from jobconsole.errors import Conflict


def test_an_aborted_queued_task_never_runs(dsn, start_monitor, tmp_path):
    marker = tmp_path / "ran"
    task = api.schedule(dsn, "record", 1, metadata={"file": str(marker)})
    assert task.abort() == "aborted"
    start_monitor()
    follower = api.schedule(dsn, "double", 1).join(timeout=30)   # the worker is up and busy
    assert follower.state == "done"
    assert task.state == "aborted"
    assert task.info().started is None
    assert not marker.exists()


def test_aborting_a_running_task_kills_its_worker_and_a_new_one_serves(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 60)
    pid = task_pid(task)
    assert task.state == "running"

    assert task.abort() == "aborting"
    task.join(timeout=10)
    assert task.state == "aborted"
    wait_for(lambda: not alive(pid), 5, "the aborted task's worker to be gone")

    new_pids = mon.wait_workers(1)
    assert pid not in new_pids
    assert api.schedule(dsn, "double", 4).join(timeout=30).output == 8


def test_abort_is_idempotent_but_a_finished_task_cannot_be_aborted(dsn, start_monitor):
    queued = api.schedule(dsn, "double", 1)
    assert queued.abort() == "aborted"
    assert queued.abort() == "aborted"
    start_monitor()
    task = api.schedule(dsn, "double", 1).join(timeout=30)
    with pytest.raises(Conflict, match="already done"):
        task.abort()


def test_a_task_past_its_timeout_fails_with_kind_timeout(dsn, start_monitor):
    start_monitor()
    started = time.monotonic()
    task = api.schedule(dsn, "overdue").join(timeout=30)   # operation timeout: 0.5 s
    assert task.state == "failed"
    assert task.error_kind == "timeout"
    assert "timed out after 0.5 s" in task.traceback
    assert time.monotonic() - started < 10
    assert api.schedule(dsn, "double", 2).join(timeout=30).output == 4


def test_a_timeout_given_at_schedule_time_overrides_none(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "sleep", 30, timeout=0.3)
    pid = task_pid(task)
    task.join(timeout=30)
    assert (task.state, task.error_kind) == ("failed", "timeout")
    wait_for(lambda: not alive(pid), 5, "the timed-out worker to be gone")


def test_aborting_a_task_also_kills_the_processes_it_started(dsn, start_monitor):
    start_monitor("--workers", "1")
    task = api.schedule(dsn, "spawner")
    child = task_pid(task)             # a process of its own, deaf to SIGTERM
    assert task.abort() == "aborting"
    task.join(timeout=30)
    assert task.state == "aborted"
    wait_for(lambda: not alive(child), 10, f"the task's child {child} gone")
