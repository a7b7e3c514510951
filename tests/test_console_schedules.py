"""The schedules view (4): rules and next fire times; run now, pause, delete on keys."""
from test_console import SIZE, rows, until

from jobconsole.console.app import JobConsole
from jobconsole.console.task_screen import TaskScreen
from jobconsole import api


def schedule_ids(app):
    return [int(r[0]) for r in rows(app)]


async def test_the_schedules_view_lists_rules_and_their_next_fire(dsn):
    sched = api.prepare(dsn, "double", "*/5 * * * *", {"n": 1}, tz="UTC", owner="alice")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: schedule_ids(app) == [sched.id], what="the schedule")
        row = rows(app)[0]
        assert row[1:5] == ["double", "default", "*/5 * * * *", "UTC"]
        assert "(in " in row[5] and row[8] == "alice" and row[9] == '{"n": 1}'
        other = api.prepare(dsn, "fail", "0 3 * * *", 1)
        await until(pilot, lambda: schedule_ids(app) == [sched.id, other.id], 3,
                    "the new schedule, live")


async def test_run_now_pause_resume_and_delete_ask_first(dsn):
    sched = api.prepare(dsn, "double", "0 0 1 1 *", 3)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: schedule_ids(app) == [sched.id])
        await pilot.press("t", "n")                                  # no: nothing happens
        await pilot.pause(0.3)
        assert api.list_tasks(dsn) == []
        await pilot.press("t", "y")
        await until(pilot, lambda: len(api.list_tasks(dsn)) == 1, what="the task run now")
        assert api.list_tasks(dsn)[0].schedule_id == sched.id
        await pilot.press("s", "y")
        await until(pilot, lambda: api.list_scheduled(dsn)[0].paused, what="the pause")
        await until(pilot, lambda: rows(app)[0][5] == "paused", 3)
        await pilot.press("s", "y")
        await until(pilot, lambda: not api.list_scheduled(dsn)[0].paused, what="the resume")
        await pilot.press("ctrl+d", "y")
        await until(pilot, lambda: api.list_scheduled(dsn) == [], what="the deletion")
        await until(pilot, lambda: schedule_ids(app) == [], 3)


async def test_enter_opens_the_last_task_a_schedule_made(dsn):
    sched = api.prepare(dsn, "double", "0 0 1 1 *", 3)
    task = api.run_schedule(dsn, sched.id)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: rows(app) and rows(app)[0][6] == f"#{task.id} queued")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
        assert app.screen.task_id == task.id


async def test_read_only_refuses_schedule_actions(dsn):
    sched = api.prepare(dsn, "double", "0 0 1 1 *", 3)
    app = JobConsole(dsn, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: schedule_ids(app) == [sched.id])
        await pilot.press("t", "y", "s", "y", "ctrl+d", "y")
        await pilot.pause(0.3)
        assert api.list_tasks(dsn) == []
        assert [s.paused for s in api.list_scheduled(dsn)] == [False]
