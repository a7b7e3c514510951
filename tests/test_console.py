"""The console, driven like a person would: keys in, screen and database checked.

Each test runs the real app (App.run_test) against a real database and, where it
matters, a real monitor with real worker processes.
"""
import asyncio
import io
import threading
import time

import psycopg

from helpers import alive, task_pid

from textual.widgets import ProgressBar
from textual.widgets._footer import FooterKey

from jobconsole.console.app import JobConsole
from jobconsole.console.bulk import BulkProgress
from jobconsole.console.task_screen import TaskScreen
from jobconsole.console.views.tasks import TasksView
from jobconsole.console.widgets.live_table import LiveTable
from jobconsole.console.widgets.log_pane import LogPane
from jobconsole import api

SIZE = (120, 36)


async def until(pilot, predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def rows(app):
    """The visible table as lists of plain strings."""
    table = app.screen.query_one(LiveTable)
    return [[str(c) for c in table.get_row(key)] for key in table._order]


def ids(app):
    return [int(r[1]) for r in rows(app)]


def notices(app):
    return [n.message for n in app._notifications]


async def palette(pilot, command):
    """Run a command of the palette, typed as a person would."""
    await pilot.press("colon")
    await pilot.pause(0.2)
    await pilot.press(*command)
    await pilot.pause(0.5)
    await pilot.press("enter")


async def test_the_tasks_view_lists_tasks_and_updates_live(dsn):
    first = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [first.id], what="the first task")
        second = api.schedule(dsn, "double", 2)
        await until(pilot, lambda: ids(app) == [second.id, first.id], 3, "the new task")
        await until(pilot, lambda: app.counts == {"queued": 2}, 3, "the counts")


async def test_the_filter_narrows_rows_and_bang_inverts_it(dsn):
    api.schedule(dsn, "double", 1)
    failing = api.schedule(dsn, "fail", 1)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 2)
        await pilot.press("slash", *"fail", "enter")
        await until(pilot, lambda: ids(app) == [failing.id], what="the filtered rows")
        await pilot.press("slash", "home", "exclamation_mark", "enter")
        await until(pilot, lambda: failing.id not in ids(app) and len(ids(app)) == 1)
        await pilot.press("escape")
        await until(pilot, lambda: len(ids(app)) == 2, what="the filter to clear")


async def test_the_filter_speaks_the_query_language(dsn):
    api.schedule(dsn, "double", 1, owner="alice")
    bobs = api.schedule(dsn, "fail", 1, owner="bob")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 2)
        await pilot.press("slash", *"op:fail owner:bob status:queued", "enter")
        await until(pilot, lambda: ids(app) == [bobs.id], what="the matching task")
        await pilot.press("slash", "end", *" !owner:bob", "enter")
        await until(pilot, lambda: ids(app) == [], what="no task")


async def test_a_malformed_query_is_shown_under_the_box_and_the_rows_stay(dsn):
    tasks = [api.schedule(dsn, "double", i) for i in range(2)]
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 2)
        await pilot.press("slash", *"status:finishd", "enter")
        error = app.screen.query_one("#filter-error")
        await until(pilot, lambda: error.display, what="the error")
        assert "unknown status 'finishd'" in str(error.render()) and \
            "at character 1" in str(error.render())
        assert sorted(ids(app)) == [t.id for t in tasks]
        assert app.screen.query_one("#filter").has_focus     # to be mended
        await pilot.press("ctrl+u", *"status:queued", "enter")
        await until(pilot, lambda: not error.display, what="the error to go")
        assert sorted(ids(app)) == [t.id for t in tasks]


async def test_sort_keys_change_the_order(dsn):
    tasks = [api.schedule(dsn, op, 1) for op in ("fail", "double", "sleep")]
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [t.id for t in reversed(tasks)])
        await pilot.press("less_than_sign")        # at the first column: reverse
        await until(pilot, lambda: ids(app) == [t.id for t in tasks], what="ascending ids")
        await pilot.press("greater_than_sign", "greater_than_sign")   # status, operation
        await until(pilot, lambda: [r[4] for r in rows(app)] == ["double", "fail", "sleep"],
                    what="sorted by operation")


async def test_abort_asks_first_and_then_kills_the_worker(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    task = api.schedule(dsn, "sleep", 60)
    pid = task_pid(task)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("a")
        await until(pilot, lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("n")                     # no: nothing happens
        await pilot.pause(0.3)
        assert task.state == "running"
        await pilot.press("a")
        await until(pilot, lambda: app.screen.__class__.__name__ == "Confirm")
        await pilot.press("y")
        await until(pilot, lambda: task.state == "aborted", 10, "the task to be aborted")
        await until(pilot, lambda: not alive(pid), 5, "the worker process to be gone")
        await until(pilot, lambda: rows(app)[0][2] == "aborted", 5, "the row to say so")
    assert pid not in mon.wait_workers(1)


async def test_marked_tasks_are_aborted_together(dsn):
    tasks = [api.schedule(dsn, "double", i) for i in range(3)]
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 3)
        await pilot.press("space", "space", "a", "y")     # the two newest
        await until(pilot, lambda: [t.state for t in tasks] == ["queued", "aborted", "aborted"])


async def test_read_only_hides_and_refuses_actions(dsn):
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("a", "y", "ctrl+d", "y", "R", "y", "m")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TasksView)
        assert [t.id for t in api.list_tasks(dsn)] == [task.id]
        assert task.state == "queued"


async def test_relaunch_and_delete(dsn):
    task = api.schedule(dsn, "double", 7)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("R", "y")
        await until(pilot, lambda: len(ids(app)) == 2, what="the relaunched task")
        newest = api.get_task(dsn, ids(app)[0])
        assert newest.input == 7
        await pilot.press("down", "ctrl+d", "y")
        await until(pilot, lambda: ids(app) == [newest.id], what="the deleted task to go")


async def test_the_task_screen_follows_the_log_live(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "ticker", 40)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
        log = app.screen.query_one(LogPane)
        await until(pilot, lambda: log.last_id > 0, 5, "the first lines")
        seen = len(task.logs())
        started = time.monotonic()
        await until(pilot, lambda: len(task.logs()) > seen + 1 and len(log.lines) > seen, 3)
        assert time.monotonic() - started < 1.5     # a new line shows within a second
        await pilot.press("up")                      # scrolling pauses following
        assert not log.following
        await until(pilot, lambda: log.unseen > 0, 3, "unseen lines to be counted")
        await pilot.press("f")
        assert log.following and log.unseen == 0
        await pilot.press("escape")
        assert isinstance(app.screen, TasksView)


async def test_the_task_screen_lists_every_attempt_with_its_outcome(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "flaky").join(timeout=30)     # fails twice, then succeeds
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen.loads)
        text = help_text(app.screen)
        assert "1  failed (error)" in text and "RuntimeError: attempt 1" in text
        assert "2  failed (error)" in text and "RuntimeError: attempt 2" in text
        assert "3  done" in text


async def test_hostile_log_lines_are_shown_literally(dsn, start_monitor):
    start_monitor()
    hostile = ["[/]", "[@click=app.quit]", "\x1b[2Jcleared?", "\x1b]8;;http://x/\x1b\\link"]
    task = api.schedule(dsn, "chatty", {"lines": hostile}).join(timeout=30)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("enter")
        log = app.screen.query_one(LogPane)
        await until(pilot, lambda: len(log.lines) >= 4, 5)
        text = [strip.text for strip in log.lines[:4]]
        assert text == ["[/]", "[@click=app.quit]", "cleared?", "link"]
        assert app.is_running


async def test_views_switch_with_number_keys_and_help_lists_the_keys(dsn, start_monitor):
    mon = start_monitor("--workers", "2")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(rows(app)) == 2, 5, "two workers")
        await pilot.press("3")
        await until(pilot, lambda: [r[3] for r in rows(app)] == [str(mon.pid)], 5)
        await pilot.press("5")
        await until(pilot, lambda: "double" in [r[1] for r in rows(app)], 5)
        await pilot.press("4")
        await pilot.press("1")
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen.__class__.__name__ == "Help")
        await pilot.press("escape")
        assert isinstance(app.screen, TasksView)


async def test_a_worker_shows_its_kind_opens_its_task_and_halts_after_it(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    first = mon.workers()[0]
    task = api.schedule(dsn, "sleep", 1.5)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: [r[5:8] for r in rows(app)] ==
                    [["subprocess", "running", str(task.id)]], 10, "the worker running the task")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen)
                    and app.screen.task_id == task.id, 5, "its task screen")
        await pilot.press("escape")
        await pilot.press("h", "y")
        await until(pilot, lambda: not alive(first.pid), 10, "the worker to halt")
    # it halted after its task, which ended well
    assert api.get_task(dsn, task.id).join(timeout=10).state == "done"
    assert [w.reason for w in api.list_workers(dsn, all=True) if w.id == first.id] == \
        ["shut down on request"]


async def test_kill_worker_and_stop_monitor_from_their_views(dsn, start_monitor):
    mon = start_monitor("--workers", "1")
    first = mon.workers()[0]
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(rows(app)) == 1)
        await pilot.press("k", "y")
        await until(pilot, lambda: not alive(first.pid), 10, "the worker to be killed")
        await pilot.press("3")
        await until(pilot, lambda: len(rows(app)) == 1)
        await pilot.press("x", "y")
        await until(pilot, lambda: mon.proc.poll() is not None, 20, "the monitor to stop")
    assert mon.proc.returncode == 0


async def test_a_monitor_started_with_m_outlives_the_console(dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))     # where its log goes
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        await until(pilot, lambda: app.screen.__class__.__name__ == "StartMonitor")
        await pilot.press("enter")
        await until(pilot, lambda: api.list_monitors(dsn), 20, "the monitor to register")
    await asyncio.sleep(0.5)
    assert (tmp_path / "logs" / "monitor-default.log").exists()
    (monitor,) = api.list_monitors(dsn)
    assert alive(monitor.pid)
    api.shutdown_monitor(dsn, monitor.id, now=True)
    deadline = time.monotonic() + 20
    while alive(monitor.pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not alive(monitor.pid)


async def test_a_lost_database_shows_a_banner_and_the_console_recovers(tmp_path):
    from helpers import OPS

    from jobconsole.console.widgets.banner import Banner
    from jobconsole import db, embedded
    home = tmp_path / "own server"
    dsn = embedded.ensure_running(home)
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        task = api.schedule(dsn, "double", 1)
        app = JobConsole(dsn, refresh=1.0)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: ids(app) == [task.id])
            await asyncio.to_thread(embedded.stop, home)
            await until(pilot, lambda: app.problem, 15, "the problem to be noticed")
            assert app.screen.query_one(Banner).display
            await asyncio.to_thread(embedded.ensure_running, home)
            later = await asyncio.to_thread(api.schedule, dsn, "double", 2)
            await until(pilot, lambda: not app.problem and later.id in ids(app), 30,
                        "the console to reconnect and show the new task")
            assert not app.screen.query_one(Banner).display
    finally:
        db.close_pools()
        embedded.stop(home)


async def test_the_console_fits_80_by_24(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "double", 1).join(timeout=30)
    app = JobConsole(dsn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        for key in ("enter", "escape", "2", "3", "5", "question_mark", "escape", "1"):
            await pilot.press(key)
            await pilot.pause(0.1)
        assert isinstance(app.screen, TasksView)


async def test_every_column_keeps_its_place_at_120_columns(dsn):
    parent = api.schedule(dsn, "double", 1)
    child = api.schedule(dsn, "double", 2, depends_on=[parent], owner="alice.longname",
                         workflow="nightly-import-of-invoices",
                         metadata={"category": "reports for the quarterly review"})
    parent.abort()
    app = JobConsole(dsn)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: child.id in ids(app))
        table = app.screen.query_one(LiveTable)
        header = table.render_line(0).text
        # the last column too: a table cut at the screen's edge hid it
        assert header.split()[-1].lower() in ("category", "categ…", "catego…", "categor…")
        line = next(table.render_line(y).text for y in range(1, 4)
                    if table.render_line(y).text.split()[0] == str(child.id))
        assert "dependency" in line and "…" in line


async def test_markup_typed_into_the_filter_is_shown_as_typed(dsn):
    api.schedule(dsn, "double", 1)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"[b]x[/]", "enter")
        await until(pilot, lambda: ids(app) == [])
        title = str(app.screen.query_one("#view-title").render())
        assert "filter: [b]x[/]" in title


async def test_the_command_palette_jumps_to_a_view(dsn):
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await palette(pilot, "go to monitors")
        await until(pilot, lambda: app.current_mode == "monitors", 5, "the monitors view")


async def test_read_only_hides_the_destructive_keys_from_the_footer(dsn):
    api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app))
        shown = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert not shown & {"abort", "relaunch", "delete", "start_monitor"}
        assert "filter" in shown


def test_a_terminal_that_goes_away_ends_the_console(dsn):
    """Closing the terminal (its master side) hangs up the console: it must exit, not spin."""
    import os
    import select
    import signal
    import subprocess
    import sys
    master, slave = os.openpty()
    env = dict(os.environ, JOBCONSOLE_DSN=dsn, TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "jobconsole.console"], env=env,
                            preexec_fn=lambda: os.login_tty(slave), pass_fds=(slave,))
    os.close(slave)
    try:
        deadline = time.monotonic() + 20
        seen = b""
        while b"Tasks" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"Tasks" in seen, "the console did not start"
        os.close(master)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            raise AssertionError("the console kept running after its terminal went away")


async def test_the_owner_option_shows_only_that_owners_tasks(dsn):
    mine = api.schedule(dsn, "double", 1, owner="alice")
    api.schedule(dsn, "double", 2, owner="bob")
    app = JobConsole(dsn, owner="alice")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [mine.id])
        await until(pilot, lambda: app.counts == {"queued": 1}, 3, "alice's counts")


async def test_a_view_comes_back_fresh_and_is_reread_only_if_its_data_changed(dsn):
    first = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, refresh=3600)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [first.id])
        tasks_view = app.screen
        await pilot.press("5")
        await until(pilot, lambda: app.current_mode == "operations")
        loads = tasks_view.loads
        await pilot.press("1")
        await until(pilot, lambda: app.screen is tasks_view)
        await pilot.pause(0.3)
        assert tasks_view.loads == loads            # nothing changed: nothing re-read
        await pilot.press("5")
        second = api.schedule(dsn, "double", 2)
        await until(pilot, tasks_view.stale, 5, "the change to be heard")
        await pilot.press("1")
        await until(pilot, lambda: app.screen is tasks_view)
        # read before the switch shows it (unless the read takes over 0.15 s)
        await until(pilot, lambda: ids(app) == [second.id, first.id], 3, "the new row")


async def test_a_filter_widens_its_search_from_the_newest_tasks_to_all(dsn, monkeypatch):
    import jobconsole.console.views.tasks as tasks_view
    monkeypatch.setattr(tasks_view, "SEARCH_FIRST", 2)
    oldest = api.schedule(dsn, "fail", 1)
    api.schedule_many(dsn, "double", range(20))
    app = JobConsole(dsn, refresh=3600)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 21)
        view = app.screen
        asked, read = [], app.source.tasks
        app.source.tasks = lambda **kw: asked.append(kw["newest"]) or read(**kw)
        await pilot.press("slash", *"fail", "enter")
        await until(pilot, lambda: ids(app) == [oldest.id], 5, "the oldest, by a wider search")
        await until(pilot, lambda: view.span is None, 5, "the search to end")
        assert asked[:3] == [2, 10, 50]         # the newest 2, then 10, then all 21
        assert view.progress_note() == ""


async def test_coming_back_to_an_open_task_that_changed_meanwhile(dsn):
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, refresh=3600)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen))
        task_screen = app.screen
        await pilot.press("5")
        task.abort()
        await until(pilot, task_screen.stale, 5, "the change to be heard")
        await pilot.press("1")
        await until(pilot, lambda: app.screen is task_screen)
        await until(pilot, lambda: "status     aborted" in details(task_screen), 3, "fresh")


def details(task_screen):
    """The task screen's details as plain text."""
    from rich.console import Console
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(task_screen.query_one("#details").content)
    return console.export_text()


async def test_the_last_view_asked_for_wins_over_a_slow_read(dsn):
    app = JobConsole(dsn, refresh=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: app.current_mode == "workers" and app.screen.loads)
        workers = app.screen
        await pilot.press("1")
        await until(pilot, lambda: app.current_mode == "tasks")
        read = app.source.workers
        app.source.workers = lambda **kw: time.sleep(0.4) or read(**kw)
        app.dispatch_change(frozenset({"worker"}))     # workers is stale, and slow to read
        await pilot.press("2", "3")                     # then the operator moves on
        await pilot.pause(0.8)
        assert app.current_mode == "monitors"
        await pilot.press("2", "1")                     # or comes back to where they were
        await pilot.pause(0.8)
        assert app.current_mode == "tasks" and workers.loads >= 2


async def test_abort_all_matching_acts_on_what_matched_and_not_on_later_tasks(dsn):
    matching = [api.schedule(dsn, "sleep", 1, owner="carol") for _ in range(3)]
    other = api.schedule(dsn, "sleep", 1, owner="dave")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 4)
        await pilot.press("A")          # no filter: refused, nothing asked
        assert not app.screen.query("#question")
        await pilot.press("slash", *"owner:carol", "enter")
        await until(pilot, lambda: len(ids(app)) == 3, what="the filtered rows")
        await pilot.press("A")
        await until(pilot, lambda: app.screen.query("#question"), what="the question")
        question = str(app.screen.query_one("#question").render())
        assert "Abort all 3 tasks matching 'owner:carol'" in question
        later = api.schedule(dsn, "sleep", 1, owner="carol")    # arrives while asked
        await pilot.press("y")
        await until(pilot, lambda: all(api.get_task(dsn, t.id).info().status == "aborted"
                                       for t in matching), what="the aborts")
        assert api.get_task(dsn, later.id).info().status == "queued"
        assert api.get_task(dsn, other.id).info().status == "queued"


async def test_relaunch_and_delete_all_matching_from_the_palette(dsn):
    for _ in range(2):
        api.schedule(dsn, "sleep", 1, owner="carol")
    dave = api.schedule(dsn, "sleep", 1, owner="dave")
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 3)
        await pilot.press("slash", *"owner:carol", "enter")
        await until(pilot, lambda: len(ids(app)) == 2, what="the filtered rows")
        await palette(pilot, "relaunch all matching")
        await until(pilot, lambda: app.screen.query("#question"), what="the question")
        assert "Relaunch all 2 tasks matching 'owner:carol'" in str(
            app.screen.query_one("#question").render())
        await pilot.press("y")
        await until(pilot, lambda: len(api.list_tasks(dsn, owner="carol")) == 4, 10,
                    "the relaunched tasks")
        await until(pilot, lambda: "relaunched 2 of 2 tasks matching 'owner:carol'"
                    in notices(app), what="the account")
        await until(pilot, lambda: len(ids(app)) == 4, what="the new rows")
        await palette(pilot, "delete all matching")
        await until(pilot, lambda: app.screen.query("#question"), what="the question")
        assert "Delete all 4 tasks matching 'owner:carol'" in str(
            app.screen.query_one("#question").render())
        await pilot.press("y")
        await until(pilot, lambda: not api.list_tasks(dsn, owner="carol"), 10, "the deletes")
        assert [t.id for t in api.list_tasks(dsn)] == [dave.id]


async def test_a_long_bulk_action_shows_its_progress_and_escape_stops_it(dsn):
    tasks = api.schedule_many(dsn, "sleep", [1] * 600, owner="carol")
    app = JobConsole(dsn)
    # A lock on the 301st task holds the action there, as a slow database would: the
    # progress is on screen when escape comes, however fast the machine aborts the rest.
    with psycopg.connect(dsn) as holder:
        holder.execute("select 1 from jobconsole.task where id = %s for update",
                       (tasks[300].id,))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: ids(app))
            await pilot.press("slash", *"owner:carol", "enter")
            await pilot.press("A")
            await until(pilot, lambda: app.screen.query("#question"), what="the question")
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, BulkProgress), what="the progress")
            bar = app.screen.query_one(ProgressBar)
            assert bar.total == 600
            await until(pilot, lambda: bar.progress > 200, what="progress to show")
            await pilot.press("escape")
            holder.commit()
            await until(pilot, lambda: any("stopped" in n for n in notices(app)), 10,
                        "the account of a stopped action")
    [account] = [n for n in notices(app) if "stopped" in n]
    assert account.startswith("aborted 301 of 600 ")
    counts = api.count_tasks(dsn)
    assert counts == {"aborted": 301, "queued": 299}


async def test_bulk_actions_are_refused_read_only(dsn):
    api.schedule(dsn, "sleep", 1, owner="carol")
    app = JobConsole(dsn, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 1)
        await pilot.press("slash", *"owner:carol", "enter")
        await pilot.press("A")
        await pilot.pause(0.5)
        assert not app.screen.query("#question")
        assert api.list_tasks(dsn)[0].status == "queued"


async def test_the_console_opens_on_the_overview_when_there_is_no_task(dsn):
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.current_mode == "overview", what="the overview")
        await pilot.press("1")
        await until(pilot, lambda: app.current_mode == "tasks", what="the tasks view")


async def test_the_overview_is_built_while_the_console_idles_and_the_tasks_view_keeps_its_keys(dsn):
    first, second = api.schedule(dsn, "double", 1), api.schedule(dsn, "double", 2)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [second.id, first.id], what="the tasks")
        table = app.screen.query_one(LiveTable)
        await until(pilot, lambda: app.built("overview"), what="the overview, built hidden")
        [overview] = app.built("overview")
        await until(pilot, lambda: overview.loads, what="the overview's figures")
        assert app.current_mode == "tasks" and app.focused is table
        await pilot.press("down")
        assert table.cursor_row == 1
        await pilot.press("0")
        await until(pilot, lambda: app.screen is overview, what="the built overview shown")
        await pilot.press("1")
        await until(pilot, lambda: app.current_mode == "tasks", what="the tasks view")
        assert app.focused is table and table.cursor_row == 1


async def test_the_overview_built_ahead_shows_without_restyling_the_console_yet_takes_a_new_theme(
        dsn):
    api.schedule(dsn, "double", 1)      # the console opens on the tasks
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.built("overview"), what="the overview, built hidden")
        [overview] = app.built("overview")
        assert app.current_mode == "tasks"
        restyled = []
        restyle = app.refresh_css
        app.refresh_css = lambda *a, **k: (restyled.append(app.screen), restyle(*a, **k))
        await pilot.press("0")
        await until(pilot, lambda: app.screen is overview, what="the overview")
        # its widgets took their styles as they mounted: the whole console is not
        # restyled for its first showing (Textual's default, 60-100 ms)
        assert restyled == []
        await pilot.press("1")
        await until(pilot, lambda: app.current_mode == "tasks", what="the tasks view")
        old = overview.styles.background
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("0")
        await until(pilot, lambda: app.screen is overview, what="the overview again")
        # a theme changed while it was hidden reaches it when it shows
        assert overview.styles.background != old
        assert overview.styles.background == app.built("tasks")[0].styles.background


async def test_the_overview_shows_at_once_with_its_last_figures_then_the_fresh_ones(
        dsn, sql_conn, monkeypatch):
    import jobconsole.console.app as console_app
    monkeypatch.setattr(console_app, "PREFETCH_WAIT", 30.0)   # no switch by the clock
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.built("overview") and app.built("overview")[0].loads,
                    what="the overview, built hidden with its figures")
        [overview] = app.built("overview")
        done = overview.query_one("#done-label")
        assert str(done.render()).split()[-1] == "0"
        reading, read = threading.Event(), threading.Event()
        stats = app.source.stats

        def slow_stats():
            reading.set()
            read.wait(30)     # past until's 10 s: a switch that waits for it fails
            return stats()
        monkeypatch.setattr(app.source, "stats", slow_stats)
        sql_conn.execute("update jobconsole.task set status = 'done', started = now(), "
                         "finished = now() where id = %s", (task.id,))
        await until(pilot, lambda: app.built("tasks")[0].stale() or overview.stale(),
                    what="the change announced")
        await pilot.press("0")
        # shown while its read is still on its way, with what it had
        await until(pilot, lambda: app.screen is overview and reading.is_set(),
                    what="the overview, at once")
        assert str(done.render()).split()[-1] == "0"
        read.set()
        await until(pilot, lambda: str(done.render()).split()[-1] == "1",
                    what="the fresh figures")


async def test_a_console_that_quits_as_the_overview_would_be_built_exits_cleanly(
        dsn, monkeypatch):
    # the build's timer has its own task: here it fires while Textual closes the views'
    # screens, the moment that once failed a CI run ("dictionary changed size")
    app = JobConsole(dsn)
    close_screen = type(app)._prune

    def prune_as_the_timer_fires(self, *nodes, **kwargs):
        if not self.is_running:     # shutting down: not a widget removed in the views
            self.prepare_overview()
        return close_screen(self, *nodes, **kwargs)
    monkeypatch.setattr(type(app), "_prune", prune_as_the_timer_fires)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.current_mode, what="the first view")


async def test_the_overview_shows_what_ended_and_what_waits(dsn, sql_conn):
    ended = [api.schedule(dsn, op, 1) for op in ("double", "double", "double", "fail")]
    waiting = api.schedule(dsn, "sleep", 1, owner="<b>markup</b>")
    sql_conn.execute(
        "update jobconsole.task set status = case when operation = 'fail' then 'failed' "
        "else 'done' end, started = now() - interval '2 seconds', finished = now() "
        "where id = any(%s)", ([t.id for t in ended],))
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app), what="the tasks")
        await pilot.press("0")
        await until(pilot, lambda: app.current_mode == "overview" and app.screen.loads,
                    what="the overview")
        screen = app.screen
        assert str(screen.query_one("#done-label").render()).split()[-1] == "3"
        assert str(screen.query_one("#failed-label").render()).split()[-1] == "1"
        assert screen.query_one("#done-chart").data[-1] == 3
        text = app.export_screenshot()
        assert "Backlog" in text and "default" in text
        assert "double" in text and "fail" in text and "100.0%" in text   # fail's rate
        assert "≤2.0s" in text or "≤4.0s" in text           # p50 of 2-second tasks
        assert waiting.info().status == "queued"


async def test_the_overview_charts_the_last_hour_of_backlog_and_busy_workers(
        dsn, start_monitor):
    for _ in range(3):
        api.schedule(dsn, "double", 1, delay=3600)
    start_monitor("--workers", "2", host="<b>host</b>")   # samples as it first beats
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("0")
        await until(pilot, lambda: app.screen.query("#busy-history Sparkline"), 10,
                    "the busy workers' chart")
        [backlog] = app.screen.query("#backlog-history Sparkline")
        assert len(backlog.data) == 60 and 3 in backlog.data[-2:]
        [busy] = app.screen.query("#busy-history Sparkline")
        assert len(busy.data) == 60
        titles = [str(t.render()) for t in app.screen.query(".history-title")]
        assert titles == ["Backlog (queued and waiting), the last hour",
                          "Busy workers, the last hour"]
        # a host's name is shown as it is, never read as markup
        label = str(app.screen.query_one("#busy-history .chart-label").render())
        assert label.startswith("<b>host</b>\n0 now")


async def test_a_keymap_file_rebinds_abort(dsn, tmp_path):
    from jobconsole.console.cli import load_keymap
    from jobconsole.console.help import Help
    path = tmp_path / "keymap.toml"
    path.write_text('[tasks]\nabort = "x"\n')
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, keymap=load_keymap(str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("a")
        await pilot.pause(0.3)
        assert not app.screen.query("#question")        # a does nothing now
        footer = {(k.key_display, k.description) for k in app.screen.query(FooterKey)}
        assert ("x", "Abort") in footer and ("a", "Abort") not in footer
        await pilot.press("x")
        await until(pilot, lambda: app.screen.query("#question"), what="the abort question")
        await pilot.press("n", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, Help), what="the help")
        lines = help_text(app.screen).splitlines()
        assert any(line.split()[:2] == ["x", "Abort"] for line in lines if line.strip())
        assert not any(line.split()[:2] == ["a", "Abort"] for line in lines if line.strip())


async def test_the_keymap_in_the_users_config_directory_is_read_by_default(
        dsn, tmp_path, monkeypatch):
    from jobconsole.console.cli import load_keymap
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "jobconsole").mkdir()
    (tmp_path / "jobconsole" / "keymap.toml").write_text('[tasks]\nabort = "x"\n')
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, keymap=load_keymap(None))   # no --keymap given
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        await pilot.press("x")
        await until(pilot, lambda: app.screen.query("#question"), what="the abort question")


def help_text(screen):
    """What the Static widgets of a screen say (the help's tables), as plain text."""
    from rich.console import Console
    from textual.widgets import Static
    console = Console(record=True, width=100, file=io.StringIO())
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


def test_a_bad_keymap_is_refused_in_one_line(dsn, tmp_path):
    from test_cli import jc
    path = tmp_path / "keymap.toml"
    path.write_text('"tasks.abrot" = "x"\n')
    code, out, err = jc(dsn, "--keymap", str(path))
    assert code == 2 and "names no binding 'tasks.abrot'" in err and "Traceback" not in err
    path.write_text('"tasks.abort" = 3\n')
    code, out, err = jc(dsn, "--keymap", str(path))
    assert code == 2 and "must be a key" in err
    path.write_text('tasks.abort = \n')
    code, out, err = jc(dsn, "--keymap", str(path))
    assert code == 2 and "is not TOML" in err


async def test_the_cursor_stays_on_its_task_when_rows_arrive_above_it(dsn):
    tasks = [api.schedule(dsn, "sleep", 1) for _ in range(3)]
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 3)
        await pilot.press("down")               # on the middle task
        table = app.screen.query_one(LiveTable)
        chosen = table.current_key
        assert chosen == str(tasks[1].id)
        for _ in range(2):
            api.schedule(dsn, "sleep", 1)
        await until(pilot, lambda: len(ids(app)) == 5, what="the new rows on top")
        assert table.current_key == chosen and table.cursor_row == 3
        await pilot.press("a")                  # acts on the row the user saw highlighted
        await until(pilot, lambda: app.screen.query("#question"), what="the question")
        assert f"Abort task {chosen}?" in str(app.screen.query_one("#question").render())


async def test_a_search_the_user_moved_on_from_stops_reading_in_the_server(dsn):
    task = api.schedule(dsn, "double", 1)
    app = JobConsole(dsn, refresh=3600)

    def waiting():
        # the statements that wait for the lock: (backend, since when), each one a read
        with psycopg.connect(dsn, autocommit=True) as conn:
            return set(conn.execute(
                "select pid, query_start from pg_stat_activity where datname = current_database() "
                "and state = 'active' and wait_event_type = 'Lock'").fetchall())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: ids(app) == [task.id])
        # a table locked by another session: the search waits in the server, as one
        # that reads ten million rows would be busy there
        with psycopg.connect(dsn) as locker:
            locker.execute("lock table jobconsole.task in access exclusive mode")
            await pilot.press("slash", *"zzzz", "enter")
            await until(pilot, lambda: len(waiting()) == 1, 5, "the search to be in the server")
            search = waiting()
            await pilot.press("escape")         # the filter cleared: a new read
            await until(pilot, lambda: not waiting() & search, 5, "the search to be stopped")
            assert len(waiting()) == 1          # the new read, which waits in its turn
            locker.rollback()
        await until(pilot, lambda: ids(app) == [task.id], 5, "all the rows again")
        assert app.problem is None      # a stopped search is no fault to report


async def test_a_slow_read_is_repeated_for_changes_less_often_and_the_title_says_so(dsn):
    api.schedule(dsn, "double", 1)
    app = JobConsole(dsn)
    read = app.source.tasks

    def slow_for_zzzz(where=None, **kwargs):
        if where == "zzzz":
            time.sleep(0.5)     # as a filter that matches little reads a huge table
        return read(where=where, **kwargs)
    app.source.tasks = slow_for_zzzz
    async with app.run_test(size=SIZE) as pilot:
        view = app.screen
        await until(pilot, lambda: len(ids(app)) == 1)
        await pilot.press("slash", *"zzzz", "enter")
        await until(pilot, lambda: view.span is None and not view._loading, 10, "the search")
        assert view.change_gap >= 5     # ten times what a read takes
        assert "changes read every" in str(view.query_one("#view-title").render())
        loads = view.loads
        for n in range(6):              # a change every half second, for three seconds
            api.schedule(dsn, "double", n)
            await pilot.pause(0.5)
        assert view.loads - loads <= 1  # at a gap of 1 s, it would have read three times
        await pilot.press("escape")     # a quick read: live again
        await until(pilot, lambda: view.change_gap == 1.0, 5, "the gap to come back")
        assert "changes read every" not in str(view.query_one("#view-title").render())


async def test_a_new_filter_does_not_wait_for_a_search_still_running(dsn):
    tasks = [api.schedule(dsn, "double", 1), api.schedule(dsn, "fail", 1)]
    app = JobConsole(dsn)
    gate = threading.Event()
    read = app.source.tasks

    def slow_for_zzzz(where=None, **kwargs):
        # as a filter that matches nothing searches a huge table for seconds
        if where == "zzzz":
            gate.wait(20)
        return read(where=where, **kwargs)
    app.source.tasks = slow_for_zzzz
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(ids(app)) == 2)
        await pilot.press("slash", *"zzzz", "enter")
        await pilot.press("slash", "ctrl+u", *"fail", "enter")
        await until(pilot, lambda: ids(app) == [tasks[1].id], 5, "the new filter's rows")
        gate.set()
        await pilot.pause(0.5)
        assert ids(app) == [tasks[1].id]    # the old search's answer, late, is dropped
