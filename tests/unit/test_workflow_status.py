"""A workflow's aggregate status (jobconsole.workflows.WorkflowInfo), from the number of
its tasks in each status: the rows of `select status, count(*) ... group by status`."""
import json

import pytest

from jobconsole.workflows import WorkflowInfo


def status(**counts):
    return WorkflowInfo("nightly", counts).status


def test_a_workflow_whose_tasks_are_all_done_is_done():
    assert status(done=5) == "done"


@pytest.mark.parametrize("counts", [
    dict(running=1, queued=3, waiting=2, done=4, failed=1),
    dict(running=1, aborting=1),
    dict(aborting=1, queued=3),       # a task being aborted still runs
])
def test_while_any_task_runs_the_workflow_runs(counts):
    assert status(**counts) == "running"


def test_with_nothing_running_queued_tasks_make_it_queued():
    assert status(queued=1, waiting=5, done=3, failed=1) == "queued"


def test_with_nothing_running_or_queued_waiting_tasks_make_it_waiting():
    assert status(waiting=2, done=1) == "waiting"


@pytest.mark.parametrize("counts", [
    dict(done=4, failed=1),
    dict(done=4, aborted=1),
    dict(failed=2),
    dict(aborted=1),
])
def test_once_every_task_has_finished_one_not_done_makes_it_failed(counts):
    assert status(**counts) == "failed"


def test_a_status_counted_zero_times_is_no_task():
    # a dict built elsewhere may hold zeros: they change nothing
    assert status(running=0, queued=0, done=2) == "done"


def test_the_total_counts_every_task():
    assert WorkflowInfo("nightly", {"done": 3, "failed": 1, "queued": 2}).total == 6


def test_the_summary_says_the_status_how_many_are_done_and_what_went_wrong():
    info = WorkflowInfo("nightly", {"running": 1, "done": 3, "failed": 1})
    assert info.summary == "running: 3/5 done, 1 failed"
    info = WorkflowInfo("nightly", {"done": 1, "failed": 2, "aborted": 1})
    assert info.summary == "failed: 1/4 done, 2 failed, 1 aborted"


def test_a_summary_without_failures_says_only_how_many_are_done():
    assert WorkflowInfo("nightly", {"queued": 2}).summary == "queued: 0/2 done"
    assert WorkflowInfo("nightly", {"done": 2}).summary == "done: 2/2 done"


def test_as_json_has_the_name_status_total_and_counts():
    data = WorkflowInfo("nightly", {"done": 2, "running": 1}).as_json()
    assert data == {"name": "nightly", "status": "running", "total": 3,
                    "counts": {"done": 2, "running": 1}}
    json.dumps(data)
