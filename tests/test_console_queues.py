"""The queues view (6): each queue of payloads, its depth and the age of its oldest
payload, live: jobconsole's own pgsql queues by notification, the other transports as
their daemons publish them."""
import threading

from test_console import SIZE, rows, until

from jobconsole import api
from jobconsole.compat import asynctask
from jobconsole.console.app import JobConsole
from jobconsole.console.views import queues as queues_view


def depths(app):
    return {r[1]: int(r[2]) for r in rows(app)}


async def test_pgsql_queues_change_live_by_notification(dsn, monkeypatch):
    # neither the view's poll nor the app's safety net may be what shows the change
    monkeypatch.setattr(queues_view, "POLL", 600)
    transport = api.transport(dsn, dsn)
    transport.submit_task("imports", {"n": 1})
    app = JobConsole(dsn, refresh=600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: depths(app) == {"imports": 1}, what="the queue")
        assert rows(app)[0][0].startswith("pgsql:")
        transport.submit_task("imports", {"n": 2})
        transport.submit_task("reports", {"n": 3})
        await until(pilot, lambda: depths(app) == {"imports": 2, "reports": 1}, 3,
                    "the new payloads, live")
        assert transport.get_task("reports") == {"n": 3}
        await until(pilot, lambda: depths(app) == {"imports": 2}, 3, "the emptied queue gone")


async def test_other_transports_show_what_their_daemons_publish(dsn, tmp_path):
    uri = f"filesys:{tmp_path / 'queues'}"
    directory = api.transport(dsn, uri)
    for n in range(3):
        directory.submit_task("scans", {"n": n})
    done = threading.Event()
    done.set()      # one round of the daemon's publisher
    asynctask._publish(dsn, uri, done)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: depths(app) == {"scans": 3}, what="the published queue")
        assert rows(app)[0][0] == uri
        directory.get_task("scans")
        asynctask._publish(dsn, uri, done)
        await until(pilot, lambda: depths(app) == {"scans": 2}, 3, "the new depth")


async def test_the_filter_narrows_queues(dsn):
    transport = api.transport(dsn, dsn)
    transport.submit_task("alpha", 1)
    transport.submit_task("beta", 2)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await until(pilot, lambda: len(rows(app)) == 2)
        await pilot.press("slash", *"beta", "enter")
        await until(pilot, lambda: depths(app) == {"beta": 1}, 3, "the filtered queues")
