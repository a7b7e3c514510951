"""Fixtures of the reliability group: each test gets a PostgreSQL of its own (server.py),
one database on it, and monitors that run the journaling operations (journal_ops.py).

Their clocks are slower than the rest of the suite's: a server restart takes a second or
two, and a monitor must not be declared dead for that alone.
"""
import os

import pytest

from helpers import MonitorProcess, alive, wait_for
from jobconsole import api
from server import Server

HERE = os.path.dirname(os.path.abspath(__file__))
JOURNAL_OPS = os.path.join(HERE, "journal_ops.py")
TIMING = {
    "JOBCONSOLE_HEARTBEAT": "0.5",
    "JOBCONSOLE_STALE": "10",
    "JOBCONSOLE_KILL_GRACE": "1",
    "JOBCONSOLE_POLL": "2",
}


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "home")
    yield srv
    srv.close()


@pytest.fixture
def rdsn(server):
    return server.database()


@pytest.fixture
def journal_path(tmp_path):
    return str(tmp_path / "journal")


@pytest.fixture
def monitors(rdsn):
    """monitors('--workers', '3', host='a', **timing) -> a running MonitorProcess (on this
    host when no host is given); all
    stopped after the test, their workers and the workers' children gone."""
    started = []

    def start(*args, host=None, workers=None, wait=True, dsn=None, wrap=(), **timing):
        if host is None:   # this host: what checks a process by its pid
            api.register_operations(rdsn, JOURNAL_OPS)
        mon = MonitorProcess(dsn or rdsn, *args, host=host, ops=JOURNAL_OPS,
                             env={**TIMING, **timing}, wrap=wrap)
        started.append(mon)
        if wait:
            expected = workers if workers is not None else int(args[args.index("--workers") + 1])
            mon.wait_workers(expected, timeout=30)
        return mon

    yield start
    for mon in started:
        children = mon.child_pids()
        mon.stop(timeout=30)
        for pid in children:
            wait_for(lambda: not alive(pid), 15, f"process {pid} gone after its monitor")
