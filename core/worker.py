"""A worker: one OS process that claims and runs the tasks of one domain, one at a time.

Started by its monitor as `python -m core.worker WORKER_ID` with $JOBCONSOLE_DSN set.

The hot path, and why it looks like this. On a real disk a durable commit costs more
than running a small task, so a worker commits durably once per *claim*, and claims a
few tasks ahead when the queue is deep and tasks are quick (`_CLAIM`). A claimed task
is 'running' with `started` null: it waits in the worker's hand. Each task then costs
one statement (`_STEP`): record the previous task's result and log tail, and mark the
next one started, committed without waiting for the disk. What that trades, and only
on a crash of the PostgreSQL server itself: the last fraction of a second of results
may be lost, and those tasks end as crashes; none is ever silently run twice, because
its claim was durable. Everything stays correct on crashes of workers and monitors.

Fairness: when a task turns out to be slow, the companion thread gives the tasks still
in the hand back to the queue, so that idle workers can take them. Abort: a task in the
hand is aborted at once by `tasks.abort` (its start is conditional on its status).

A companion thread on its own connection writes heartbeats and streams the log of a
long task. The worker dies with its monitor (PR_SET_PDEATHSIG), so a monitor killed
with SIGKILL leaves no orphans.
"""
import collections
import ctypes
import os
import signal
import sys
import threading
import time
import traceback

import psutil

from . import db, registry
from .runtime import LogBuffer, TaskRun
from .timing import Timing

MAX_AHEAD = 16          # tasks claimed at once, at most
QUICK = 0.02            # seconds: a task this fast lets the worker claim further ahead

# `me` locks this worker's row first: a monitor that is killing this worker holds that
# lock, so a statement racing with the kill waits, then finds the worker no longer
# running and neither records nor claims anything.
_CLAIM = """
with me as (
    select id from jobconsole.worker where id = %(wid)s and status = 'running' for update
), next as (
    select id from jobconsole.task
    where status = 'queued' and domain = %(domain)s and (host is null or host = %(host)s)
      and operation = any(%(ops)s) and exists (select from me)
    order by priority desc, id
    limit %(n)s
    for update skip locked
)
update jobconsole.task t set status = 'running', claimed = now(), worker_id = %(wid)s
from next where t.id = next.id
returning t.priority, t.id, t.operation, t.input, t.raw_input, t.metadata, t.attempt
"""

# This session sets jobconsole.notifies_itself, so the task trigger stands aside and
# the statement announces its changes itself: a plain pg_notify is far cheaper than
# the trigger's transition tables, and this statement runs once per task.
_STEP = """
with me as (
    update jobconsole.worker set runs = runs + %(finished)s
    where id = %(wid)s and status = 'running'
    returning id
), {logged}finish as (
    -- an abort or timeout requested while the task ran wins over its result
    update jobconsole.task set
        status = case when status = 'aborting' then
                     case when error_kind = 'timeout' then 'failed' else 'aborted' end
                 else %(status)s end,
        output = %(output)s::jsonb,
        raw_output = %(raw_output)s,
        error_kind = case when status = 'aborting' then error_kind else %(kind)s end,
        traceback = case when status = 'aborting' then traceback else %(traceback)s end,
        finished = now()
    where id = %(prev)s and worker_id = %(wid)s and status in ('running', 'aborting')
      and exists (select from me)
), started as (
    update jobconsole.task set started = now()
    where id = %(next)s and worker_id = %(wid)s and status = 'running' and started is null
      and exists (select from me)
    returning id
)
select exists (select from me), exists (select from started),
       case when %(prev)s::bigint is not null or %(next)s::bigint is not null then
           pg_notify('jobconsole_task', concat_ws(',', %(prev)s::bigint, %(next)s::bigint)) end
"""
_LOGGED = """logged as (
    insert into jobconsole.log (task_id, ts, line)
    select %(prev)s, to_timestamp(u.t), u.l
    from unnest(%(ts)s::float8[], %(lines)s::text[]) as u(t, l)
    where exists (select from me)
), """
# the log insert (and its trigger) only when there are lines to write
_STEP_LOGGED, _STEP = _STEP.format(logged=_LOGGED), _STEP.format(logged="")

_NO_RESULT = dict(prev=None, finished=0, status=None, output=None, raw_output=None,
                  kind=None, traceback=None, ts=[], lines=[])


class Worker:
    def __init__(self, worker_id, dsn, timing=None):
        self.id = worker_id
        self.dsn = dsn
        self.timing = timing or Timing.from_env()
        self.buffer = LogBuffer()
        self.flush_lock = threading.Lock()   # the log's order: companion vs final flush
        self.hand = collections.deque()      # claimed rows not started yet
        self.hand_lock = threading.Lock()
        self.busy_since = None               # monotonic start of the running task
        self.stop_reason = None
        self.runs = 0
        self.ahead = 1
        self.process = psutil.Process()

    def run(self):
        self.conn = db.connect(self.dsn)
        row = self.conn.execute(
            "update jobconsole.worker w set status = 'running', pid = %s, heartbeat = now() "
            "from jobconsole.monitor m where w.id = %s and m.id = w.monitor_id "
            "and w.status = 'starting' returning w.domain, w.host, m.options",
            (os.getpid(), self.id)).fetchone()
        if row is None:
            return "not expected to start"
        self.domain, self.host, options = row
        self.max_runs = options.get("max_runs")
        self.max_mem = options.get("max_mem")
        # per statement, not per session: claims switch durability back on (see above)
        self.conn.execute("set synchronous_commit = off")
        self.conn.execute("set jobconsole.notifies_itself = on")
        self.conn.execute("listen jobconsole_queued")
        self.conn.execute("listen jobconsole_operations")
        self.load_operations()
        Companion(self).start()
        try:
            reason = self.loop()
        finally:
            self.give_back()
            self.conn.execute(
                "update jobconsole.worker set status = 'stopped', finished = now(), "
                "reason = coalesce(reason, %s) where id = %s and status in ('running', 'stopping')",
                (self.stop_reason, self.id))
        return reason

    def load_operations(self):
        paths = [r[0] for r in self.conn.execute(
            "select distinct path from jobconsole.operation where domain = %s and host = %s",
            (self.domain, self.host))]
        names = set()
        for path in paths:
            try:
                registry.load(path)
            except Exception as exc:
                print(f"worker {self.id}: {exc}", file=sys.stderr, flush=True)
        for (name,) in self.conn.execute(
                "select name from jobconsole.operation where domain = %s and host = %s",
                (self.domain, self.host)):
            if registry.lookup(name, self.domain) is not None:
                names.add(name)
        self.operations = sorted(names)

    def loop(self):
        result = _NO_RESULT
        while True:
            self.stop_reason = self.stop_reason or self.limit_reached()
            if self.stop_reason:
                self.give_back()
            elif not self.hand and not self.claim():
                alive = self.step(result, None)[0]
                result = _NO_RESULT
                if not alive:
                    return "stopped by its monitor"
                self.wait()
                continue
            with self.hand_lock:
                row = self.hand.popleft() if self.hand else None
            alive, started = self.step(result, row[0] if row else None)
            result = _NO_RESULT
            if not alive:
                return "stopped by its monitor"
            if row is None:
                return self.stop_reason
            if started:    # not aborted, nor given back, while it waited in the hand
                result = self.execute(*row)
                self.runs += 1

    def claim(self):
        """Claim up to `ahead` tasks into the hand, durably; False if none is queued."""
        with self.conn.transaction():
            self.conn.execute("set local synchronous_commit = on")
            self.conn.execute("set local jobconsole.notifies_itself = off")
            rows = self.conn.execute(_CLAIM, dict(
                wid=self.id, domain=self.domain, host=self.host, ops=self.operations,
                n=self.ahead)).fetchall()
        rows.sort(key=lambda r: (-r[0], r[1]))
        with self.hand_lock:
            self.hand.extend(r[1:] for r in rows)
        # claim further ahead only while the queue is deep and tasks are quick
        self.ahead = min(self.ahead * 2, MAX_AHEAD) if len(rows) == self.ahead else 1
        return bool(rows)

    def step(self, result, next_id):
        """Record `result` and mark task `next_id` started: (worker alive, started)."""
        with self.flush_lock:
            if result["prev"] is not None:
                _, result["ts"], result["lines"] = self.buffer.take()
            self.buffer.task_id = next_id
            sql = _STEP_LOGGED if result["lines"] else _STEP
            return self.conn.execute(sql, dict(result, wid=self.id, next=next_id)).fetchone()[:2]

    def execute(self, tid, operation, input, raw_input, metadata, attempt):
        op = registry.lookup(operation, self.domain)
        run = TaskRun(tid, operation, input, raw_input, metadata, attempt, self.buffer)
        status, kind, tb = "done", None, None
        self.busy_since = time.monotonic()
        try:
            op.func(run)
        except Exception:
            status, kind, tb = "failed", "error", traceback.format_exc()
        finally:
            if time.monotonic() - self.busy_since > QUICK:
                self.ahead = 1
            self.busy_since = None
        output, raw_output = run.result()
        return dict(prev=tid, finished=1, status=status, output=output,
                    raw_output=raw_output, kind=kind, traceback=tb)

    def give_back(self, conn=None):
        """Return the tasks still in the hand to the queue (they have not started)."""
        with self.hand_lock:
            ids = [row[0] for row in self.hand]
            self.hand.clear()
        if ids:
            # announced here too: the trigger stands aside on the worker's own connection
            (conn or self.conn).execute(
                "with back as (update jobconsole.task set status = 'queued', worker_id = null, "
                "claimed = null where id = any(%s) and worker_id = %s and status = 'running' "
                "and started is null returning id) "
                "select pg_notify('jobconsole_queued', %s) where exists (select from back)",
                (ids, self.id, self.domain))
        return ids

    def wait(self):
        """Sleep until a task may be waiting: a notification, or the safety-net poll."""
        deadline = time.monotonic() + self.timing.poll
        while self.stop_reason is None and time.monotonic() < deadline:
            # exhaust the generator before querying: it holds the connection's lock
            notes = list(self.conn.notifies(
                timeout=min(1.0, deadline - time.monotonic()), stop_after=1))
            if any(n.channel == "jobconsole_operations" for n in notes):
                self.load_operations()
                return
            if any(n.payload == self.domain for n in notes):
                return

    def limit_reached(self):
        if self.max_runs and self.runs >= self.max_runs:
            return f"recycled after {self.runs} runs"
        if self.max_mem:
            mb = self.process.memory_info().rss // 2**20
            if mb >= self.max_mem:
                return f"recycled at {mb} MB (limit {self.max_mem} MB)"
        return None


SLOW = 0.1    # seconds: past this, the tasks waiting behind a running one are given back


class Companion(threading.Thread):
    """Heartbeats, streaming of a long task's log lines, watching for a shutdown request."""

    def __init__(self, worker):
        super().__init__(name="jobconsole-companion", daemon=True)
        self.worker = worker
        self.parent = os.getppid()

    def run(self):
        w = self.worker
        conn = db.connect(w.dsn)
        next_beat = next_flush = 0.0
        while True:
            if os.getppid() != self.parent:   # the monitor is gone (belt and braces)
                os._exit(1)
            now = time.monotonic()
            if now >= next_flush:
                next_flush = now + w.timing.log_flush
                if len(w.buffer):
                    self.flush(conn)
            busy = w.busy_since
            if busy is not None and now - busy > SLOW and w.hand:
                w.give_back(conn)   # a slow task: let idle workers take what waits
            if now >= next_beat:
                next_beat = now + w.timing.heartbeat
                row = conn.execute(
                    "update jobconsole.worker set heartbeat = now(), mem_mb = %s "
                    "where id = %s returning shutdown_requested",
                    (w.process.memory_info().rss // 2**20, w.id)).fetchone()
                if row and row[0] and w.stop_reason is None:
                    w.stop_reason = "shut down on request"
            time.sleep(0.05)

    def flush(self, conn):
        with self.worker.flush_lock:
            tid, ts, lines = self.worker.buffer.take()
            if tid is not None and lines:
                conn.execute(
                    "insert into jobconsole.log (task_id, ts, line) "
                    "select %s, to_timestamp(t), l from unnest(%s::float8[], %s::text[]) as u(t, l)",
                    (tid, ts, lines))


def _die_with_parent():
    """Ask Linux to SIGKILL this process when its parent (the monitor) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass   # elsewhere the companion's parent check does the job, more slowly


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    worker_id = int(argv[0])
    _die_with_parent()
    if os.environ.get("JOBCONSOLE_MONITOR_PID") and \
            os.getppid() != int(os.environ["JOBCONSOLE_MONITOR_PID"]):
        sys.exit(1)   # the monitor died before we could ask to die with it
    try:
        reason = Worker(worker_id, os.environ[db.ENV_DSN]).run()
    except KeyboardInterrupt:
        reason = "interrupted"
    print(f"worker {worker_id} ({os.getpid()}): {reason}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
