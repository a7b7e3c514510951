"""Monitors supervise workers: crashes, signals, scaling, recycling, remote requests."""
import os
import signal
import time

import psycopg
import pytest
from helpers import MonitorProcess, alive, env, task_pid, wait_for

from jobconsole import api


def test_a_worker_killed_mid_task_fails_its_task_as_a_crash(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 60)
    pid = task_pid(task)
    os.kill(pid, signal.SIGKILL)
    task.join(timeout=10)
    assert (task.state, task.error_kind) == ("failed", "crash")
    assert "killed by signal 9" in task.traceback
    assert pid not in mon.wait_workers(1)
    assert api.schedule(dsn, "double", 5).join(timeout=30).output == 10


def test_sigterm_stops_a_monitor_and_all_its_workers(dsn):
    mon = MonitorProcess(dsn, "--workers", "2")
    mon.wait_workers(2)
    task = api.schedule(dsn, "sleep", 60)
    task_pid(task)
    children = mon.child_pids()
    assert len(children) == 2
    assert mon.stop(signal.SIGTERM) == 0
    for pid in children:
        wait_for(lambda: not alive(pid), 5, f"worker {pid} gone")
    task.join(timeout=5)
    assert (task.state, task.error_kind) == ("failed", "crash")
    assert "monitor was shut down" in task.traceback
    assert [m.status for m in api.list_monitors(dsn, all=True)] == ["stopped"]
    assert api.list_workers(dsn) == []


def test_sigint_stops_a_monitor_like_sigterm(dsn):
    mon = MonitorProcess(dsn, "--workers", "1")
    mon.wait_workers(1)
    children = mon.child_pids()
    assert mon.stop(signal.SIGINT) == 0
    for pid in children:
        wait_for(lambda: not alive(pid), 5, f"worker {pid} gone")


def test_sigkill_of_a_monitor_takes_its_workers_and_another_host_reaps_its_tasks(dsn, start_monitor):
    doomed = MonitorProcess(dsn, "--workers", "1", host="host-a")
    doomed.wait_workers(1)
    task = api.schedule(dsn, "sleep", 60)
    worker_pid = task_pid(task)
    doomed.stop(signal.SIGKILL)
    wait_for(lambda: not alive(worker_pid), 5, "the worker to die with its monitor")
    assert task.state == "running"          # nobody has noticed yet

    start_monitor("--workers", "1", host="host-b")
    task.join(timeout=15)                   # once host-a's heartbeat is stale
    assert (task.state, task.error_kind) == ("failed", "crash")
    statuses = {m.host: m.status for m in api.list_monitors(dsn, all=True)}
    assert statuses == {"host-a": "dead", "host-b": "running"}


def test_only_one_monitor_runs_per_host_and_domain(dsn, start_monitor):
    start_monitor()
    second = MonitorProcess(dsn, "--workers", "1")
    assert second.proc.wait(20) == 6
    assert "already runs" in second.output()


def test_a_monitor_restarted_after_sigkill_takes_over_at_once(dsn, start_monitor):
    first = MonitorProcess(dsn, "--workers", "1")
    first.wait_workers(1)
    task = api.schedule(dsn, "sleep", 60)
    task_pid(task)
    first.stop(signal.SIGKILL)
    start_monitor("--workers", "1")         # same host: the dead pid is proof enough
    task.join(timeout=5)
    assert (task.state, task.error_kind) == ("failed", "crash")


@pytest.mark.slow
def test_workers_scale_up_with_demand_and_back_down(dsn, start_monitor):
    mon = start_monitor("--min-workers", "0", "--max-workers", "3", workers=0)
    tasks = [api.schedule(dsn, "sleep", 1.5) for _ in range(3)]
    wait_for(lambda: len(mon.workers()) == 3, 10, "three workers")
    for t in tasks:
        assert t.join(timeout=30).state == "done"
    wait_for(lambda: len(mon.workers()) == 0, 30, "idle workers to be retired")


@pytest.mark.slow
def test_idle_workers_retire_one_at_a_time_down_to_the_minimum(dsn, start_monitor):
    """A worker asked to retire takes up to a heartbeat to notice: meanwhile the monitor
    must not ask another, nor let the pool sink below its minimum and refill it."""
    with env(JOBCONSOLE_HEARTBEAT="1.0"):
        mon = start_monitor("--min-workers", "2", "--max-workers", "4", workers=2)
    tasks = [api.schedule(dsn, "sleep", 1.5) for _ in range(4)]
    wait_for(lambda: len(mon.workers()) == 4, 10, "four workers")
    for t in tasks:
        assert t.join(timeout=30).state == "done"
    wait_for(lambda: len(mon.workers()) == 2, 40, "two idle workers retired")
    time.sleep(3)                        # more ticks and heartbeats: nothing else moves
    assert len(mon.workers()) == 2
    assert len(api.list_workers(dsn, all=True)) == 4    # none replaced


def test_max_runs_recycles_a_worker(dsn, start_monitor):
    start_monitor("--workers", "1", "--max-runs", "2")
    tasks = [api.schedule(dsn, "double", i) for i in range(5)]
    workers = {t.join(timeout=30).info().worker_id for t in tasks}
    assert len(workers) == 3                 # 2 + 2 + 1
    stopped = [w for w in api.list_workers(dsn, all=True) if w.status == "stopped"]
    assert stopped and all("recycled after 2 runs" in w.reason for w in stopped)


def test_max_mem_recycles_a_worker_after_its_task(dsn, start_monitor):
    start_monitor("--workers", "1", "--max-mem", "100")
    big = api.schedule(dsn, "hog", 150).join(timeout=30)
    assert big.state == "done"
    after = api.schedule(dsn, "double", 1).join(timeout=30)
    assert after.info().worker_id != big.info().worker_id
    reasons = [w.reason for w in api.list_workers(dsn, all=True) if w.id == big.info().worker_id]
    assert "recycled at" in reasons[0]


def test_shutdown_worker_lets_its_task_finish(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 1)
    task_pid(task)
    worker = mon.workers()[0]
    api.shutdown_worker(dsn, worker.id)
    assert task.join(timeout=30).state == "done"
    wait_for(lambda: worker.id not in [w.id for w in mon.workers()], 10, "the worker to exit")
    ended = [w for w in api.list_workers(dsn, all=True) if w.id == worker.id][0]
    assert (ended.status, ended.reason) == ("stopped", "shut down on request")
    mon.wait_workers(1)                      # and the monitor replaces it


def test_kill_worker_kills_it_now_and_its_task_fails_as_a_crash(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 60)
    pid = task_pid(task)
    api.kill_worker(dsn, mon.workers()[0].id)
    task.join(timeout=10)
    assert (task.state, task.error_kind) == ("failed", "crash")
    assert "killed on request" in task.traceback
    wait_for(lambda: not alive(pid), 5, "the killed worker to be gone")


def test_shutdown_monitor_works_through_the_database(dsn):
    mon = MonitorProcess(dsn, "--workers", "2", host="somewhere-else")
    mon.wait_workers(2)
    children = mon.child_pids()
    api.shutdown_monitor(dsn, mon.id)
    assert mon.proc.wait(20) == 0
    for pid in children:
        assert not alive(pid)
    assert [m.status for m in api.list_monitors(dsn, all=True)] == ["stopped"]


def test_requests_to_unknown_or_ended_processes_are_refused(dsn):
    from jobconsole.errors import NotFound
    with pytest.raises(NotFound, match="no worker 99"):
        api.kill_worker(dsn, 99)
    with pytest.raises(NotFound, match="no monitor 99"):
        api.shutdown_monitor(dsn, 99)


@pytest.mark.slow
def test_a_monitor_frozen_alone_is_not_declared_dead_while_its_workers_beat(dsn):
    """A monitor frozen (SIGSTOP) past the stale limit, its workers beating on: another
    monitor must not declare it dead, which would fail, or run again elsewhere, a task
    whose code still runs. The task finishes; thawed, the monitor serves on."""
    from jobconsole import db
    from jobconsole.monitor import Monitor
    from jobconsole.timing import Timing
    frozen = MonitorProcess(dsn, "--workers", "1")
    frozen.wait_workers(1)
    task = api.schedule(dsn, "sleep", 3)
    task_pid(task)
    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        time.sleep(2.0)                                   # past JOBCONSOLE_STALE (1.5 s)
        other = Monitor(dsn, domain="elsewhere", host="other", timing=Timing(stale=1.5))
        other.conn = db.connect(dsn)
        other.reap()
        other.conn.close()
        assert task.state == "running"
        assert [m.status for m in api.list_monitors(dsn, all=True)] == ["running"]
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    assert task.join(timeout=20).state == "done"
    assert api.schedule(dsn, "double", 4).join(timeout=20).output == 8
    assert frozen.stop(signal.SIGTERM, timeout=10) == 0


def test_a_claim_still_in_flight_when_its_worker_dies_is_released(dsn):
    """A worker's claim is one statement: it commits even if the worker died meanwhile.
    Ending the dead worker waits for it, so what it claimed goes back to the queue."""
    import threading

    from jobconsole import transitions
    from jobconsole.hosts import this_host
    from jobconsole.monitor import Monitor
    admin = psycopg.connect(dsn, autocommit=True)
    mid = admin.execute("insert into jobconsole.monitor (host, domain, pid) "
                        "values (%s, 'default', 1) returning id", (this_host(),)).fetchone()[0]
    wid = admin.execute("insert into jobconsole.worker (monitor_id, host, domain, status) "
                        "values (%s, %s, 'default', 'running') returning id",
                        (mid, this_host())).fetchone()[0]
    queued = [t.id for t in api.schedule_many(dsn, "double", [1, 2, 3, 4])]
    holder = psycopg.connect(dsn)        # holds the worker's row, as a heartbeat may
    holder.execute("select from jobconsole.worker where id = %s for update", (wid,))

    claimed = []

    def claim():
        with psycopg.connect(dsn, autocommit=True) as conn:
            claimed.extend(conn.execute(transitions.CLAIM, dict(
                wid=wid, domain="default", host=this_host(), ops=["double"], shipped=False, n=4)).fetchall())
    claiming = threading.Thread(target=claim)
    claiming.start()
    time.sleep(0.3)                      # the claim waits for the row lock
    monitor = Monitor(dsn)
    monitor.conn = psycopg.connect(dsn, autocommit=True)
    ending = threading.Thread(target=monitor.end_worker,
                              args=(wid, "dead", "process ended (killed by signal 9)", "died"))
    ending.start()                       # the worker's death is noticed meanwhile
    time.sleep(0.3)
    holder.rollback()
    claiming.join(10)
    ending.join(10)
    assert len(claimed) == 4             # the claim went through before the end
    states = admin.execute("select status, worker_id from jobconsole.task where id = any(%s)",
                           (queued,)).fetchall()
    assert states == [("queued", None)] * 4
    assert admin.execute("select status from jobconsole.worker where id = %s",
                         (wid,)).fetchone()[0] == "dead"
    for conn in (admin, holder, monitor.conn):
        conn.close()


def test_a_monitor_that_loses_its_database_connection_reconnects(dsn, start_monitor):
    """A server restart or a terminated backend: the monitor gets a new connection, and
    its workers, on connections of their own, run on."""
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 2)
    task_pid(task)
    with psycopg.connect(dsn, autocommit=True) as conn:
        cut = conn.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                           "where application_name = %s",
                           (f"jobconsole monitor {mon.pid}",)).fetchall()
    assert cut == [(True,)]
    assert task.join(timeout=30).state == "done"
    assert api.schedule(dsn, "double", 2).join(timeout=30).output == 4
    assert mon.proc.poll() is None
    assert [m.status for m in api.list_monitors(dsn)] == ["running"]
