"""A monitor: one process per host and domain that spawns, supervises, scales and kills
workers, and reaps what dead monitors of any host left behind.

Who is dead. A monitor is declared dead by another only when its heartbeat and those of
all its workers are stale: a monitor frozen alone (SIGSTOP) while its workers beat is
not dead, and reaping it would run its tasks twice. A worker frozen alone is its own
monitor's to kill, which it does, and only once the process is gone does it end its
task. After it connects (or reconnects), a monitor waits the stale time before it
judges anyone: after an outage of the database every heartbeat is old, and those of the
living are about to be renewed. A monitor declared dead all the same (its whole host was
frozen or cut off) fences itself when it wakes: it kills its workers, whose tasks may
already run elsewhere, registers anew and goes on. On its own host a monitor checks a
row's process by pid and start time, never by its row alone.

It sleeps on LISTEN (control requests, newly queued tasks) and ticks at least every
half second: reap exited children, carry out aborts, timeouts and kill requests, queue
delayed tasks that are due and fire due cron schedules (any domain's: every monitor
shares that work), scale the pool, beat its heart. Killing a worker happens inside a
transaction that holds the worker's row lock, which the worker's own claim statement
needs: so a worker can never claim a new task while it is being killed for an old one.
"""
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time

import psutil
import psycopg

from . import (counts, db, engines, hosts, processes, records, schedules, stats, tasks,
               transitions, vacuum)
from .engines.tracker import Trackers
from . import tmux as tmux_windows
from .errors import BadInput, Conflict, DatabaseUnavailable, first_line
from .timing import Timing

log = logging.getLogger("jobconsole.monitor")

LIVE_WORKER = db.sql_list(records.LIVE_WORKER)
LIVE_MONITOR = db.sql_list(records.LIVE_MONITOR)
# what describes the monitor's terminal, not a tmux pane's
_OF_A_TERMINAL = {"TMUX", "TMUX_PANE", "TERM", "TERMCAP", "COLUMNS", "LINES"}

# Monitors whose heartbeat is stale (any host), or one this monitor takes over, are
# dead; so are their workers, and the tasks those were running.
_REAP = f"""
with dead as (
    update jobconsole.monitor m set status = 'dead', finished = now()
    where status in {LIVE_MONITOR} and id <> %(me)s
      and (id = %(takeover)s
           or (heartbeat < now() - make_interval(secs => %(stale)s)
               and not exists (select from jobconsole.worker w
                               where w.monitor_id = m.id and w.status in {LIVE_WORKER}
                                 and w.heartbeat >= now() - make_interval(secs => %(stale)s))))
    returning id
)
update jobconsole.worker set status = 'dead', finished = now(),
    reason = 'its monitor stopped beating'
where monitor_id in (select id from dead) and status in {LIVE_WORKER}
returning id, host, pid, pid_started
"""


class Monitor:
    def __init__(self, dsn, *, domain="default", min_workers=1, max_workers=None,
                 max_runs=None, max_mem=None, host=None, timing=None,
                 allow_shipped_code=False, label="", tmux=None, tmux_socket=None):
        max_workers = max_workers if max_workers is not None else min_workers
        if min_workers < 0 or max_workers < 1 or max_workers < min_workers:
            raise BadInput(f"need 0 <= min workers <= max workers and max workers >= 1 "
                           f"(got {min_workers} and {max_workers})")
        if domain in engines.ENGINES:
            raise BadInput(f"domain {domain!r} is where {domain.capitalize()} jobs wait for "
                           "the monitors to submit them: no worker may take them; give "
                           "another domain")
        if tmux is not None:
            tmux_windows.check_installed()
        self.dsn = dsn
        self.domain = domain
        self.label = label
        self.host = host or hosts.this_host()
        self.min_workers, self.max_workers = min_workers, max_workers
        self.options = dict(min_workers=min_workers, max_workers=max_workers,
                            max_runs=max_runs, max_mem=max_mem,
                            allow_shipped_code=allow_shipped_code)
        if tmux is not None:
            self.options.update(tmux=tmux, tmux_socket=tmux_socket)
        self.timing = timing or Timing.from_env()
        if self.timing.schedule_grace < 1:
            raise BadInput("JOBCONSOLE_SCHEDULE_GRACE must be at least 1 second, got "
                           f"{self.timing.schedule_grace:g}")
        self.procs = {}            # worker id -> Popen
        self.idle_since = {}       # worker id -> monotonic time it was first seen idle
        self.retiring = set()      # workers asked to shut down for want of work
        self.stopping = None       # None, 'graceful' or 'now'
        self.waiting_for = []      # the tasks a graceful stop waits for, as last said
        self.next_beat = 0.0
        self.spawn_backoff = 0.0
        self.next_spawn = 0.0
        self.id = None
        self.connected_at = 0.0    # monotonic time the current connection was made
        self.trackers = None       # of the jobs of other engines (engines/)
        self.next_prune = 0.0      # when to prune the overview's old counters
        self.next_sample = 0.0     # when to sample the load for the overview's history
        self.recounter = counts.Recounter(dsn)   # corrects the status counts now and then
        self.vacuumer = vacuum.Vacuumer(dsn)     # cleans the task table when autovacuum lags
        self.engine_nudged = False

    # -- life cycle ---------------------------------------------------------------------

    def run(self):
        """Run in the foreground until stopped (signal or request); returns the exit code."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.conn = self.connect_patiently()
            self.register()
            self.warn_of_connections()
            self.trackers = Trackers(self.dsn)
            log.info("monitor %s started for domain %r on %s (pid %s)",
                     self.id, self.domain, self.host, os.getpid())
            while not (self.stopping and not self.procs):
                try:
                    self.tick()
                    self.sleep(0.5)
                except psycopg.OperationalError as exc:
                    self.reconnect(exc)
            self.finish()
        except NeverStarted:
            log.info("%s: stopped before it could reach the database", self.name)
            return 0
        except GiveUp as exc:
            log.error("%s: %s", self.name, exc)
            for proc in self.procs.values():
                terminate(proc, 0.0)
            return 1
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            if self.trackers is not None:
                self.trackers.stop()
            if getattr(self, "conn", None) is not None:
                self.conn.close()
        log.info("monitor %s stopped", self.id)
        return 0

    def finish(self):
        """Stop the workers and record the monitor stopped, retrying until it is
        recorded: rows left 'running' would stand for processes long gone."""
        while True:
            try:
                self.stop_workers("its monitor was shut down")
                processes.monitor_stopped(self.conn, self.id)
                return
            except psycopg.OperationalError as exc:
                self.reconnect(exc)

    def connect(self):
        conn = db.connect(self.dsn, application_name=f"jobconsole monitor {os.getpid()}")
        conn.execute("listen jobconsole_control")
        conn.execute("listen jobconsole_queued")
        self.connected_at = time.monotonic()
        return conn

    def connect_patiently(self):
        """A connection, waiting longer between tries while the server is away or full.
        A second Ctrl-C or SIGTERM while it waits gives up (see GiveUp)."""
        pause = 0.5
        while True:
            try:
                return self.connect()
            except DatabaseUnavailable as exc:
                if self.stopping and self.id is None:
                    raise NeverStarted() from None
                if self.stopping == "given up":
                    raise GiveUp(f"gave up waiting for the database ({exc}); "
                                 + self.unrecorded()) from None
                log.warning("%s: %s: trying again in %g s", self.name, exc, pause)
            time.sleep(pause)
            pause = min(2 * pause, 5.0)

    @property
    def name(self):
        return f"monitor {self.id}" if self.id else f"monitor (pid {os.getpid()})"

    def reconnect(self, exc):
        """The connection broke (a server restart, a failover, a terminated backend): the
        workers run on, reconnecting themselves; get a new one, waiting longer between
        tries."""
        log.warning("monitor %s lost the database (%s): reconnecting", self.id,
                    first_line(exc))
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = self.connect_patiently()
        log.info("monitor %s reconnected", self.id)

    def unrecorded(self):
        what = f"monitor {self.id}" if self.id else "nothing registered"
        if self.procs:
            what += f" and workers {', '.join(map(str, self.procs))}"
        return (f"{what} stay 'running' in the database until a monitor starts on "
                f"{self.host}, which finds their processes gone and reaps them")

    def register(self):
        """Insert this monitor's row. First, reap what this host left: any monitor row of
        it (any domain) whose process is gone, with its workers and what their tasks
        started; a live monitor of this domain refuses the start."""
        for mid, domain, pid, pid_started, label in self.conn.execute(
                "select id, domain, pid, pid_started, label from jobconsole.monitor "
                f"where host = %s and status in {LIVE_MONITOR}", (self.host,)).fetchall():
            if hosts.alive(pid, pid_started):
                if (domain, label) == (self.domain, self.label):
                    labelled = f" labelled {label!r}" if label else ""
                    raise Conflict(f"a monitor for domain {self.domain!r}{labelled} already "
                                   f"runs on {self.host} (monitor {mid}, pid {pid})")
                continue
            log.warning("monitor %s (pid %s) of %s is gone: reaping what it left",
                        mid, pid, self.host)
            self.reap(takeover=mid)
        self.id = processes.add_monitor(self.conn, self.host, self.domain, self.options,
                                        self.label)

    def warn_of_connections(self):
        """Say so when the server cannot hold the connections about to be opened: each
        worker holds one."""
        free, limit = self.conn.execute(
            "select current_setting('max_connections')::int "
            "- current_setting('superuser_reserved_connections')::int "
            "- (select count(*) from pg_stat_activity where backend_type = 'client backend'), "
            "current_setting('max_connections')::int").fetchone()
        if free < self.max_workers:
            log.warning("monitor %s: the server has %s free connections of %s, and this "
                        "monitor may start %s workers, one connection each: raise "
                        "max_connections, or start fewer workers", self.id, free, limit,
                        self.max_workers)

    def _on_signal(self, signum, frame):
        if self.stopping == "now":
            self.timing = Timing(**{**self.timing.__dict__, "kill_grace": 0.0})
            self.stopping = "given up"
        elif self.stopping != "given up":
            self.stopping = "now"

    def sleep(self, seconds):
        """Until a control request, or the next tick. Newly queued tasks bring the tick
        forward only when the monitor has something to do for them at once: a worker to
        add (it runs fewer than its maximum) or an engine's jobs to pass on; else its
        queries would only compete with the workers for the CPU as they claim. A burst
        (one notification each) wakes the loop at most ten times a second."""
        deadline = time.monotonic() + seconds
        earliest = time.monotonic() + 0.1
        while (left := deadline - time.monotonic()) > 0:
            notes = list(self.conn.notifies(timeout=left, stop_after=1))
            if any(n.channel == "jobconsole_control" for n in notes):
                return
            if any(n.payload in engines.ENGINES for n in notes):
                self.engine_nudged = True
            if notes and (self.engine_nudged or len(self.procs) < self.max_workers):
                deadline = min(deadline, earliest)

    # -- one turn of the loop -----------------------------------------------------------

    def tick(self):
        if time.monotonic() >= self.next_beat:
            self.next_beat = time.monotonic() + self.timing.heartbeat
            self.beat()
            if self.settled():
                self.reap()
        self.reap_children()
        tasks.promote_due(self.conn)
        schedules.fire_due(self.conn, self.timing.schedule_grace)
        if not self.stopping:
            self.trackers.look(self.conn, nudged=self.engine_nudged)
            self.engine_nudged = False
        state = self.worker_states()
        for wid, kill_requested, tid, status, overdue, silent in state:
            if wid not in self.procs:
                continue
            if overdue:
                self.conn.execute(transitions.TIME_OUT, (tid,))
                status = "aborting"
            if kill_requested:
                self.kill(wid, "killed on request", task_reason="its worker was killed on request")
            elif status == "aborting":
                self.kill(wid, f"killed to abort task {tid}", aborting=tid)
            elif silent and self.settled() and wid in self.procs:
                # frozen (SIGSTOP, a C extension holding the GIL): its task ends only
                # once the process is gone, which kill waits for
                self.kill(wid, f"killed: no heartbeat for {self.timing.stale:g} s",
                          task_reason="its worker stopped beating (frozen) and was killed")
        if self.stopping:
            self.stop_workers("its monitor was shut down", graceful=self.stopping == "graceful")
            if self.stopping == "graceful":
                self.say_what_it_waits_for(state)
        else:
            self.scale(state)

    def say_what_it_waits_for(self, state):
        """A graceful stop waits for running tasks to end, which may take hours: say which,
        when that changes, and how not to wait."""
        running = sorted({tid for wid, _, tid, *_ in state if wid in self.procs and tid})
        if running and running != self.waiting_for:
            log.info("monitor %s: stopping once task%s %s end%s (Ctrl-C or shutdown-monitor "
                     "--now to kill them)", self.id, "s" if len(running) > 1 else "",
                     ", ".join(map(str, running)), "" if len(running) > 1 else "s")
        self.waiting_for = running

    def settled(self):
        """Connected long enough to judge others by their heartbeats (see the module)."""
        return time.monotonic() - self.connected_at >= self.timing.stale

    def beat(self):
        memory = psutil.virtual_memory()
        row = self.conn.execute(
            "update jobconsole.monitor set heartbeat = now(), cpu_percent = %s, "
            "mem_percent = %s, mem_total_mb = %s where id = %s returning status, stop_requested",
            (psutil.cpu_percent(None), memory.percent, memory.total // 2**20, self.id)).fetchone()
        if time.monotonic() >= self.next_prune:
            self.next_prune = time.monotonic() + 600
            stats.prune(self.conn)
        if time.monotonic() >= self.next_sample:
            # twice a minute: every minute has a sample while any monitor runs
            self.next_sample = time.monotonic() + 30
            stats.sample(self.conn)
        self.recounter.poke()
        self.vacuumer.poke()
        if row is None or row[0] == "dead":
            self.fence()
        elif row[1] and not self.stopping:
            self.stopping = row[1]
            log.info("monitor %s: %s stop requested", self.id, row[1])

    def fence(self):
        """Declared dead by another monitor: this whole host was silent (frozen, cut off)
        long enough for its tasks to be failed or retried elsewhere. Kill the workers at
        once, with what their tasks started, then serve on under a new row."""
        log.error("monitor %s was declared dead by another monitor (this host was silent): "
                  "killing its workers, whose tasks may run elsewhere now", self.id)
        for proc in self.procs.values():
            terminate(proc, 0.0)
        self.procs.clear()
        self.idle_since.clear()
        self.retiring.clear()
        old = self.id
        try:
            self.register()
        except Conflict as exc:     # another monitor took this host and domain over
            log.error("monitor %s: %s: stopping", old, exc)
            self.stopping = "now"
            return
        log.info("monitor %s registered anew as monitor %s", old, self.id)

    def worker_states(self):
        """[(worker id, kill requested, task id, task status, overdue, silent)] of live
        workers: a row per started, unfinished task (a worker may have started a group
        of tiny tasks at once), or one row with no task for an idle worker. Silent: its
        heartbeat is stale."""
        return self.conn.execute(
            "select w.id, w.kill_requested, t.id, t.status, "
            # in seconds, not as an interval: no stored timeout can overflow it
            "coalesce(t.status = 'running' "
            "and extract(epoch from now() - t.started) > t.timeout, false), "
            "w.status = 'running' and w.heartbeat < now() - make_interval(secs => %s) "
            "from jobconsole.worker w left join jobconsole.task t "
            "on t.worker_id = w.id and t.status in ('running', 'aborting') "
            "and t.started is not null "
            f"where w.monitor_id = %s and w.status in {LIVE_WORKER}",
            (self.timing.stale, self.id)).fetchall()

    # -- workers ------------------------------------------------------------------------

    def spawn(self):
        tmux = self.options.get("tmux")
        wid = processes.add_worker(self.conn, self.id, self.host, self.domain,
                                   "tmux" if tmux else "subprocess")
        ours = dict(JOBCONSOLE_DSN=self.dsn, JOBCONSOLE_HOST=self.host,
                    JOBCONSOLE_MONITOR_PID=str(os.getpid()))
        command = [sys.executable, "-m", "jobconsole.worker", str(wid)]
        if tmux:
            ours.update(JOBCONSOLE_WORKER_KIND="tmux",
                        JOBCONSOLE_MONITOR_STARTED=repr(hosts.started(os.getpid())))
            env = {k: v for k, v in os.environ.items() if k not in _OF_A_TERMINAL}
            try:
                proc = tmux_windows.Window(tmux, self.options.get("tmux_socket"),
                                           f"worker-{wid}", command, dict(env, **ours))
            except (OSError, subprocess.SubprocessError) as exc:
                self.conn.execute(
                    "update jobconsole.worker set status = 'dead', finished = now(), "
                    "reason = %s where id = %s", (str(exc), wid))
                self.back_off()
                log.warning("monitor %s: %s", self.id, exc)
                return
        else:
            # A session of its own: a Ctrl-C in the monitor's terminal is the monitor's
            # to handle (it kills its workers), not something each worker should die of.
            proc = subprocess.Popen(command, env=dict(os.environ, **ours),
                                    start_new_session=True, stdin=subprocess.DEVNULL)
        proc.pid_started = hosts.started(proc.pid)
        self.conn.execute("update jobconsole.worker set pid = %s, pid_started = %s where id = %s",
                          (proc.pid, proc.pid_started, wid))
        proc.started = time.monotonic()
        self.procs[wid] = proc
        log.info("monitor %s: started worker %s (pid %s%s)", self.id, wid, proc.pid,
                 f", {proc.where}" if tmux else "")

    def back_off(self):
        """Wait longer before the next spawn: workers fail to start (1 s doubling to 30 s)."""
        self.spawn_backoff = min(30.0, max(1.0, self.spawn_backoff * 2))
        self.next_spawn = time.monotonic() + self.spawn_backoff

    def reap_children(self):
        for wid, proc in list(self.procs.items()):
            code = proc.poll()
            if code is None:
                continue
            # what its tasks started dies with it (a worker that died of itself, an OOM
            # kill, say, left them running)
            hosts.kill_group(proc.pid, proc.pid_started)
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            if getattr(proc, "closed", False):
                how = "its tmux window was closed"
            if code != 0 and time.monotonic() - proc.started < 5:
                # dying at start-up (a broken import, a bad environment): back off
                self.back_off()
            elif code == 0:
                self.spawn_backoff = 0.0
            # recorded before it is forgotten: should the connection break meanwhile, the
            # next tick comes back to it
            self.end_worker(wid, "stopped" if code == 0 else "dead", f"process ended ({how})",
                            f"its worker process died ({how})")
            del self.procs[wid]
            self.idle_since.pop(wid, None)
            self.retiring.discard(wid)
            log.log(logging.INFO if code == 0 else logging.WARNING,
                    "monitor %s: worker %s (pid %s) ended: %s", self.id, wid, proc.pid, how)

    def end_worker(self, wid, status, reason, task_reason):
        with self.conn.transaction():
            # its row first: a claim or step of the dead worker still in flight holds
            # that lock and commits even with its client gone; the statements below
            # then see what it claimed (a lock taken later would leave those orphaned)
            self.conn.execute("select from jobconsole.worker where id = %s for update", (wid,))
            ended = transitions.end_tasks_of_workers(self.conn, [wid], task_reason)
            self.conn.execute(
                "update jobconsole.worker set status = %s, finished = now(), "
                f"reason = coalesce(reason, %s) where id = %s and status in {LIVE_WORKER}",
                (status, reason, wid))
        for tid, tstatus in ended:
            log.warning("monitor %s: task %s %s (%s)", self.id, tid, tstatus, task_reason)

    def kill(self, wid, reason, task_reason=None, aborting=None):
        """Kill a worker's process (TERM, then KILL) and end its task, under its row lock.

        With `aborting`, only if that task is still the one its code runs: the worker's
        current task. If the worker has stopped beating (its companion thread starved,
        say by a C extension holding the GIL), its word cannot be had: kill anyway.
        """
        proc = self.procs.get(wid)
        with self.conn.transaction():
            locked = self.conn.execute(
                "select task_id, heartbeat < now() - make_interval(secs => %s) "
                f"from jobconsole.worker where id = %s and status in {LIVE_WORKER} for update",
                (3 * self.timing.heartbeat, wid)).fetchone()
            if not locked:
                # declared dead by another monitor (we were frozen): the database
                # already ended its task; the process is still ours to stop
                if proc is not None and aborting is None:
                    terminate(proc, self.timing.kill_grace)
                    self.procs.pop(wid, None)
                return
            current, silent = locked
            if aborting is not None:
                still = self.conn.execute(
                    "select 1 from jobconsole.task where id = %s and worker_id = %s "
                    "and status = 'aborting' and started is not null",
                    (aborting, wid)).fetchone()
                if not still or not (current == aborting or silent):
                    # finished meanwhile, or not the task its code runs (one of a group
                    # still waiting: the worker gives those back): nothing to kill
                    return
            if proc is not None:
                terminate(proc, self.timing.kill_grace)
            transitions.end_tasks_of_workers(self.conn, [wid], task_reason or reason)
            self.conn.execute(
                "update jobconsole.worker set status = 'stopped', finished = now(), reason = %s "
                "where id = %s", (reason, wid))
        self.procs.pop(wid, None)
        self.idle_since.pop(wid, None)
        self.retiring.discard(wid)
        log.info("monitor %s: worker %s %s", self.id, wid, reason)

    def scale(self, state):
        """Keep between min and max workers, as many as busy ones plus queued tasks."""
        live = list({row[0]: row for row in state if row[0] in self.procs}.values())
        busy = len({row[0] for row in state if row[0] in self.procs and row[2] is not None})
        queued = self.conn.execute(
            "select count(*) from (select 1 from jobconsole.task where status = 'queued' "
            "and domain = %s and (host is null or host = %s) and (operation in "
            "(select name from jobconsole.operation where domain = %s and host = %s) "
            "or (%s and action_id is not null)) limit %s) q",
            (self.domain, self.host, self.domain, self.host,
             bool(self.options["allow_shipped_code"]), self.max_workers)).fetchone()[0]
        target = max(self.min_workers, min(self.max_workers, busy + queued))
        starting = len(self.procs) - len(live)   # spawned, not yet in the state query
        # a worker asked to retire may take a heartbeat to notice: it counts as gone,
        # or each tick would ask one more and the pool sink below its minimum
        staying = len(self.procs) - len(self.retiring)
        missing = target - staying
        if missing > 0 and time.monotonic() >= self.next_spawn:
            for _ in range(missing):
                self.spawn()
        now = time.monotonic()
        idle = [row[0] for row in live if row[2] is None and row[0] not in self.retiring]
        for wid in list(self.idle_since):
            if wid not in idle:
                del self.idle_since[wid]
        for wid in idle:
            self.idle_since.setdefault(wid, now)
        excess = staying - starting - target
        # shrink slowly: a worker idle for a while, one at a time
        for wid in sorted(idle, key=self.idle_since.get)[:max(0, excess)][:1]:
            if now - self.idle_since[wid] > 10 * self.timing.heartbeat:
                self.conn.execute("update jobconsole.worker set shutdown_requested = true "
                                  "where id = %s", (wid,))
                self.idle_since.pop(wid)
                self.retiring.add(wid)

    def stop_workers(self, reason, graceful=False):
        if graceful:
            self.conn.execute(
                "update jobconsole.worker set shutdown_requested = true "
                f"where monitor_id = %s and status in {LIVE_WORKER}", (self.id,))
            return
        for wid in list(self.procs):
            self.kill(wid, "stopped with its monitor", task_reason=reason)

    # -- what other monitors left behind --------------------------------------------------

    def reap(self, takeover=None):
        with self.conn.transaction():
            workers = self.conn.execute(
                _REAP, dict(me=self.id or 0, stale=self.timing.stale, takeover=takeover)
            ).fetchall()
            if workers:
                ended = transitions.end_tasks_of_workers(
                    self.conn, [w[0] for w in workers], "its worker's monitor stopped beating")
                log.warning("monitor %s: reaped dead workers %s, tasks %s",
                            self.id, [w[0] for w in workers], [t for t, _ in ended])
        for wid, host, pid, pid_started in workers:
            if host == self.host:   # processes of another host are out of reach
                hosts.kill_group(pid, pid_started)


class NeverStarted(Exception):
    """Stopped while it waited for the database the first time: nothing to record."""


class GiveUp(Exception):
    """Stop trying: the operator asked twice while the database could not be reached."""


def terminate(proc, grace):
    """SIGTERM, then SIGKILL after `grace` seconds, to a worker and every process its
    tasks started (its process group: it leads one); waits for the worker to be gone."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    # what its tasks started and left behind, or what ignored SIGTERM, dies now
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass            # the group is empty: all gone already
