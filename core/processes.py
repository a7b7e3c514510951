"""Monitors and workers as the database sees them, and requests to them.

Requests are written to the database and announced on `jobconsole_control`, so they
reach the owning monitor on whatever host it runs.
"""
import json
import os

from . import db, hosts
from .errors import Conflict, NotFound
from .records import LIVE_MONITOR, LIVE_WORKER, MonitorInfo, WorkerInfo

_LIVE_WORKER = db.sql_list(LIVE_WORKER)
_LIVE_MONITOR = db.sql_list(LIVE_MONITOR)


def add_monitor(conn, host, domain, options, label=""):
    """The row of a monitor that this process is, 'running'; returns its id."""
    return conn.execute(
        "insert into jobconsole.monitor (host, domain, pid, options, pid_started, label) "
        "values (%s, %s, %s, %s, %s, %s) returning id",
        (host, domain, os.getpid(), json.dumps(options), hosts.started(os.getpid()),
         label)).fetchone()[0]


def add_worker(conn, monitor_id, host, domain, kind):
    """The row of a worker about to start ('starting', its pid not known yet); its id."""
    return conn.execute(
        "insert into jobconsole.worker (monitor_id, host, domain, kind) "
        "values (%s, %s, %s, %s) returning id", (monitor_id, host, domain, kind)).fetchone()[0]


def monitor_stopped(conn, mid):
    """Record a live monitor stopped."""
    conn.execute("update jobconsole.monitor set status = 'stopped', finished = now() "
                 f"where id = %s and status in {_LIVE_MONITOR}", (mid,))


def list_monitors(conn, *, all=False):
    rows = conn.execute(
        "select m.id, m.host, m.domain, m.pid, m.options, m.status, m.started, m.heartbeat, "
        "m.finished, (select count(*) from jobconsole.worker w where w.monitor_id = m.id "
        f"and w.status in {_LIVE_WORKER}), "
        "extract(epoch from now() - m.heartbeat)::float8, m.label "
        f"from jobconsole.monitor m where %s or m.status in {_LIVE_MONITOR} "
        "order by m.id", (all,)).fetchall()
    return [MonitorInfo(*r) for r in rows]


def serving_monitor(conn, domain, host, stale):
    """The monitor of `domain` on `host` that is alive now, or None. A row says 'running'
    until someone records otherwise, which a monitor that lost its database or was
    killed never did: so its heartbeat must be fresh and, on this host, its process
    (pid and start time) must still run."""
    rows = conn.execute(
        "select id, pid, pid_started from jobconsole.monitor "
        f"where domain = %s and host = %s and status in {_LIVE_MONITOR} "
        "and heartbeat >= now() - make_interval(secs => %s) order by id",
        (domain, host, stale)).fetchall()
    local = host == hosts.this_host()
    live = [mid for mid, pid, pid_started in rows if not local or hosts.alive(pid, pid_started)]
    return next((m for m in list_monitors(conn) if m.id in live), None)


def list_workers(conn, *, all=False, monitor_id=None):
    rows = conn.execute(
        "select w.id, w.monitor_id, w.host, w.domain, w.pid, w.status, w.runs, w.mem_mb, "
        "w.reason, w.started, w.heartbeat, w.finished, coalesce(w.task_id, t.id), w.kind, "
        "w.cpu_percent, (100.0 * w.mem_mb / nullif(coalesce((m.options->>'max_mem')::float8, "
        "m.mem_total_mb), 0))::real "
        "from jobconsole.worker w join jobconsole.monitor m on m.id = w.monitor_id "
        "left join lateral (select id from jobconsole.task "
        "where worker_id = w.id and status in ('running', 'aborting') and started is not null "
        "order by id limit 1) t on true "
        f"where (%s or w.status in {_LIVE_WORKER}) "
        "and (%s::int is null or w.monitor_id = %s) order by w.id",
        (all, monitor_id, monitor_id)).fetchall()
    return [WorkerInfo(*r) for r in rows]


def shutdown_monitor(conn, mid, now=False):
    """Ask a monitor to stop: gracefully (workers finish their task) or now (killed)."""
    row = conn.execute(
        "update jobconsole.monitor set stop_requested = %s "
        f"where id = %s and status in {_LIVE_MONITOR} returning id",
        ("now" if now else "graceful", mid)).fetchone()
    if row is None:
        _missing(conn, "monitor", mid)
    conn.execute("select pg_notify('jobconsole_control', 'monitor')")


def shutdown_worker(conn, wid):
    """Ask a worker to exit after its current task."""
    _request_worker(conn, wid, "shutdown_requested")


def kill_worker(conn, wid):
    """Have the worker's monitor kill it now; its task fails as a crash."""
    _request_worker(conn, wid, "kill_requested")


def _request_worker(conn, wid, column):
    row = conn.execute(
        f"update jobconsole.worker set {column} = true "
        f"where id = %s and status in {_LIVE_WORKER} returning id",
        (wid,)).fetchone()
    if row is None:
        _missing(conn, "worker", wid)
    conn.execute("select pg_notify('jobconsole_control', 'worker')")


def _missing(conn, kind, oid):
    row = conn.execute(f"select status from jobconsole.{kind} where id = %s", (oid,)).fetchone()
    if row is None:
        raise NotFound(f"no {kind} {oid}")
    raise Conflict(f"{kind} {oid} is already {row[0]}")
