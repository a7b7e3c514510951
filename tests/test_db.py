"""Connections: the library keeps working across a restart of the database server, and a
caller can stop a statement of its own from another thread."""
import threading

import psycopg
import pytest
from helpers import OPS

from jobconsole import api, db, embedded
from jobconsole.errors import BadInput, Cancelled


def test_scheduling_works_at_once_after_the_server_restarts(tmp_path):
    home = tmp_path / "restarting server"
    dsn = embedded.ensure_running(home)
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        first = api.schedule(dsn, "double", 1)      # the pool now holds a connection
        embedded.stop(home)
        embedded.ensure_running(home)
        second = api.schedule(dsn, "double", 2)     # not an error about a dead connection
        assert [t.id for t in api.list_tasks(dsn)] == [second.id, first.id]
    finally:
        db.close_pools()
        embedded.stop(home)


def test_a_cancelled_search_stops_in_the_server_and_leaves_its_connection_usable(dsn):
    task = api.schedule(dsn, "double", 1)
    cancel = api.Cancel()
    with psycopg.connect(dsn) as locker:
        # the search waits for this lock in the server, as a long read is busy there
        locker.execute("lock table jobconsole.task in access exclusive mode")
        threading.Timer(0.5, cancel.set).start()
        with pytest.raises(Cancelled):
            api.list_tasks(dsn, where="zzzz", cancel=cancel)
    # the same pooled connections answer the next call
    assert [t.id for t in api.list_tasks(dsn)] == [task.id]
    with pytest.raises(Cancelled):          # once set, a Cancel stops a call at its start
        api.list_tasks(dsn, cancel=cancel)
    with pytest.raises(BadInput, match="cancel"):
        api.list_tasks(dsn, cancel="stop")
