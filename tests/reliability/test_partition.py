"""A host cut off from the database for longer than the stale time: the others take its
tasks over, and the cut-off host's task code has stopped before they may. Nothing runs
twice unless retried, and no retry overlaps the first attempt; healed, the host serves on.

Host a runs in a network namespace and reaches the test's PostgreSQL over a veth pair,
whose link the test cuts; host b runs beside the server. The clocks: a beat every 0.5 s,
silence of 6 s means death. A worker whose heartbeat has failed for half that while its
task runs kills its own process group (its lease ran out).
"""
import time

import pytest
from psycopg import conninfo

from helpers import require, wait_for
from jobconsole import api

import journal
import netns

pytestmark = pytest.mark.slow

CLOCK = {"JOBCONSOLE_HEARTBEAT": "0.5", "JOBCONSOLE_STALE": "6"}


@pytest.fixture
def host_a():
    require(netns.available())
    ns = netns.Namespace("a")
    yield ns
    ns.close()


def test_a_cut_off_host_stops_its_tasks_before_another_takes_them_over(
        host_a, server, rdsn, monitors, journal_path):
    server.listen(host_a.outer_address, host_a.network)
    over_tcp = conninfo.make_conninfo(rdsn, host=host_a.outer_address, port=5432)
    a = monitors("--workers", "2", host="a", dsn=over_tcp, wrap=host_a.wrap, **CLOCK)
    long = [api.schedule(rdsn, "work", 12, metadata={"journal": journal_path})
            for _ in range(2)]
    wait_for(lambda: all(t.info().started for t in long), 20, "the long tasks to start on a")
    monitors("--workers", "2", host="b", dsn=over_tcp, **CLOCK)
    old_a = a.id

    host_a.cut()
    cut = time.time()
    wait_for(lambda: all(t.info().attempt == 2 for t in long), 30, "b to retry a's tasks")
    taken_over = time.time()
    time.sleep(3)
    host_a.heal()

    assert [t.join(40).status for t in long] == ["done", "done"]
    runs = journal.runs(journal_path)
    for t in long:
        first, second = runs[t.id]
        assert not first.ended, "the cut-off attempt ran to its end"
        assert first.last < second.start, "the retry overlapped the cut-off attempt"
        assert first.last < cut + 6, "the cut-off attempt ran past its lease"
    # staleness counts from the last beat, which may precede the cut by one beat
    assert taken_over - cut >= 6 - 0.5
    assert journal.verdict(journal_path, rdsn).failures(allow_reruns=True) == {}
    # healed: host a fenced itself, registered anew and serves on
    wait_for(lambda: any(m.host == "a" and m.id != old_a and m.status == "running"
                         for m in api.list_monitors(rdsn)), 30, "host a to serve anew")
    assert a.proc.poll() is None
    quick = api.schedule(rdsn, "work", 0.01, host="a", metadata={"journal": journal_path})
    assert quick.join(30).status == "done"
