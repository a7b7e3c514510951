"""Dependencies: a task waits for others, runs once they are done, fails if one fails."""
import json

import pytest
from test_cli import jc

from jobconsole import api
from jobconsole.errors import NotFound


def test_a_dependent_waits_then_is_queued_at_once(dsn, start_monitor):
    first = api.schedule(dsn, "sleep", 0.5)
    second = api.schedule(dsn, "double", 2, depends_on=[first])
    assert second.state == "waiting"
    start_monitor()
    second.join(timeout=30)
    a, b = first.info(), second.info()
    assert b.output == 4
    assert b.started >= a.finished
    assert (b.started - a.finished).total_seconds() < 0.5      # by the trigger, not a poll
    assert second.dependencies() == ([first.id], [])
    assert first.dependencies() == ([], [second.id])


def test_a_failure_in_the_middle_of_a_chain_fails_the_rest_without_running(dsn, start_monitor,
                                                                          tmp_path):
    record = tmp_path / "ran"
    a = api.schedule(dsn, "double", 1)
    b = api.schedule(dsn, "fail", "b", depends_on=[a])
    c = api.schedule(dsn, "record", "c", depends_on=[b], metadata={"file": str(record)})
    d = api.schedule(dsn, "record", "d", depends_on=[c], metadata={"file": str(record)})
    start_monitor()
    for t in (a, b, c, d):
        t.join(timeout=30)
    assert [t.state for t in (a, b, c, d)] == ["done", "failed", "failed", "failed"]
    assert [t.error_kind for t in (b, c, d)] == ["error", "dependency", "dependency"]
    assert f"task {b.id}, which it depends on, was failed" in c.traceback
    assert not record.exists()


def test_all_dependencies_must_be_done(dsn, start_monitor):
    slow = api.schedule(dsn, "sleep", 1.0)
    quick = api.schedule(dsn, "double", 1)
    both = api.schedule(dsn, "double", 3, depends_on=[slow, quick.id])
    start_monitor("--workers", "2")
    both.join(timeout=30)
    assert both.info().started >= slow.info().finished


def test_an_aborted_dependency_fails_its_dependents(dsn):
    parent = api.schedule(dsn, "double", 1)
    child = api.schedule(dsn, "double", 2, depends_on=[parent])
    parent.abort()
    assert (child.state, child.error_kind) == ("failed", "dependency")


def test_depending_on_a_finished_task(dsn, start_monitor):
    start_monitor()
    done = api.schedule(dsn, "double", 1).join(timeout=30)
    failed = api.schedule(dsn, "fail", 1).join(timeout=30)
    assert api.schedule(dsn, "double", 5, depends_on=[done]).join(timeout=30).output == 10
    doomed = api.schedule(dsn, "double", 5, depends_on=[done, failed])
    assert (doomed.state, doomed.error_kind) == ("failed", "dependency")


def test_an_unknown_dependency_is_refused_and_nothing_is_queued(dsn):
    with pytest.raises(NotFound, match="no task 999 to depend on"):
        api.schedule(dsn, "double", 1, depends_on=[999])
    assert api.list_tasks(dsn) == []


def test_the_cli_schedules_after_other_tasks(dsn):
    first = api.schedule(dsn, "double", 1)
    code, out, _ = jc(dsn, "schedule", "double", "--input", "2", "--after", str(first.id))
    assert code == 0
    code, out, _ = jc(dsn, "show-task", out.strip(), "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["depends_on"]) == ("waiting", [first.id])
    assert jc(dsn, "schedule", "double", "--after", "999")[0] == 3
