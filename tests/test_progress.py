"""Progress and facet: what a running task says of itself, live, in every front end."""
from helpers import wait_for
from test_cli import jc
from test_console import SIZE, until

from jobconsole.console.app import JobConsole
from jobconsole.console.task_screen import TaskScreen
from jobconsole import api


def test_progress_is_visible_while_the_task_runs_and_stays_after(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "steps", 10)
    info = wait_for(lambda: (i := task.info()).progress_done and i.status == "running" and i,
                    10, "the first progress")
    assert 0 < info.progress < 1 and info.progress_message.startswith("step ")
    info = task.join(timeout=30).info()
    assert (info.progress_done, info.progress_total, info.progress) == (10, 10, 1.0)
    assert info.progress_message == "step 10 of 10"
    assert info.facet == {"last_step": 10, "summary": "all steps done"}


def test_the_cli_shows_progress(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "steps", 2).join(timeout=30)
    code, out, _ = jc(dsn, "list-tasks")
    assert "100%" in out.splitlines()[1]
    code, out, _ = jc(dsn, "show-task", str(task.id), "--json")
    assert '"progress_done": 2.0' in out and '"summary": "all steps done"' in out


async def test_the_console_shows_progress_live(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "steps", 15)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query("LiveTable") and app.screen.loads)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen.loads)
        def step_shown():    # the step number on screen (spaces are &#160; in the SVG)
            text = app.export_screenshot().replace("&#160;", " ")
            return text.split("step ")[1].split(" of 15")[0] if " of 15" in text else None
        await until(pilot, step_shown, 10, "the progress line")
        first = step_shown()
        await until(pilot, lambda: step_shown() != first, 5, "the progress to move on its own")
    assert task.join(timeout=30).state == "done"
