"""Claiming: every task runs exactly once, in priority order, woken without polling."""
import time

from core import api


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
