"""What the tests share besides fixtures: the repository's places, waiting, processes.

Test modules import these by name (`from helpers import wait_for`); conftest.py holds
only fixtures.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil

from jobconsole import api

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OPS = os.path.join(HERE, "ops.py")


def installed_layout(target):
    """The package as an installed wheel lays it out (the console inside `jobconsole`),
    built under `target` from links to this checkout's files; returns the folder to put
    on sys.path."""
    site = os.path.join(target, "site")
    for folder, package in (("core", "jobconsole"), ("console", "jobconsole/console")):
        base = os.path.join(ROOT, folder)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            into = os.path.join(site, package, os.path.relpath(dirpath, base))
            os.makedirs(into, exist_ok=True)
            for name in filenames:
                if name.endswith((".py", ".sql", ".typed")):
                    os.symlink(os.path.join(dirpath, name), os.path.join(into, name))
    return site


class MonitorProcess:
    """A `jobconsole monitor` running as a real process (or another command that runs
    one, such as `asynctask-workers`)."""

    def __init__(self, dsn, *args, host=None, ops=OPS, env=None, wrap=(), command="monitor"):
        """`wrap`: a command prefix, such as `ip netns exec NAME` (it must exec)."""
        env = dict(os.environ, **(env or {}), JOBCONSOLE_DSN=dsn)
        if host:
            env["JOBCONSOLE_HOST"] = host
            api.register_operations(dsn, ops, host=host)   # operations are per host
        self.dsn = dsn
        self.proc = subprocess.Popen(
            [*wrap, sys.executable, "-m", "jobconsole.console", command, *args], env=env,
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

    def stop_with_workers(self):
        """Stop it, and wait until every worker it had has gone too (no orphans)."""
        children = self.child_pids()
        self.stop()
        for pid in children:
            wait_for(lambda: not alive(pid), 10, f"worker {pid} gone after its monitor")

    def output(self):
        return self.proc.stdout.read() if self.proc.poll() is not None else ""


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


def require(missing):
    """Skip a test for which this machine lacks a tool or service (`missing` says which),
    or, under CI (CI=true), fail it: there, nothing may go untested silently."""
    import pytest
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run this test, but {missing}", pytrace=False)
        pytest.skip(missing)
