"""A monitor that loses its database, or is killed while it is away, leaves nothing
'running' for good: every clean-up is retried until it is recorded, and the next monitor
on the host reaps the rows of processes that are gone. No one takes a row for a live
monitor, and the server is not stopped under monitors without a --force.
"""
import signal
import time

import pytest

from helpers import wait_for
from jobconsole import api
from test_cli import jc

import journal

pytestmark = pytest.mark.slow


def long_tasks(dsn, journal_path, count=2, seconds=4):
    tasks = [api.schedule(dsn, "work", seconds, metadata={"journal": journal_path})
             for _ in range(count)]
    wait_for(lambda: all(t.info().started for t in tasks), 20, "the tasks to start")
    return tasks


def test_a_graceful_stop_that_loses_the_database_records_everything_once_it_is_back(
        server, rdsn, monitors, journal_path):
    mon = monitors("--workers", "2", host="a")
    tasks = long_tasks(rdsn, journal_path)
    mid = mon.id

    api.shutdown_monitor(rdsn, mid)
    time.sleep(1)
    server.stop("fast")
    time.sleep(3)
    server.start()

    assert mon.proc.wait(30) == 0
    assert [t.join(10).status for t in tasks] == ["done", "done"]
    assert [m.status for m in api.list_monitors(rdsn, all=True) if m.id == mid] == ["stopped"]
    assert {w.status for w in api.list_workers(rdsn, all=True)} == {"stopped"}
    assert journal.verdict(journal_path, rdsn).failures() == {}
    assert f"stopping once tasks {tasks[0].id}, {tasks[1].id} end" in mon.output()


def test_a_monitor_killed_while_the_database_was_away_is_reaped_by_the_next_on_its_host(
        server, rdsn, monitors, journal_path):
    first = monitors("--workers", "2")
    tasks = long_tasks(rdsn, journal_path, seconds=30)
    server.stop("fast")
    first.stop(signal.SIGKILL)     # its workers die with it
    server.start()

    # its row still says 'running', but its process is gone: no one takes it for alive
    assert [m.status for m in api.list_monitors(rdsn)] == ["running"]
    assert api.serving_monitor(rdsn) is None

    began = time.monotonic()
    monitors("--workers", "2")
    wait_for(lambda: all(t.info().attempt == 2 for t in tasks), 20, "the tasks' retries")
    # at start-up, by pid and start time: well before the old heartbeat is stale (10 s)
    assert time.monotonic() - began < 8
    assert [m.status for m in api.list_monitors(rdsn, all=True)][0] == "dead"
    for t in tasks:
        assert api.abort(rdsn, t.id) in ("aborting", "aborted")
    assert [t.join(10).status for t in tasks] == ["aborted", "aborted"]
    assert journal.verdict(journal_path, rdsn).failures(allow_reruns=True) == {}


def test_the_embedded_server_is_not_stopped_under_its_monitors_without_force(
        server, monitors):
    monitors("--workers", "1")
    home = {"JOBCONSOLE_HOME": str(server.home)}
    code, out, err = jc(None, "db", "stop", env=home)
    assert code != 0
    assert "1 monitor (pid" in err and "1 worker (pid" in err and "--force" in err
    assert server.postmaster()

    code, out, err = jc(None, "db", "stop", "--force", env=home)
    assert (code, out.strip()) == (0, "stopped")
    server.start()   # for the monitor, which waits for it, to record its stop
