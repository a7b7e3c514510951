"""The quick start of the README, from Python: schedule, join, read, abort."""
import pytest

from jobconsole import api
from jobconsole.errors import BadInput, NotFound


def test_a_task_runs_and_its_result_can_be_read(dsn, start_monitor):
    start_monitor("--workers", "1")
    task = api.schedule(dsn, "double", 21, owner="alice", metadata={"k": 1})
    task.join(timeout=30)
    assert task.state == "done"
    assert task.output == 42
    assert task.traceback is None
    assert task.metadata == {"k": 1}
    assert [line for _, line in task.logs()] == ["doubling 21"]
    assert task.info().owner == "alice"


def test_a_failing_task_keeps_its_traceback(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "fail", "x").join(timeout=30)
    assert task.state == "failed"
    assert task.error_kind == "error"
    assert "ValueError: bad input: 'x'" in task.traceback
    assert task.output is None


def test_raw_bytes_go_in_and_out(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "rawecho", rawinput=b"\x00\x01abc").join(timeout=30)
    assert task.state == "done"
    assert task.input == b"\x00\x01abc"
    assert task.output == b"cba\x01\x00"


def test_tasks_are_queued_without_a_monitor_and_run_once_one_starts(dsn, start_monitor):
    tasks = api.schedule_many(dsn, "double", [1, 2, 3])
    assert [t.state for t in tasks] == ["queued"] * 3
    start_monitor("--workers", "2")
    assert [t.join(timeout=30).output for t in tasks] == [2, 4, 6]


def test_join_times_out_on_a_task_that_does_not_finish(dsn):
    task = api.schedule(dsn, "double", 1)   # no monitor: it stays queued
    with pytest.raises(TimeoutError):
        task.join(timeout=0.3)


def test_an_unknown_operation_is_refused_and_nothing_is_queued(dsn):
    with pytest.raises(NotFound, match="unknown operation 'nope'"):
        api.schedule(dsn, "nope", 1)
    assert api.list_tasks(dsn) == []


def test_an_operation_in_two_domains_needs_its_domain_named(dsn, tmp_path):
    other = tmp_path / "other_ops.py"
    other.write_text("from jobconsole import api\n\n@api.task(domain='reports', timeout=7)\n"
                     "def double(task):\n    pass\n")
    api.register_operations(dsn, str(other))
    with pytest.raises(BadInput, match="'double' exists in several domains .default, reports."):
        api.schedule(dsn, "double", 1)
    assert api.list_tasks(dsn) == []
    task = api.schedule(dsn, "double", 1, domain="reports")
    assert (task.info().domain, task.info().timeout) == ("reports", 7)


def test_input_that_is_not_json_is_refused_and_nothing_is_queued(dsn):
    with pytest.raises(BadInput, match="not JSON-serialisable"):
        api.schedule(dsn, "double", object())
    with pytest.raises(BadInput, match="not JSON-serialisable"):
        api.schedule(dsn, "double", float("nan"))
    with pytest.raises(BadInput, match="NUL character"):
        api.schedule(dsn, "double", "nul\x00")
    assert api.list_tasks(dsn) == []


def test_an_operation_is_routed_to_its_domain(dsn, start_monitor):
    task = api.schedule(dsn, "elsewhere")
    assert task.info().domain == "other"
    start_monitor()                       # the default domain's monitor leaves it alone
    with pytest.raises(TimeoutError):
        task.join(timeout=1)
    start_monitor("--domain", "other")
    assert task.join(timeout=30).output == "ran in other"


def test_an_unknown_task_id_is_not_found(dsn):
    with pytest.raises(NotFound, match="no task 12345"):
        api.get_task(dsn, 12345)


def test_operations_registered_after_the_monitor_started_run_without_a_restart(
        dsn, start_monitor, tmp_path):
    start_monitor()
    late = tmp_path / "late_ops.py"
    late.write_text("from jobconsole import api\n\n@api.task\ndef late(task):\n"
                    "    task.save_output('late but fine')\n")
    api.register_operations(dsn, str(late))
    assert api.schedule(dsn, "late").join(timeout=30).output == "late but fine"
