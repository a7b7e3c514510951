"""The embedded PostgreSQL, with real servers: initdb, start, reuse, stop, crash recovery."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from jobconsole import embedded
from jobconsole.errors import DatabaseUnavailable

ROOT = Path(__file__).resolve().parents[1]

# Run in a child python: prints [dsn, postmaster pid] after ensure_running(argv[1]),
# starting no earlier than the wall-clock time argv[2], so that two children race.
CHILD = """
import json, sys, time
from jobconsole import embedded
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
dsn = embedded.ensure_running(sys.argv[1])
print(json.dumps([dsn, embedded.status(sys.argv[1])["pid"]]))
"""


def child(home, start_at=0.0):
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(home), str(start_at)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": pythonpath}, stdout=subprocess.PIPE, text=True)


def servers(under):
    """Postmasters started on a data directory under `under` (children retitle themselves)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and any(str(under) in arg for arg in proc.info["cmdline"] or ()):
            found.append(proc)
    return found


def query(dsn, sql="select 1"):
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        return conn.execute(sql).fetchone()[0]


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "job console"  # a space, on purpose
    yield path
    embedded.stop(path)
    assert servers(tmp_path) == []


def test_status_of_a_new_home_creates_nothing(home):
    assert embedded.status(home) == {"running": False, "pid": None, "dsn": None,
                                     "datadir": str(home / "pgdata"), "version": embedded._version()}
    assert not home.exists()
    assert embedded.stop(home) is False


def test_first_use_initialises_a_private_server(home):
    dsn = embedded.ensure_running(home)
    assert query(dsn) == 1
    assert query(dsn, "show listen_addresses") == ""
    assert stat.S_IMODE((home / "run").stat().st_mode) == 0o700
    st = embedded.status(home)
    assert st["running"] and st["dsn"] == dsn and st["version"].startswith("18")
    assert psutil.Process(st["pid"]).name() == "postgres"
    if os.geteuid() == 0:  # the server runs as root mapped onto an unprivileged uid
        uid_map = Path(f"/proc/{st['pid']}/uid_map").read_text().split()
        assert uid_map[0] != "0" and uid_map[1] == "0"


def test_second_call_reuses_the_server(home):
    dsn = embedded.ensure_running(home)
    pid = embedded.status(home)["pid"]
    assert embedded.ensure_running(home) == dsn
    assert embedded.status(home)["pid"] == pid


def test_server_outlives_the_process_that_started_it(home):
    proc = child(home)
    dsn, pid = json.loads(proc.communicate(timeout=30)[0])
    assert proc.returncode == 0
    assert query(dsn) == 1
    assert embedded.status(home)["pid"] == pid


def test_stop(home):
    dsn = embedded.ensure_running(home)
    assert embedded.stop(home) is True
    assert embedded.status(home) | {"version": None} == {
        "running": False, "pid": None, "dsn": None, "datadir": str(home / "pgdata"), "version": None}
    with pytest.raises(psycopg.OperationalError):
        query(dsn)
    assert embedded.stop(home) is False


def test_recovers_after_the_postmaster_is_killed(home):
    embedded.ensure_running(home)
    pid = embedded.status(home)["pid"]
    os.kill(pid, signal.SIGKILL)
    # The pid it leaves in postmaster.pid may be reused by another live process.
    pidfile = home / "pgdata" / "postmaster.pid"
    lines = pidfile.read_text().split("\n")
    pidfile.write_text("\n".join([str(os.getpid())] + lines[1:]))
    dsn = embedded.ensure_running(home)
    assert query(dsn) == 1
    assert embedded.status(home)["pid"] not in (pid, None)


def test_restarts_a_server_whose_socket_is_gone(home):
    dsn = embedded.ensure_running(home)
    (home / "run" / ".s.PGSQL.5432").unlink()
    assert not embedded.status(home)["running"]
    assert embedded.ensure_running(home) == dsn
    assert query(dsn) == 1
    assert [p.pid for p in servers(home)] == [embedded.status(home)["pid"]]


def test_concurrent_starts_end_with_one_server(home):
    start_at = time.time() + 1.0
    procs = [child(home, start_at) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=30)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert results[0] == results[1]
    assert [p.pid for p in servers(home)] == [results[0][1]]
    assert (home / "postgres.log").read_text().count("starting PostgreSQL") == 1


def test_long_home_puts_the_socket_in_a_short_private_dir(tmp_path):
    home = tmp_path / ("long " * 20)
    try:
        dsn = embedded.ensure_running(home)
        sockdir = Path(psycopg.conninfo.conninfo_to_dict(dsn)["host"])
        assert sockdir.parent == Path("/tmp") and sockdir.name.startswith(f"jobconsole-{os.geteuid()}-")
        assert stat.S_IMODE(sockdir.lstat().st_mode) == 0o700
        assert query(dsn) == 1
    finally:
        embedded.stop(home)
    assert servers(tmp_path) == []
    sockdir.rmdir()


def test_unusable_homes_are_clear_errors(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="must not contain"):
        embedded.ensure_running(tmp_path / "a$b")
    (tmp_path / "file").write_text("")
    with pytest.raises(DatabaseUnavailable, match="embedded PostgreSQL"):
        embedded.ensure_running(tmp_path / "file" / "home")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs a user namespace")
def test_root_without_user_namespaces_is_a_clear_error(home, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no unshare to be found
    embedded._unprivileged.cache_clear()
    try:
        with pytest.raises(DatabaseUnavailable, match="JOBCONSOLE_DSN"):
            embedded.ensure_running(home)
    finally:
        embedded._unprivileged.cache_clear()
