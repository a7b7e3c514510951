"""A server short of connections slows jobconsole down but breaks nothing.

Each worker holds one connection (its heartbeat shares it), each monitor one: so N
monitors of W workers need N * (W + 1). When the server has fewer, monitors and workers
wait for a free slot, saying so, and never give up; a worker without its connection
takes no task.
"""
import psycopg
import pytest

from helpers import wait_for
from jobconsole import api
from test_cli import jc

import journal

pytestmark = pytest.mark.slow


def client_backends(dsn, named="%"):
    with psycopg.connect(dsn) as conn:
        return conn.execute("select count(*) from pg_stat_activity where backend_type = "
                            "'client backend' and application_name like %s",
                            (named,)).fetchone()[0]


def test_monitors_and_workers_wait_for_a_full_server_and_the_tasks_all_run(
        server, rdsn, monitors, journal_path):
    server.configure(max_connections=20)     # 17 for them: 3 are reserved for superusers
    # they connect as a plain role: the test, a superuser, must still get in to watch
    them = server.user(rdsn, "operator")
    mons = [monitors("--workers", "2", host=f"h{i}", wait=False, dsn=them) for i in range(12)]
    wait_for(lambda: client_backends(rdsn) >= 15, 60, "the server to fill up")
    tasks = api.schedule_many(rdsn, "work", [0.01] * 60, metadata={"journal": journal_path})
    wait_for(lambda: journal.unfinished(rdsn) == 0, 90, "every task to run")

    assert all(mon.proc.poll() is None for mon in mons), "a monitor gave up"
    assert journal.verdict(journal_path, rdsn).failures() == {}
    assert {t.status for t in tasks} == {"done"}
    for mon in mons:
        mon.stop(timeout=30)
    logs = "".join(mon.output() for mon in mons)
    assert "Traceback" not in logs
    # a plain role is refused with this, where a superuser hears "too many clients"
    assert "remaining connection slots are reserved" in logs and "trying again" in logs
    assert "raise max_connections" in logs


def test_forty_workers_leave_room_for_the_console_and_the_cli(server, rdsn, monitors):
    server.configure(max_connections=100)
    for i in range(4):
        monitors("--workers", "10", host=f"h{i}")
    assert client_backends(rdsn, "jobconsole monitor %") == 4
    assert client_backends(rdsn, "jobconsole worker %") == 40
    # 97 for clients (3 reserved): over 50 left for consoles and commands
    assert 97 - client_backends(rdsn) > 50
    code, out, err = jc(rdsn, "list-monitors")
    assert code == 0 and len(out.strip().splitlines()) == 5, err
