"""Fixtures: a real PostgreSQL, a fresh database per test, real monitor processes.

The server is the one $JOBCONSOLE_TEST_DSN names, or else the embedded default,
started in a temporary home for the session. Each test gets its own database, copied
from a template that already holds the schema and the test operations.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import psycopg
import pytest
from psycopg import conninfo, sql

from core import api, db

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = os.path.join(HERE, "ops.py")

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
    from core import embedded
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


class MonitorProcess:
    """A `jobconsole monitor` running as a real process."""

    def __init__(self, dsn, *args, host=None):
        env = dict(os.environ, JOBCONSOLE_DSN=dsn)
        if host:
            env["JOBCONSOLE_HOST"] = host
            api.register_operations(dsn, OPS, host=host)   # operations are per host
        self.dsn = dsn
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "monitor", *args], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.pid = self.proc.pid

    def workers(self):
        """Live worker rows of this monitor."""
        return [w for w in api.list_workers(self.dsn) if self._mine(w)]

    def _mine(self, worker):
        mon = [m for m in api.list_monitors(self.dsn, all=True) if m.pid == self.pid]
        return bool(mon) and worker.monitor_id == mon[0].id

    @property
    def id(self):
        return [m for m in api.list_monitors(self.dsn, all=True) if m.pid == self.pid][0].id

    def wait_workers(self, count, timeout=20):
        """Wait until `count` workers run (their pids are known); returns their pids."""
        wait_for(lambda: len([w for w in self.workers() if w.status == "running"]) == count,
                 timeout, f"{count} running workers")
        return [w.pid for w in self.workers()]

    def child_pids(self):
        try:
            return [p.pid for p in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        return self.proc.returncode

    def output(self):
        return self.proc.stdout.read() if self.proc.poll() is not None else ""


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
        children = mon.child_pids()
        mon.stop()
        for pid in children:
            wait_for(lambda: not alive(pid), 10, f"worker {pid} gone after its monitor")


def _expected_workers(args):
    for flag in ("--workers", "--min-workers"):
        if flag in args:
            return int(args[args.index(flag) + 1])
    return 1


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def task_pid(task):
    """The pid a `sleep` task printed first thing in its log."""
    line = wait_for(lambda: next((l for _, l in task.logs() if l.startswith("pid ")), None),
                    10, f"task {task.id} to log its pid")
    return int(line.split()[1])


@contextlib.contextmanager
def env(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
