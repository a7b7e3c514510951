"""Workflows: a named group of tasks with an aggregate status, in the API, CLI and console."""
import json
import re

import pytest
from rich.console import Console
from test_cli import assert_one_line_error, jc
from test_console import SIZE, until

from jobconsole.console.app import JobConsole
from jobconsole.console.task_screen import TaskScreen
from jobconsole import api
from jobconsole.errors import NotFound


def test_a_workflows_status_follows_its_tasks(dsn, start_monitor):
    first = api.schedule(dsn, "double", 1, workflow="nightly")
    second = api.schedule(dsn, "double", 2, workflow="nightly", depends_on=[first])
    api.schedule(dsn, "double", 3, workflow="other")
    flow = api.workflow(dsn, "nightly")
    assert (flow.status, flow.total, flow.counts) == ("queued", 2, {"queued": 1, "waiting": 1})
    start_monitor()
    second.join(timeout=30)
    flow = api.workflow(dsn, "nightly")
    assert (flow.status, flow.summary) == ("done", "done: 2/2 done")


def test_a_failure_in_the_middle_of_a_chain_fails_the_workflow(dsn, start_monitor):
    start = api.schedule(dsn, "double", 1, workflow="chain")
    middle = api.schedule(dsn, "fail", 1, workflow="chain", depends_on=[start])
    end = api.schedule(dsn, "double", 1, workflow="chain", depends_on=[middle])
    start_monitor()
    end.join(timeout=30)
    assert (start.state, middle.state, end.state) == ("done", "failed", "failed")
    assert end.info().error_kind == "dependency"
    assert api.workflow(dsn, "chain").summary == "failed: 1/3 done, 2 failed"


def test_a_running_workflow_with_a_failure_says_both(dsn):
    api.schedule(dsn, "double", 1, workflow="w").abort()
    api.schedule(dsn, "double", 1, workflow="w")
    assert api.workflow(dsn, "w").summary == "queued: 0/2 done, 1 aborted"
    with pytest.raises(NotFound):
        api.workflow(dsn, "nosuch")


def test_relaunch_keeps_the_workflow(dsn):
    task = api.schedule(dsn, "double", 1, workflow="w")
    assert api.relaunch(dsn, task.id).info().workflow == "w"


def test_the_cli_schedules_lists_and_shows_a_workflow(dsn):
    for n in (1, 2):
        assert jc(dsn, "schedule", "double", "--input", str(n), "--workflow", "batch-7")[0] == 0
    jc(dsn, "schedule", "double", "--input", "3")
    code, out, _ = jc(dsn, "show-workflow", "batch-7")
    assert code == 0 and out.startswith("workflow batch-7: queued: 0/2 done")
    data = json.loads(jc(dsn, "show-workflow", "batch-7", "--json")[1])
    assert data["status"] == "queued" and len(data["tasks"]) == 2
    code, out, _ = jc(dsn, "list-tasks", "--workflow", "batch-7", "--json")
    assert [t["input_preview"] for t in json.loads(out)] == ["2", "1"]
    code, _, err = jc(dsn, "show-workflow", "nosuch")
    assert code == 3
    assert_one_line_error(err)


async def test_the_console_shows_the_workflow_and_its_aggregate_status(dsn):
    api.schedule(dsn, "double", 1, workflow="[b]import[/b]").abort()
    task = api.schedule(dsn, "double", 2, workflow="[b]import[/b]")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.table.row_count == 2)
        await pilot.press("slash", *"[b]imp", "enter")          # the filter matches it too
        await until(pilot, lambda: app.screen.table.row_count == 2)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen.loads)
        console = Console(width=120, record=True)
        console.print(app.screen.query_one("#details").content)
        text = console.export_text()
        assert re.search(r"workflow +\[b\]import\[/b\] +all tasks +queued: 0/2 done, 1 aborted",
                         text)
        assert app.screen.task_id == task.id
