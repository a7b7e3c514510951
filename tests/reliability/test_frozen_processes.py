"""Frozen processes (SIGSTOP, a hung C extension, a paused VM) never lead to two runs of
a task at once, and a monitor that wakes up after being declared dead goes on serving.

The clocks here: a beat every 0.3 s, silence of 3 s means death.
"""
import os
import signal
import time

import pytest

from helpers import alive, wait_for
from jobconsole import api

import journal

pytestmark = pytest.mark.slow

CLOCK = {"JOBCONSOLE_HEARTBEAT": "0.3", "JOBCONSOLE_STALE": "3"}
FROZEN = 7   # seconds, over twice the stale time


def running_on(mon, tasks):
    """{task id: worker pid} once each task's code runs on one of `mon`'s workers."""
    def seen():
        by_task = {w.task_id: w.pid for w in mon.workers() if w.task_id is not None}
        return by_task if all(t.id in by_task for t in tasks) else None
    return wait_for(seen, 20, "the tasks to run")


def freeze(pids):
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)


def thaw(pids):
    for pid in pids:
        os.kill(pid, signal.SIGCONT)


def test_a_frozen_monitor_whose_workers_beat_is_not_declared_dead(rdsn, monitors, journal_path):
    a = monitors("--workers", "2", host="a", **CLOCK)
    monitors("--workers", "2", host="b", **CLOCK)
    tasks = [api.schedule(rdsn, "work", 4, host="a", metadata={"journal": journal_path})
             for _ in range(2)]
    running_on(a, tasks)
    mid = a.id

    freeze([a.pid])
    time.sleep(FROZEN)
    thaw([a.pid])

    assert [t.join(20).status for t in tasks] == ["done", "done"]
    assert [m.status for m in api.list_monitors(rdsn) if m.id == mid] == ["running"]
    seen = journal.verdict(journal_path, rdsn)
    assert seen.failures() == {}


def test_a_frozen_worker_is_killed_before_its_task_is_retried(rdsn, monitors, journal_path):
    monitors("--workers", "1", host="a", **CLOCK)
    monitors("--workers", "1", host="b", **CLOCK)
    task = api.schedule(rdsn, "work", 30, metadata={"journal": journal_path})
    pid = wait_for(lambda: worker_of(rdsn, task), 20, "the task to run")
    # frozen once its code runs (frozen before, it would never write its first run)
    wait_for(lambda: journal.runs(journal_path).get(task.id), 20, "the task's code to start")

    freeze([pid])
    wait_for(lambda: len(journal.runs(journal_path).get(task.id, [])) == 2, 30,
             "the task's second attempt")
    assert not alive(pid), "attempt 2 started while attempt 1's process lived"

    api.abort(rdsn, task.id)
    assert task.join(20).status == "aborted"
    assert journal.verdict(journal_path, rdsn).failures(allow_reruns=True) == {}


def test_a_host_frozen_whole_is_fenced_when_it_wakes_and_serves_on(
        rdsn, monitors, journal_path):
    a = monitors("--workers", "1", host="a", **CLOCK)
    task = api.schedule(rdsn, "work", 30, metadata={"journal": journal_path})
    first = wait_for(lambda: worker_of(rdsn, task), 20, "the task to run")
    monitors("--workers", "1", host="b", **CLOCK)
    old_id = a.id

    frozen = [a.pid, *a.child_pids()]
    freeze(frozen)
    wait_for(lambda: len(journal.runs(journal_path).get(task.id, [])) == 2, 30,
             "the task's second attempt, on host b")
    thawed = time.time()
    thaw(frozen)

    wait_for(lambda: not alive(first), 10, "attempt 1's process to be killed")
    wait_for(lambda: any(m.pid == a.pid and m.id != old_id and m.status == "running"
                         for m in api.list_monitors(rdsn)), 20, "host a's monitor to serve anew")
    assert a.proc.poll() is None
    one, two = journal.runs(journal_path)[task.id]
    assert not one.ended
    # its code may run for the moment it takes its companion to read the verdict
    assert one.last < thawed + 1.0
    api.abort(rdsn, task.id)
    assert task.join(20).status == "aborted"


def worker_of(dsn, task):
    return next((w.pid for w in api.list_workers(dsn) if w.task_id == task.id), None)
