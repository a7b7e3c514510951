"""Claiming: every task runs exactly once, in priority order, woken without polling."""
import time

import psycopg
import pytest

from jobconsole import api
from jobconsole.worker import GROUP


def test_many_tasks_with_several_workers_each_run_exactly_once(dsn, start_monitor, tmp_path):
    record = tmp_path / "runs.txt"
    tasks = api.schedule_many(dsn, "record", list(range(300)), metadata={"file": str(record)})
    start_monitor("--workers", "4")
    for t in tasks:
        t.join(timeout=60)
    runs = [line.split()[0] for line in record.read_text().splitlines()]
    assert sorted(runs, key=int) == [str(i) for i in range(300)]
    assert len({line.split()[1] for line in record.read_text().splitlines()}) > 1  # shared


def test_higher_priority_runs_first_then_oldest_first(dsn, start_monitor, tmp_path):
    record = tmp_path / "order.txt"
    meta = {"file": str(record)}
    for name, priority in [("low-1", 0), ("high-1", 5), ("low-2", 0), ("high-2", 5), ("mid", 2)]:
        api.schedule(dsn, "record", name, priority=priority, metadata=meta)
    start_monitor("--workers", "1")
    for t in api.list_tasks(dsn):
        api.get_task(dsn, t.id).join(timeout=30)
    order = [line.split()[0] for line in record.read_text().splitlines()]
    assert order == ["high-1", "high-2", "mid", "low-1", "low-2"]


def test_an_idle_worker_wakes_on_notify_not_on_its_poll(dsn, start_monitor):
    start_monitor("--workers", "1")
    api.schedule(dsn, "double", 0).join(timeout=30)     # the worker is warm and idle
    time.sleep(0.5)
    task = api.schedule(dsn, "double", 1).join(timeout=30)
    info = task.info()
    # the safety-net poll is 2 s in the tests: a start within 1 s came from NOTIFY
    assert (info.started - info.queued).total_seconds() < 1.0


def test_a_task_aborted_while_others_stream_through_never_runs(dsn, start_monitor, tmp_path):
    """Workers claim quick tasks ahead; an abort lands on queued, claimed-ahead and
    finished tasks alike, and whatever it reports 'aborted' must never have run."""
    from jobconsole.errors import Conflict
    record = tmp_path / "runs.txt"
    start_monitor("--workers", "2")
    tasks = api.schedule_many(dsn, "record", list(range(400)), metadata={"file": str(record)})
    aborted, aborting = set(), set()
    for task in tasks[::-7]:    # newest first: some are surely still queued when aborted
        try:
            (aborted if task.abort() == "aborted" else aborting).add(task.id)
        except Conflict:
            pass                              # it was already done
    for task in tasks:
        task.join(timeout=60)
    ran = [int(line.split()[0]) for line in record.read_text().splitlines()]
    assert len(ran) == len(set(ran))          # nothing ran twice
    assert aborted and not aborted & {tasks[i].id for i in ran}
    states = {t.id: t.status for t in api.list_tasks(dsn, limit=1000)}
    # a task already started when the abort came ('aborting') may have finished first:
    # the abort still wins its final status
    assert {tid for tid, s in states.items() if s == "aborted"} == aborted | aborting
    assert all(states[tasks[i].id] == "done" for i in ran if tasks[i].id not in aborting)


@pytest.mark.slow
def test_killing_a_busy_worker_never_runs_a_task_twice(dsn, start_monitor, tmp_path):
    import os
    import signal
    from helpers import wait_for
    record = tmp_path / "runs.txt"
    mon = start_monitor("--workers", "1")
    tasks = api.schedule_many(dsn, "record", list(range(3000)), metadata={"file": str(record)})
    wait_for(lambda: record.exists() and len(record.read_text().splitlines()) > 100, 20,
             "the worker to be streaming")
    victim = mon.workers()[0].pid
    os.kill(victim, signal.SIGKILL)
    for task in tasks:
        task.join(timeout=60)
    ran = [int(line.split()[0]) for line in record.read_text().splitlines()]
    assert len(ran) == len(set(ran))
    infos = api.list_tasks(dsn, limit=5000)
    crashed = [t for t in infos if t.status == "failed"]
    # the tasks the worker had started (tiny ones start in groups) fail as crashes; the
    # ones it had only claimed go back to the queue and run once
    assert all(t.error_kind == "crash" for t in crashed) and len(crashed) <= GROUP
    assert len([t for t in infos if t.status == "done"]) == 3000 - len(crashed)
    assert {t.worker_id for t in infos if t.status == "done"} != {None}


def test_a_task_aborted_while_it_waits_in_a_group_never_runs(dsn, start_monitor, tmp_path):
    """Tiny tasks start in groups; one that waits behind a slow one is given back or,
    aborted meanwhile, ends aborted without running, and the slow one is not killed."""
    import time
    record = tmp_path / "runs.txt"
    meta = {"file": str(record)}
    start_monitor("--workers", "1")
    warm = api.schedule_many(dsn, "record", list(range(100)), metadata=meta)
    for t in warm:
        t.join(timeout=30)                      # the worker now knows tasks are tiny
    time.sleep(0.3)
    before = api.schedule_many(dsn, "record", list(range(100, 107)), metadata=meta)
    slow = api.schedule(dsn, "sleep", 1.5)
    after = api.schedule_many(dsn, "record", list(range(200, 207)), metadata=meta)
    victim = after[3]
    from helpers import wait_for
    wait_for(lambda: slow.info().started, 10, "the slow task to start")
    victim.abort()      # queued, in the hand, or started in a group: it must never run
    for t in before + [slow] + after:
        t.join(timeout=30)
    ran = [int(line.split()[0]) for line in record.read_text().splitlines()]
    assert 203 not in ran and victim.state == "aborted"
    assert slow.state == "done"
    assert sorted(r for r in ran if r >= 100) == [*range(100, 107), 200, 201, 202, 204, 205, 206]


def test_tasks_that_prove_slower_than_tiny_leave_their_group_in_time(dsn, start_monitor,
                                                                     tmp_path):
    """Tiny tasks start in groups, and a task's timeout counts from its start: when a
    group's tasks prove slower, what remains of it goes back to the queue, so none times
    out for the time it waited behind the others, and each runs once."""
    runs = tmp_path / "runs.txt"
    api.schedule_many(dsn, "record", list(range(80)), metadata={"file": str(tmp_path / "w")})
    slower = api.schedule_many(dsn, "record", list(range(100, 116)), timeout=0.5,
                               metadata={"file": str(runs), "sleep": 0.09})
    start_monitor("--workers", "1")     # a deep queue of tiny tasks: big claims, groups
    for t in slower:
        t.join(timeout=60)
    assert [t.state for t in slower] == ["done"] * 16
    assert sorted(int(line.split()[0]) for line in runs.read_text().splitlines()) == \
        list(range(100, 116))


def test_a_slow_task_in_a_group_does_not_hold_back_what_finished_before_it(
        dsn, start_monitor, tmp_path):
    """Results of a group are recorded together after it; when one of its tasks proves
    slow, those finished before it are recorded at once, before their timeouts run out."""
    meta = {"file": str(tmp_path / "runs.txt")}
    api.schedule_many(dsn, "record", list(range(79)), metadata=meta)
    quick = api.schedule_many(dsn, "record", [100, 101, 102], timeout=0.5, metadata=meta)
    slow = api.schedule(dsn, "sleep", 1.5)
    start_monitor("--workers", "1")
    slow.join(timeout=30)
    assert [(t.state, t.error_kind) for t in quick] == [("done", None)] * 3
    assert slow.state == "done"


def test_a_lone_task_claimed_after_tiny_ones_can_still_be_aborted(dsn, start_monitor, tmp_path):
    """After tiny tasks a worker claims and starts tasks in groups, naming none as its
    running task; a task that proves slow, even alone in its group, is named as soon
    as it does, so that an abort kills it."""
    from helpers import alive, task_pid, wait_for

    start_monitor("--workers", "1")
    tiny = api.schedule_many(dsn, "record", list(range(80)), metadata={"file": str(tmp_path / "w")})
    tiny[-1].join(timeout=30)
    slow = api.schedule(dsn, "sleep", 60)
    pid = task_pid(slow)

    assert slow.abort() == "aborting"
    slow.join(timeout=10)
    assert slow.state == "aborted"
    wait_for(lambda: not alive(pid), 5, "the aborted task's worker to be gone")


def test_a_task_started_in_a_group_is_announced_once_it_proves_slow(dsn, start_monitor,
                                                                     tmp_path):
    """Tasks started in a group are announced when they end, not as they start; one that
    runs on is announced as soon as it proves slow, so that live views show it running."""
    start_monitor("--workers", "1")
    tiny = api.schedule_many(dsn, "record", list(range(80)), metadata={"file": str(tmp_path / "w")})
    tiny[-1].join(timeout=30)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("listen jobconsole_task")
        slow = api.schedule(dsn, "sleep", 60)
        heard = set()
        deadline = time.monotonic() + 10
        while str(slow.id) not in heard and time.monotonic() < deadline:
            for note in conn.notifies(timeout=0.5, stop_after=1):
                heard.update(note.payload.split(","))
        assert str(slow.id) in heard
        assert slow.info().status == "running"
    slow.abort()
    slow.join(timeout=10)
