"""Delayed start: a task given run_at or delay waits, then runs once it is due."""
from datetime import datetime, timedelta, timezone

import pytest
from test_cli import assert_one_line_error, jc

from jobconsole import api
from jobconsole.errors import BadInput


def test_a_delayed_task_waits_then_runs(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "double", 3, delay=1.5)
    assert task.state == "waiting"
    task.join(timeout=30)
    info = task.info()
    assert info.output == 6
    assert (info.started - info.queued).total_seconds() >= 1.5
    assert info.run_at is not None


def test_a_start_time_in_the_past_queues_at_once(dsn):
    task = api.schedule(dsn, "double", 1, run_at=datetime.now(timezone.utc) - timedelta(hours=1))
    assert task.state == "queued"


def test_an_aborted_waiting_task_never_runs(dsn, start_monitor, tmp_path):
    marker = tmp_path / "ran"
    task = api.schedule(dsn, "record", 1, delay=0.5, metadata={"file": str(marker)})
    assert task.abort() == "aborted"
    start_monitor()
    api.schedule(dsn, "double", 1, delay=1.0).join(timeout=30)   # well past the first's time
    assert task.state == "aborted" and not marker.exists()


def test_delay_and_run_at_are_checked(dsn):
    with pytest.raises(BadInput):
        api.schedule(dsn, "double", 1, delay=-1)
    with pytest.raises(BadInput):
        api.schedule(dsn, "double", 1, delay=1, run_at=datetime.now())
    assert api.list_tasks(dsn) == []


def test_the_cli_schedules_with_a_delay_or_a_time(dsn):
    assert jc(dsn, "schedule", "double", "--input", "1", "--delay", "60")[0] == 0
    later = (datetime.now() + timedelta(hours=2)).isoformat(timespec="minutes")
    assert jc(dsn, "schedule", "double", "--input", "2", "--at", later)[0] == 0
    assert [t.status for t in api.list_tasks(dsn)] == ["waiting", "waiting"]
    code, _, err = jc(dsn, "schedule", "double", "--at", "next tuesday")
    assert code == 2 and "ISO 8601" in err
    assert_one_line_error(err)
