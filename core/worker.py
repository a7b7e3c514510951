"""A worker: one OS process that claims and runs the tasks of one domain, one at a time.

Started by its monitor as `python -m jobconsole.worker WORKER_ID` with $JOBCONSOLE_DSN set.

The hot path, and why it looks like this. On a real disk a durable commit costs more
than running a small task, so a worker commits durably once per *claim*, and claims a
few tasks ahead when the queue is deep and tasks are quick (`transitions.CLAIM`). A
claimed task is 'running' with `started` null: it waits in the worker's hand. Each task
then costs one statement (`transitions.STEP`): record the previous task's result and
log tail, and mark the next one started, committed without waiting for the disk. What that trades, and only
on a crash of the PostgreSQL server itself: the last fraction of a second of results
may be lost, and those tasks end as crashes; none is ever silently run twice, because
its claim was durable. Everything stays correct on crashes of workers and monitors.

Groups: tasks that take under TINY seconds on average are started GROUP at a time in
one step and recorded together in the next, so that a statement is shared by several.
A group runs for GROUP_SPAN seconds at most: then what remains of it goes back to the
queue (each task's timeout counts from the group's start). The worker row names the
task whose code runs (`task_id`): the step sets it for a lone task, the companion for a
grouped one that proves slow, recording at once what the group finished before it.
A monitor kills a worker for an abort only if it names that task (or has stopped
beating).

Fairness: when a task turns out to be slow, the companion thread gives back to the queue
what the worker holds but has not run: its hand, and the rest of its group (a task of
the group aborted meanwhile ends 'aborted' there, never run). Abort: a task in the hand
is aborted at once by `tasks.abort` (its start is conditional on its status). A tiny
task is usually started with its whole claim, though: aborted while its group runs, it
still runs if its turn comes within the group's GROUP_SPAN, and ends 'aborted' all the
same, its result discarded; later, it goes back with the rest and ends 'aborted' unrun.

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

from . import db, records, registry, transitions
from .runtime import LogBuffer, TaskRun, storable
from .timing import Timing

_LIVE_WORKER = db.sql_list(records.LIVE_WORKER)
MAX_AHEAD = 16          # tasks claimed at once, at most
QUICK = 0.02            # seconds: a task this fast lets the worker claim further ahead
GROUP = MAX_AHEAD       # tiny tasks started and recorded together: a whole claim, so
                        # that 16 of them cost one claim and one step
TINY = 0.002            # seconds: tasks this fast (on average) are run in groups
GROUP_SPAN = 0.05       # seconds a group may run before what remains of it goes back: its
                        # tasks' timeouts count from its start, and its results wait

class Worker:
    def __init__(self, worker_id, dsn, timing=None):
        self.id = worker_id
        self.dsn = dsn
        self.timing = timing or Timing.from_env()
        self.buffer = LogBuffer()
        self.flush_lock = threading.Lock()   # the log's order: companion vs final flush
        self.hand = collections.deque()      # claimed rows not started yet
        self.results = []                    # finished tasks not recorded yet (flush_lock)
        self.group = collections.deque()     # rows marked started together, not run yet
        self.hand_lock = threading.Lock()
        self.busy_since = None               # monotonic start of the running task
        self.grouped = False                 # the running task was started in a group
        self.average = 1.0                   # moving average of task durations, seconds
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
        # off for this session's steps; each claim switches it back on for its own
        # statement (see the module's docstring and transitions.CLAIM)
        self.conn.execute("set synchronous_commit = off")
        self.conn.execute("set jobconsole.notifies_itself = on")
        self.conn.execute("listen jobconsole_queued")
        self.conn.execute("listen jobconsole_operations")
        self.load_operations()
        Companion(self).start()
        # on an exception the process dies and its monitor records how (dead, exit code)
        reason = self.loop()
        self.give_back()
        self.conn.execute(
            "update jobconsole.worker set status = 'stopped', finished = now(), "
            f"reason = coalesce(reason, %s) where id = %s and status in {_LIVE_WORKER}",
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
        while True:
            self.stop_reason = self.stop_reason or self.limit_reached()
            if self.stop_reason:
                self.give_back()
            elif not self.hand and not self.claim():
                alive, _ = self.step([])
                if not alive:
                    return "stopped by its monitor"
                self.wait()
                continue
            group = self.next_group() if not self.stop_reason else []
            alive, started = self.step([row[0] for row in group])
            if not alive:
                return "stopped by its monitor"
            if not group:
                return self.stop_reason
            with self.hand_lock:
                # started (not aborted, nor given back, while it waited in the hand),
                # and not run yet: the companion may give these back (see give_back)
                self.group.extend(row for row in group if row[0] in started)
                # asked to start several: the step named none as current, even if only
                # one started (the others aborted in the hand), so the companion must
                self.grouped = len(group) > 1
            began = time.monotonic()
            while (row := self.next_of_group(began)) is not None:
                result = self.execute(*row)
                with self.flush_lock:
                    self.results.append(result)
                self.runs += 1

    def next_group(self):
        """The next task from the hand, or a few when tasks are tiny (see GROUP)."""
        size = GROUP if self.average < TINY else 1
        with self.hand_lock:
            return [self.hand.popleft() for _ in range(min(size, len(self.hand)))]

    def next_of_group(self, began):
        """The next task of the running group, or None once it is done. A group that has
        run GROUP_SPAN seconds was not of tiny tasks: what remains of it goes back."""
        with self.hand_lock:
            if self.group and time.monotonic() - began <= GROUP_SPAN:
                return self.group.popleft()
            late = bool(self.group)
        if late:
            self.give_back()
        return None

    def step(self, next_ids):
        """Record what finished, mark `next_ids` started: (worker alive, ids started).

        A lone task is recorded as the worker's current one (what an abort kills);
        tasks started as a group are not, until one proves slow (`point_at`).
        """
        with self.flush_lock:
            self.buffer.task_id = None
            return self._record(self.conn, next_ids,
                                next_ids[0] if len(next_ids) == 1 else None)

    def point_at(self, conn, tid):
        """For the companion, when `tid`, started in a group, proves slow: record what
        the group finished before it (the monitor would time those out meanwhile), and
        make `tid` the worker's current task, the one an abort of it kills."""
        with self.flush_lock:
            if self.buffer.task_id == tid and self.busy_since is not None:
                self._record(conn, [], tid)

    def _record(self, conn, next_ids, current):
        """One step statement on `conn`; the caller holds flush_lock."""
        results, self.results = self.results, []
        log_tasks, ts, lines = self.buffer.take_all()
        write_state(conn, *self.buffer.take_state())   # usually nothing to write
        params = dict(
            wid=self.id, finished=len(results), next=next_ids, current=current,
            ids=[r["id"] for r in results], statuses=[r["status"] for r in results],
            outputs=[r["output"] for r in results], raws=[r["raw_output"] for r in results],
            kinds=[r["kind"] for r in results], tracebacks=[r["traceback"] for r in results],
            log_tasks=log_tasks, ts=ts, lines=lines,
            notify=",".join(map(str, [r["id"] for r in results] + next_ids)))
        try:
            alive, started, _ = conn.execute(
                transitions.STEP_LOGGED if lines else transitions.STEP, params).fetchone()
        except BaseException:
            # not recorded: the next step records them (the companion survives errors)
            self.results[:0] = results
            raise
        return alive, set(started)

    def claim(self):
        """Claim up to `ahead` tasks into the hand, durably; False if none is queued."""
        rows = self.conn.execute(transitions.CLAIM, dict(
            wid=self.id, domain=self.domain, host=self.host, ops=self.operations,
            n=self.ahead)).fetchall()
        rows.sort(key=lambda r: (-r[0], r[1]))
        with self.hand_lock:
            self.hand.extend(r[1:] for r in rows)
        # claim further ahead only while the queue is deep and tasks are quick
        self.ahead = min(self.ahead * 2, MAX_AHEAD) if len(rows) == self.ahead else 1
        return bool(rows)

    def execute(self, tid, operation, input, raw_input, metadata, attempt):
        op = registry.lookup(operation, self.domain)
        run = TaskRun(tid, operation, input, raw_input, metadata, attempt, self.buffer)
        status, kind, tb = "done", None, None
        self.buffer.task_id = tid
        self.busy_since = started = time.monotonic()
        try:
            op.func(run)
        except Exception:
            status, kind, tb = "failed", "error", storable(traceback.format_exc())
        finally:
            self.busy_since = None
            took = time.monotonic() - started
            self.average = 0.8 * self.average + 0.2 * took
            if took > QUICK:
                self.ahead = 1
        output, raw_output = run.result()
        return dict(id=tid, status=status, output=output, raw_output=raw_output, kind=kind,
                    traceback=tb)

    def give_back(self, conn=None):
        """Return what this worker holds but has not run to the queue: the tasks in its
        hand, and those of its group still waiting (marked started, their code not
        begun). A waiting one that was aborted meanwhile ends 'aborted' here instead."""
        with self.hand_lock:
            hand = [row[0] for row in self.hand]
            group = [row[0] for row in self.group]
            self.hand.clear()
            self.group.clear()
        conn = conn or self.conn
        if hand:
            conn.execute(transitions.GIVE_BACK_HAND,
                         dict(ids=hand, wid=self.id, domain=self.domain))
        if group:
            conn.execute(transitions.GIVE_BACK_STARTED,
                         dict(ids=group, wid=self.id, domain=self.domain))
        return hand + group

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
        # A companion that died would silently stop the heartbeats and the log: so it
        # reports to the worker's real stderr (not a task's captured one) and carries on.
        while True:
            try:
                self.beat_forever()
            except Exception as exc:
                print(f"worker {self.worker.id}: companion: {type(exc).__name__}: {exc}",
                      file=sys.__stderr__, flush=True)
                time.sleep(1.0)

    def beat_forever(self):
        w = self.worker
        conn = db.connect(w.dsn)
        next_beat = next_flush = 0.0
        pointed = None
        while True:
            if os.getppid() != self.parent:   # the monitor is gone (belt and braces)
                os._exit(1)
            now = time.monotonic()
            if now >= next_flush:
                next_flush = now + w.timing.log_flush
                if w.buffer.pending():
                    self.flush(conn)
            busy, tid = w.busy_since, w.buffer.task_id
            if busy is not None and now - busy > SLOW:
                if w.hand or w.group:
                    w.give_back(conn)   # a slow task: let idle workers take what waits
                if w.grouped and tid != pointed:
                    w.point_at(conn, tid)   # started in a group, yet slow
                    pointed = tid
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
            tasks, ts, lines = self.worker.buffer.take_all()
            if lines:
                conn.execute(transitions.INSERT_LOG,
                             dict(log_tasks=tasks, ts=ts, lines=lines))
            write_state(conn, *self.worker.buffer.take_state())


def write_state(conn, progress, facets):
    """Write what running tasks said of themselves (progress, facet) and announce it."""
    for tid, done, total, message in progress:
        conn.execute(
            "with p as (update jobconsole.task set progress_done = %s, progress_total = %s, "
            "progress_message = %s where id = %s returning id) "
            "select pg_notify('jobconsole_task', %s) from p",
            (done, total, message, tid, str(tid)))
    for tid, facet in facets:
        conn.execute(
            "with f as (update jobconsole.task set facet = coalesce(facet, '{}') || %s::jsonb "
            "where id = %s returning id) select pg_notify('jobconsole_task', %s) from f",
            (facet, tid, str(tid)))


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
