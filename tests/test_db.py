"""Connections: the library keeps working across a restart of the database server."""
from helpers import OPS

from jobconsole import api, db, embedded


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
