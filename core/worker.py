"""A worker: one OS process that claims and runs the tasks of one domain, one at a time.

Started by its monitor as `python -m jobconsole.worker WORKER_ID` with $JOBCONSOLE_DSN set.

The hot path, and why it looks like this. On a real disk a durable commit costs more
than running a small task, so a worker commits durably once per *claim*, and claims a
few tasks ahead when the queue is deep and tasks are quick (`transitions.CLAIM`). A
claimed task is 'running' with `started` null: it waits in the worker's hand. Each task
then costs one statement (`transitions.STEP`): record the previous task's result and
log tail, and mark the next one started, committed without waiting for the disk.

Durability all the same: the WAL is ordered, so a durable commit makes every earlier
commit of the server durable too. A worker keeps what its steps recorded (`unconfirmed`)
until a durable commit covers it: its next claim that takes tasks, or the one it makes
before going idle. If the connection breaks (a server restart or crash, a terminated
backend), the worker reconnects with growing pauses and records those steps again:
each is idempotent (a task is finished only while it is running, in this worker's
name). Then it gives back what it holds unstarted, and every task in its name it does
not hold: a claim, or a step that started tasks, whose answer was lost may have taken
more than it knows, and it never ran those. So a server crash loses no result of a worker
that survives it. Everything stays correct on crashes of workers and monitors.

Groups: tasks that take under TINY seconds on average are claimed GROUP at a time and
started by the same statement, which also records the group before (one statement per
group, `transitions.CLAIM_STEP`, durable when it claims: each task is written twice,
claimed-and-started and finished, instead of three times). A grouped task is announced
(NOTIFY) when it ends, or when it proves slow: not as it starts, which would cost a lone
task a round trip before it runs.
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

A companion thread writes heartbeats and streams the log of a long task, on the
worker's one connection (idle, the main thread waits on its socket without holding it).
The worker dies with its monitor (PR_SET_PDEATHSIG), so a monitor killed with SIGKILL
leaves no orphan worker.

Fencing: a worker whose row another monitor declared dead (its host went silent) must
not go on: its steps are refused (they require the row to be 'running'), and when its
companion reads that verdict, or has been unable to reach the database for half the
time after which a host is declared dead while a task's code runs, it kills its own
process group: the task's code, and what it started, stop before another host may take
the task over.
"""
import collections
import contextlib
import ctypes
import inspect
import json
import os
import select
import signal
import sys
import threading
import time
import traceback

import psutil
import psycopg

from . import (capture, db, hosts, records, registry, shipped, stats, tasks, tmux,
               transitions)
from .errors import DatabaseUnavailable
from .limits import cap_traceback
from .runtime import LogBuffer, TaskRun, storable
from .timing import Timing

_LIVE_WORKER = db.sql_list(records.LIVE_WORKER)
MAX_AHEAD = 16          # tasks claimed at once, at most
COUNT_EVERY = 1.0       # seconds between two writes of the overview's counts
QUICK = 0.02            # seconds: a task this fast lets the worker claim further ahead
GROUP = MAX_AHEAD       # tiny tasks started and recorded together: a whole claim, so
                        # that 16 of them cost one claim and one step
TINY = 0.002            # seconds: tasks this fast (on average) are run in groups
GROUP_SPAN = 0.05       # seconds a group may run before what remains of it goes back: its
                        # tasks' timeouts count from its start, and its results wait

# what a replay of a step (transitions.STEP) needs of its parameters
_REPLAYED = ("wid", "finished", "next", "current", "ids", "statuses", "outputs", "raws",
             "kinds", "tracebacks", "notify", "log_tasks", "ts", "lines", "sources")

# A commit that waits for the disk, and so for every earlier commit of the server (the
# WAL is ordered): an xid makes the transaction write a commit record.
_MAKE_DURABLE = "select set_config('synchronous_commit', 'on', true), txid_current()"


class Worker:
    def __init__(self, worker_id, dsn, timing=None, monitor=None, echo=False):
        self.id = worker_id
        self.dsn = dsn
        self.monitor = monitor     # (pid, start) of a monitor that is not its parent
        self.echo = echo           # tell its terminal what runs (a tmux window)
        self.timing = timing or Timing.from_env()
        self.buffer = LogBuffer()
        self.flush_lock = threading.Lock()   # the log's order: companion vs final flush
        self.hand = collections.deque()      # claimed rows not started yet
        self.results = []                    # finished tasks not recorded yet (flush_lock)
        self.group = collections.deque()     # rows marked started together, not run yet
        self.actions = {}                    # action id -> shipped function, compiled
        self.hand_lock = threading.Lock()
        self.busy_since = None               # monotonic start of the running task
        self.grouped = False                 # the running task was started in a group
        self.average = 1.0                   # moving average of task durations, seconds
        self.stop_reason = None
        self.runs = 0
        self.ahead = 1
        self.process = psutil.Process()
        self.conn = None
        self.conn_lock = threading.Lock()    # held while a broken connection is replaced
        self.unconfirmed = []    # steps recorded, not yet made durable (flush_lock)
        self.tally = stats.Tally()   # what its steps ended, for the overview's counters
        self.current = None      # the task the worker row names as running (flush_lock)
        self.taken = None        # the last task taken from the group to run (hand_lock)
        self.exiting = False

    def run(self):
        self.conn = self.connect_patiently()
        row = self.conn.execute(
            "update jobconsole.worker w set status = 'running', pid = %s, heartbeat = now(), "
            "pid_started = coalesce(w.pid_started, %s) "
            "from jobconsole.monitor m where w.id = %s and m.id = w.monitor_id "
            "and w.status = 'starting' returning w.domain, w.host, m.options",
            (os.getpid(), hosts.started(os.getpid()), self.id)).fetchone()
        if row is None:
            return "not expected to start"
        self.domain, self.host, options = row
        self.max_runs = options.get("max_runs")
        self.max_mem = options.get("max_mem")
        # shipped source runs only where its monitor was told it may (`monitor
        # --allow-shipped-code`): whoever can write to the database could store it
        self.shipped = bool(options.get("allow_shipped_code"))
        self.load_operations()
        Companion(self).start()
        # on an exception the process dies and its monitor records how (dead, exit code)
        reason = self.loop()
        self.exiting = True
        # last words, durably: no later claim will cover them
        conn = self.conn
        try:
            conn.execute("set synchronous_commit = on")
            self.give_back()
            self.flush_results()
            self.tally.flush(conn, self.id, self.domain)
            conn.execute(
                "update jobconsole.worker set status = 'stopped', finished = now(), "
                f"reason = coalesce(reason, %s) where id = %s and status in {_LIVE_WORKER}",
                (self.stop_reason, self.id))
        except psycopg.OperationalError:
            self.reconnect(conn)   # records what it holds again; its monitor ends the row
        return reason

    # -- the connection --------------------------------------------------------------------

    def connect(self):
        """A session for this worker: its steps commit without waiting for the disk (each
        claim makes its own commit durable), announce their own changes, and it hears of
        newly queued tasks and of new operations."""
        # a cut network must fail a statement, not hang it: the lease (check_lease) can
        # only be kept by a worker that notices
        patience = max(1.0, self.timing.stale / 4)
        conn = db.connect(self.dsn, application_name=f"jobconsole worker {os.getpid()}",
                          connect_timeout=max(2, round(patience)),
                          tcp_user_timeout=int(patience * 1000), keepalives=1,
                          keepalives_idle=max(1, round(patience)), keepalives_interval=1,
                          keepalives_count=3)
        for statement in ("set synchronous_commit = off", "set jobconsole.notifies_itself = on",
                          "listen jobconsole_queued", "listen jobconsole_operations"):
            conn.execute(statement)
        return conn

    def connect_patiently(self):
        """A new session, waiting longer between tries while the server is away or full."""
        pause = 0.5
        while True:
            try:
                return self.connect()
            except DatabaseUnavailable as exc:
                say(f"worker {self.id}: {exc}: trying again in {pause:g} s")
            self.check_lease()
            time.sleep(pause)
            pause = min(2 * pause, 5.0)

    def reconnect(self, broken):
        """Replace `broken`, the connection a statement of either thread failed on (the
        first thread to come does it; the other finds it done), then record again what
        the old session may have lost."""
        with self.conn_lock:
            if self.conn is not broken:
                return
            with contextlib.suppress(Exception):
                broken.close()
            say(f"worker {self.id}: lost the database: reconnecting")
            self.conn = self.connect_patiently()
        self.recover()
        say(f"worker {self.id}: reconnected")

    def recover(self):
        """On a new session: the steps not yet covered by a durable commit are recorded
        again (each finishes a task only while it still runs in this worker's name, and
        logs its lines only then), and tasks claimed in this worker's name that it will
        not run go back to the queue."""
        with self.flush_lock:
            sent, self.unconfirmed = self.unconfirmed, []
            try:
                for params in sent:
                    self.conn.execute(
                        transitions.STEP_LOGGED if params["lines"] else transitions.STEP,
                        {**params, "finished": 0, "current": self.current})
            except BaseException:
                self.unconfirmed[:0] = sent     # recorded again by the next session
                raise
            with self.hand_lock:
                self.hand.clear()
                keep = [row[0] for row in self.group] + [r["id"] for r in self.results]
                if self.taken is not None:
                    keep.append(self.taken)
                if self.busy_since is not None and self.buffer.task_id is not None:
                    keep.append(self.buffer.task_id)
            self.conn.execute(transitions.RELEASE_UNHELD,
                              dict(wid=self.id, keep=keep, domain=self.domain))
            self.conn.execute(_MAKE_DURABLE)

    def check_lease(self):
        """Fence this worker if a task's code runs while the database has been out of
        reach for half the stale time: past the whole, another host may take it over.
        Only failed tries count: a companion merely slow to run (a task holding the GIL)
        has its monitor, which sees it silent, to deal with."""
        companion = self.companion
        if companion is not None and companion.failing and self.busy_since is not None and \
                time.monotonic() - companion.last_beat > self.timing.stale / 2:
            self.fence(f"worker {self.id}: no heartbeat recorded for "
                       f"{time.monotonic() - companion.last_beat:.1f} s while running task "
                       f"{self.buffer.task_id}")

    companion = None
    ended = False     # its companion stops too (a worker in a process that goes on)
    child = True      # of its monitor: it ends when its parent does

    def fence(self, why):
        fence(why)

    def load_operations(self):
        paths = [r[0] for r in self.conn.execute(
            "select distinct path from jobconsole.operation where domain = %s and host = %s",
            (self.domain, self.host))]
        names = set()
        for path in paths:
            try:
                registry.load(path)
            except Exception as exc:
                say(f"worker {self.id}: {exc}")
        for (name,) in self.conn.execute(
                "select name from jobconsole.operation where domain = %s and host = %s",
                (self.domain, self.host)):
            if registry.lookup(name, self.domain) is not None:
                names.add(name)
        self.operations = sorted(names)

    def loop(self):
        while True:
            conn = self.conn
            try:
                reason = self.turn()
            except psycopg.OperationalError:
                self.reconnect(conn)
                continue
            if reason is not None:
                return reason

    def turn(self):
        """Claim, or record, start and run the next task or group; a reason to stop, or
        None to go on."""
        self.stop_reason = self.stop_reason or self.limit_reached()
        if self.stop_reason:
            self.give_back()
            group = []
        elif not self.hand and self.average < TINY:
            # tiny tasks: record the last group and claim the next one started, at once
            alive, group = self.claim_group()
            if not alive:
                return "stopped by its monitor"
            if not group:
                self.confirm()
                self.wait()
                return None
            # the statement named no task as current, even for a group of one
            self.start_group(group, {row[0] for row in group}, grouped=True)
            return self.run_group()
        elif not self.hand and not self.claim():
            alive, _ = self.step([])
            if not alive:
                return "stopped by its monitor"
            self.confirm()
            self.wait()
            return None
        else:
            group = self.next_group()
        try:
            alive, started = self.step([row[0] for row in group])
        except BaseException:
            with self.hand_lock:     # not started: still in the hand
                self.hand.extendleft(reversed(group))
            raise
        if not alive:
            return "stopped by its monitor"
        if not group:
            return self.stop_reason
        # asked to start several: the step named none as current, even if only one
        # started (the others aborted in the hand), so the companion must
        self.start_group(group, started, grouped=len(group) > 1)
        return self.run_group()

    def start_group(self, group, started, grouped):
        with self.hand_lock:
            # started (not aborted, nor given back, while it waited in the hand),
            # and not run yet: the companion may give these back (see give_back)
            self.group.extend(row for row in group if row[0] in started)
            self.grouped = grouped

    def run_group(self):
        began = time.monotonic()
        while (row := self.next_of_group(began)) is not None:
            result = self.execute(*row)
            with self.flush_lock:
                self.results.append(result)
            self.runs += 1
        return None

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
                row = self.group.popleft()
                self.taken = row[0]     # kept by a reconnect's recover until it ends
                return row
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
            return self._record(next_ids, next_ids[0] if len(next_ids) == 1 else None)

    def point_at(self, tid):
        """For the companion, when `tid`, started in a group, proves slow: record what
        the group finished before it (the monitor would time those out meanwhile), and
        make `tid` the worker's current task, the one an abort of it kills."""
        with self.flush_lock:
            if self.buffer.task_id == tid and self.busy_since is not None:
                self._record([], tid)

    def flush_results(self):
        """Record what finished without starting anything (the worker stops)."""
        with self.flush_lock:
            if self.results or self.buffer.pending():
                self._record([], None)

    def _record(self, next_ids, current):
        """One step statement; the caller holds flush_lock."""
        rows, params, logged = self._send(transitions.STEP, transitions.STEP_LOGGED,
                                          next_ids, current)
        alive, started, _, operations, statuses, seconds = rows[0]
        self.tally.add(operations, statuses, seconds)
        self.current = current
        if params["ids"] or next_ids or logged.lines:
            self._unconfirmed(params, logged)
        return alive, set(started)

    def _send(self, statement, statement_logged, next_ids, current, **claim):
        """Send what finished, with the log's tail, in `statement` (`statement_logged`
        when there are lines to write): (its rows, its parameters, the lines it wrote).
        The caller holds flush_lock. If it fails, what it carried is put back."""
        results, self.results = self.results, []
        logged = self.buffer.take_all()
        try:
            write_state(self.conn, *self.buffer.take_state())   # usually nothing to write
            params = self._step_params(results, logged, next_ids, current)
            rows = self.conn.execute(statement_logged if logged.lines else statement,
                                     dict(params, **claim) if claim else params).fetchall()
        except BaseException:
            # not recorded: the next statement records them, whichever thread makes it
            self.results[:0] = results
            self.buffer.put_back(logged)
            raise
        return rows, params, logged

    def claim_group(self):
        """Record what finished and claim the next group of tiny tasks, started, in one
        statement (transitions.CLAIM_STEP): (worker alive, the rows to run)."""
        with self.flush_lock:
            self.buffer.task_id = None
            rows, params, logged = self._send(
                transitions.CLAIM_STEP, transitions.CLAIM_STEP_LOGGED, [], None,
                domain=self.domain, host=self.host, ops=self.operations,
                shipped=self.shipped, n=GROUP)
            alive, operations, statuses, seconds = rows[0][:4]
            self.tally.add(operations, statuses, seconds)
            self.current = None
            claimed = [row[4:] for row in rows if row[5] is not None]
            if claimed:     # its commit waited for the disk: every earlier one is durable
                self.unconfirmed.clear()
                if params["notify"]:
                    self.conn.execute(transitions.NOTIFY_TASKS, [params["notify"]])
            elif params["ids"] or logged.lines:
                self._unconfirmed(params, logged)
        claimed.sort(key=lambda r: (-r[0], r[1]))
        return alive, [row[1:] for row in claimed]

    def _step_params(self, results, logged, next_ids, current):
        ids = [r["id"] for r in results]
        # a task started in a group is announced when it ends, or when it proves slow
        told = ids + next_ids if current is None or current in next_ids \
            else ids + next_ids + [current]
        return dict(
            wid=self.id, finished=len(results), next=next_ids, current=current, ids=ids,
            statuses=[r["status"] for r in results], outputs=[r["output"] for r in results],
            raws=[r["raw_output"] for r in results], kinds=[r["kind"] for r in results],
            tracebacks=[r["traceback"] for r in results], **logged._asdict(),
            notify=",".join(map(str, told)))

    def _unconfirmed(self, params, logged):
        """Keep a step's parameters for a new session to record again, should the server
        lose its commit; a replay logs only the lines of the tasks it finishes."""
        params = {key: params[key] for key in _REPLAYED}
        params.update(logged.only(set(params["ids"]))._asdict())
        self.unconfirmed.append(params)

    def confirm(self):
        """Before idling: make the steps recorded so far durable (no claim may come to
        cover them for a long while), and write the counts of what they ended. An idle
        worker is what a monitor's stop kills: it loses no count then, and the counts
        of a queue just drained are whole at once, not a second later."""
        with self.flush_lock:
            if self.unconfirmed:
                self.conn.execute(_MAKE_DURABLE)
                self.unconfirmed.clear()
            self.tally.flush(self.conn, self.id, self.domain)

    def claim(self):
        """Claim up to `ahead` tasks into the hand, durably; False if none is queued."""
        with self.flush_lock:
            rows = self.conn.execute(transitions.CLAIM, dict(
                wid=self.id, domain=self.domain, host=self.host, ops=self.operations,
                shipped=self.shipped,
                n=self.ahead)).fetchall()
            if rows:     # its commit waited for the disk: every earlier one is durable
                self.unconfirmed.clear()
        rows.sort(key=lambda r: (-r[0], r[1]))
        with self.hand_lock:
            self.hand.extend(r[1:] for r in rows)
        # claim further ahead only while the queue is deep and tasks are quick
        self.ahead = min(self.ahead * 2, MAX_AHEAD) if len(rows) == self.ahead else 1
        return bool(rows)

    def execute(self, tid, operation, input, raw_input, metadata, attempt, owner, action_id):
        run = TaskRun(tid, operation, input, raw_input, metadata, attempt, self.buffer,
                      owner=owner)
        status, kind, tb = "done", None, None
        capture.settle()     # what was written before it is not its own
        self.buffer.task_id = tid
        self.busy_since = started = time.monotonic()
        if self.echo:
            say(f"task {tid} ({operation}): running")
        try:
            if action_id is None:
                registry.lookup(operation, self.domain).func(run)
            else:     # its source may fail to load: that is the task's failure
                self.shipped_call(action_id, tid)(run)
        except Exception:
            status, kind, tb = "failed", "error", storable(cap_traceback(traceback.format_exc()))
        finally:
            capture.settle()
            self.busy_since = None
            took = time.monotonic() - started
            self.average = 0.8 * self.average + 0.2 * took
            if took > QUICK:
                self.ahead = 1
        if self.echo:
            say(f"task {tid}: {status} in {took:.3g} s")
        output, raw_output = run.result()
        return dict(id=tid, status=status, output=output, raw_output=raw_output, kind=kind,
                    traceback=tb)

    def shipped_call(self, action_id, tid):
        """The operation that runs a shipped function (an action) on a task's input;
        an action is read and compiled once per worker, not once per task."""
        action = self.actions.get(action_id)
        if action is None:
            with self.flush_lock:
                key, name, code = self.conn.execute(
                    "select key, name, code from jobconsole.action where id = %s",
                    (action_id,)).fetchone()
            action = self.actions[action_id] = shipped.load(key, name, code)
        takes_job = "job" in inspect.signature(action).parameters

        def call(run):
            args = run.input or {}
            kwargs = dict(args.get("kwargs") or {})
            if takes_job:
                with self.flush_lock:
                    run.dependencies = tasks.dependencies(self.conn, tid)[0]
                kwargs["job"] = run
            with run.capturelogs(std=True):
                run.save_output(action(*(args.get("args") or ()), **kwargs))
        return call

    def give_back(self):
        """Return what this worker holds but has not run to the queue: the tasks in its
        hand, and those of its group still waiting (marked started, their code not
        begun). A waiting one that was aborted meanwhile ends 'aborted' here instead."""
        with self.hand_lock:     # taken away first: the main thread must not run them
            hand, group = list(self.hand), list(self.group)
            self.hand.clear()
            self.group.clear()
        conn = self.conn
        try:
            if hand:
                conn.execute(transitions.GIVE_BACK_HAND,
                             dict(ids=[r[0] for r in hand], wid=self.id, domain=self.domain))
            if group:
                conn.execute(transitions.GIVE_BACK_STARTED,
                             dict(ids=[r[0] for r in group], wid=self.id, domain=self.domain))
        except BaseException:
            with self.hand_lock:     # still this worker's, in the database: run them
                self.hand.extendleft(reversed(hand))
                self.group.extendleft(reversed(group))
            raise
        return [r[0] for r in hand + group]

    def wait(self):
        """Sleep until a task may be waiting: a notification, or the safety-net poll.

        It waits on the connection's socket, not in `notifies()`, which would hold the
        connection for the whole wait and keep the companion's heartbeats out: what the
        companion's statements receive meanwhile, psycopg keeps for the next read."""
        conn = self.conn
        deadline = time.monotonic() + self.timing.poll
        while self.stop_reason is None and (left := deadline - time.monotonic()) > 0:
            notes = list(conn.notifies(timeout=0))
            if any(n.channel == "jobconsole_operations" for n in notes):
                self.load_operations()
                return
            if any(n.payload == self.domain for n in notes):
                return
            select.select([conn.fileno()], [], [], min(1.0, left))

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
    """Heartbeats, streaming of a long task's log lines, watching for a shutdown request
    and for its worker's fencing."""

    def __init__(self, worker):
        super().__init__(name="jobconsole-companion", daemon=True)
        self.worker = worker
        self.parent = os.getppid()
        self.last_beat = time.monotonic()    # when a heartbeat was last recorded
        self.failing = False                 # a statement failed since
        worker.companion = self

    def run(self):
        # A companion that died would silently stop the heartbeats and the log: so it
        # reports to the monitor's log (not a task's) and carries on.
        while not self.worker.ended:
            try:
                self.beat_forever()
            except Exception as exc:
                say(f"worker {self.worker.id}: companion: {type(exc).__name__}: {exc}")
                time.sleep(1.0)

    def beat_forever(self):
        w = self.worker
        next_beat = next_flush = next_count = 0.0
        pointed = None
        while not w.ended:
            if w.child and os.getppid() != self.parent:   # the monitor is gone
                os._exit(1)
            w.check_lease()
            conn = w.conn
            try:
                now = time.monotonic()
                if now >= next_flush:
                    next_flush = now + w.timing.log_flush
                    if w.buffer.pending():
                        self.flush()
                if now >= next_count:
                    next_count = now + COUNT_EVERY
                    self.count()
                busy, tid = w.busy_since, w.buffer.task_id
                if busy is not None and now - busy > SLOW:
                    if w.tally.rows:
                        # a slow task may be aborted, which kills this process: what
                        # ended before it is counted first, while the connection is idle
                        self.count()
                    if w.hand or w.group:
                        w.give_back()   # a slow task: let idle workers take what waits
                    if w.grouped and tid != pointed:
                        w.point_at(tid)   # started in a group, yet slow
                        pointed = tid
                if now >= next_beat:
                    next_beat = now + w.timing.heartbeat
                    if w.monitor and not hosts.alive(*w.monitor):
                        # not its parent (a tmux window's worker): no signal says so
                        w.fence(f"worker {w.id}: its monitor (pid {w.monitor[0]}) is gone")
                    self.beat()
            except psycopg.OperationalError:
                self.failing = True
                w.reconnect(conn)
            time.sleep(0.05)

    def beat(self):
        w = self.worker
        row = w.conn.execute(
            "update jobconsole.worker set heartbeat = now(), mem_mb = %s, cpu_percent = %s "
            "where id = %s returning shutdown_requested, status",
            (w.process.memory_info().rss // 2**20, w.process.cpu_percent(None), w.id)
        ).fetchone()
        self.last_beat = time.monotonic()
        self.failing = False
        if row is None or (row[1] != "running" and not w.exiting):
            # declared dead by another monitor (this host was silent): its tasks may
            # already run elsewhere
            w.fence(f"worker {w.id} was declared {row[1] if row else 'gone'}")
            return
        if row[0] and w.stop_reason is None:
            w.stop_reason = "shut down on request"

    def flush(self):
        w = self.worker
        with w.flush_lock:
            logged = w.buffer.take_all()
            try:
                if logged.lines:
                    w.conn.execute(transitions.INSERT_LOG, logged._asdict())
                write_state(w.conn, *w.buffer.take_state())
            except BaseException:
                w.buffer.put_back(logged)
                raise

    def count(self):
        w = self.worker
        with w.flush_lock:
            w.tally.flush(w.conn, w.id, w.domain)


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


say = capture.say


def fence(why):
    """Kill this worker and every process its task started, now: what it runs may
    already run elsewhere."""
    say(f"{why}: killing the task's processes and the worker")
    if os.getpgid(0) == os.getpid():     # the group it leads, started by its monitor
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


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
    monitor = None
    if tmux.ENV_FILE in os.environ:     # its monitor's settings (see tmux.Window)
        env_file = os.environ.pop(tmux.ENV_FILE)
        with open(env_file) as file:
            os.environ.update(json.load(file))
        os.unlink(env_file)
    in_tmux = os.environ.get("JOBCONSOLE_WORKER_KIND") == "tmux"
    if in_tmux:
        # a child of the tmux server: its companion watches the monitor instead
        started = os.environ.get("JOBCONSOLE_MONITOR_STARTED", "None")
        monitor = (int(os.environ["JOBCONSOLE_MONITOR_PID"]),
                   None if started == "None" else float(started))
        if not hosts.alive(*monitor):
            sys.exit(1)
    else:
        _die_with_parent()
        if os.environ.get("JOBCONSOLE_MONITOR_PID") and \
                os.getppid() != int(os.environ["JOBCONSOLE_MONITOR_PID"]):
            sys.exit(1)   # the monitor died before we could ask to die with it
    worker = Worker(worker_id, os.environ[db.ENV_DSN], monitor=monitor, echo=in_tmux)
    # whatever the task's capturelogs: raw output on the operator's terminal can
    # retitle it, write its clipboard, clear it
    capture.start(worker.buffer, f"worker {worker_id}", echo=in_tmux)
    try:
        reason = worker.run()
    except KeyboardInterrupt:
        reason = "interrupted"
    say(f"worker {worker_id} ({os.getpid()}): {reason}")


if __name__ == "__main__":
    main()
