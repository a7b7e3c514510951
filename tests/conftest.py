"""Fixtures: a real PostgreSQL, a fresh database per test, real monitor processes.

The server is the one $JOBCONSOLE_TEST_DSN names, or else the embedded default,
started in a temporary home for the session. Each test gets its own database, copied
from a template that already holds the schema and the test operations.
"""
import os
import uuid

import psycopg
import pytest
from psycopg import conninfo, sql

from jobconsole import api, db

from helpers import OPS, MonitorProcess, alive, wait_for

# Fast supervision clocks, so crash and timeout tests take a second, not a minute.
FAST = {
    "JOBCONSOLE_HEARTBEAT": "0.2",
    "JOBCONSOLE_STALE": "1.5",
    "JOBCONSOLE_KILL_GRACE": "0.5",
    "JOBCONSOLE_POLL": "2",
}
os.environ.update(FAST)


@pytest.fixture(scope="session")
def server_dsn(tmp_path_factory):
    dsn = os.environ.get("JOBCONSOLE_TEST_DSN")
    if dsn:
        yield dsn
        return
    from jobconsole import embedded
    home = tmp_path_factory.mktemp("jobconsole home")
    dsn = embedded.ensure_running(home)
    yield dsn
    embedded.stop(home)


def with_dbname(dsn, name):
    return conninfo.make_conninfo(dsn, dbname=name)


@pytest.fixture(scope="session")
def template(server_dsn):
    name = f"jobconsole_template_{os.getpid()}"
    admin = psycopg.connect(server_dsn, autocommit=True)
    admin.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    dsn = with_dbname(server_dsn, name)
    api.init_db(dsn)
    api.register_operations(dsn, OPS)
    db.close_pools()
    yield name
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture
def dsn(server_dsn, template):
    name = f"jobconsole_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(template)))
    yield with_dbname(server_dsn, name)
    db.close_pools()
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def sql_conn(dsn):
    """A direct connection, for the tests' own checks of what the database holds."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def start_monitor(dsn):
    """start_monitor('--workers', '2') -> a running MonitorProcess, stopped after the test."""
    started = []

    def start(*args, host=None, wait=True, workers=None):
        mon = MonitorProcess(dsn, *args, host=host)
        started.append((mon, mon.child_pids))
        if wait:
            mon.wait_workers(workers if workers is not None else _expected_workers(args))
        return mon

    yield start
    for mon, _ in started:
        mon.stop_with_workers()


def _expected_workers(args):
    for flag in ("--workers", "--min-workers"):
        if flag in args:
            return int(args[args.index(flag) + 1])
    return 1
