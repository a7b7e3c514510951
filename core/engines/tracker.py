"""The tracker of one engine's tasks, a thread of every monitor on a host that can drive
the engine (see the package's docstring).

One tracker at a time does the work: the one whose connection holds the engine's
advisory lock. A monitor that dies (SIGKILL included) closes its connection, which
frees the lock, and the next monitor to look for work (every LOOK_EVERY seconds)
starts a tracker that takes it over. It finds
everything it needs in the database: which tasks are submitted, under which engine id,
and how much of their output is in their logs already. A submission is marked begun
before the engine is asked; one found begun but unrecorded is looked up by name in the
engine rather than submitted again, so a tracker dying at any point loses and repeats
nothing.

While the engine's controller is away (restarted, down), the tracker says so once and
keeps polling: the jobs run on without it, and their states are read when it answers.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import psycopg

from .. import db, transitions
from ..errors import BadInput, DatabaseUnavailable, EngineUnavailable, first_line
from ..records import FINISHED
from ..tasks import to_json_text
from . import State

log = logging.getLogger("jobconsole.engines")

ENV_POLL = "JOBCONSOLE_ENGINE_POLL"
DEFAULT_POLL = 0.25     # seconds between two polls of the engine while jobs are live
FORGOTTEN = 120.0       # seconds a job may be unknown to the engine before it is lost
AWAY_PAUSE = 5.0        # seconds before an engine that did not answer is asked again
IDLE = 30.0             # seconds without work after which a tracker stops
LOOK_EVERY = 5.0        # seconds between a monitor's looks for work without a tracker


class Tracker(threading.Thread):
    def __init__(self, dsn: str, engine: Any, poll: float | None = None) -> None:
        super().__init__(name=f"jobconsole {engine.NAME} tracker", daemon=True)
        self.dsn = dsn
        self.engine = engine
        self.poll = poll if poll is not None else float(os.environ.get(ENV_POLL) or DEFAULT_POLL)
        self.done = threading.Event()
        self.conn: Any = None
        self.away: dict[str, float] = {}     # engine or scheduler -> when to try again
        self.cancelled: set[str] = set()     # engine ids scancel was sent for
        self.unknown_since: dict[str, float] = {}

    def stop(self) -> None:
        self.done.set()

    def run(self) -> None:
        """Track while there is work and this thread holds the engine's lock; return
        when another tracker holds it, or after IDLE seconds without work (the monitor
        starts a tracker again when work comes)."""
        try:
            self.conn = db.connect(self.dsn, application_name=(
                f"jobconsole {self.engine.NAME} tracker {os.getpid()}"))
            if not self.take_over():
                return
            self.conn.execute("listen jobconsole_queued")
            idle_since = time.monotonic()
            while not self.done.is_set():
                if self.turn():
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > IDLE:
                    return
                self.wait(self.poll)
        except (psycopg.OperationalError, DatabaseUnavailable) as exc:
            # the lock went with the connection: a monitor starts a tracker again
            log.warning("%s tracker lost the database (%s)", self.engine.NAME, first_line(exc))
        except Exception:
            log.exception("%s tracker failed", self.engine.NAME)
        finally:
            if self.conn is not None:
                with contextlib.suppress(Exception):
                    self.conn.close()
            if hasattr(self.engine, "close"):
                self.engine.close()

    def take_over(self) -> bool:
        holding = self.conn.execute(
            "select pg_try_advisory_lock(hashtext(%s))",
            (f"jobconsole engine {self.engine.NAME}",)).fetchone()[0]
        if holding:
            log.info("tracking the %s jobs (pid %s)", self.engine.NAME, os.getpid())
        return holding

    def wait(self, seconds: float) -> None:
        """Until the next poll; at once when a task of this engine is queued, or when an
        engine that says when its jobs end (Dask) says so."""
        nudged = getattr(self.engine, "nudged", None)
        step = seconds if nudged is None else 0.02
        deadline = time.monotonic() + seconds
        while not self.done.is_set() and (left := deadline - time.monotonic()) > 0:
            notes = list(self.conn.notifies(timeout=min(left, step), stop_after=1))
            if any(n.payload == self.engine.NAME for n in notes):
                return
            if nudged is not None and nudged.is_set():
                nudged.clear()
                return

    # -- one poll -----------------------------------------------------------------------

    def turn(self) -> bool:
        """Submit what is queued, follow what is submitted; whether there was any."""
        try:
            busy = self.submit_queued()
            busy = self.follow() or busy
        except EngineUnavailable as exc:
            self.going_away(self.engine.NAME, exc)
            return True
        self.back(self.engine.NAME)
        return busy

    def going_away(self, place: str, exc: Exception) -> None:
        """Say once that the engine (or one of its schedulers) is away, and try it again
        AWAY_PAUSE seconds later."""
        if place not in self.away:
            log.warning("%s is away (%s): its jobs run on; trying again every %g s",
                        place, exc, AWAY_PAUSE)
        self.away[place] = time.monotonic() + AWAY_PAUSE

    def back(self, place: str) -> None:
        if self.away.pop(place, None) is not None:
            log.info("%s answers again", place)

    def submit_queued(self) -> bool:
        rows = self.conn.execute(
            "select t.id, t.input, e.submitting is not null and e.external_id is null "
            "and not e.ended from jobconsole.task t "
            "left join jobconsole.engine_job e on e.task_id = t.id "
            "where t.domain = %s and t.status = 'queued' "
            "  and (e.task_id is null or e.ended or e.external_id is null) "
            "order by t.priority desc, t.id limit 100", (self.engine.NAME,)).fetchall()
        for tid, spec, begun in rows:
            try:
                place = self.engine.where(spec)
            except BadInput as exc:
                self.refused(tid, str(exc))
                continue
            if self.away.get(place, 0) > time.monotonic():
                continue
            try:
                self.submit(tid, spec, begun)
            except EngineUnavailable as exc:
                self.going_away(place, exc)
            else:
                self.back(place)
        return bool(rows)

    def submit(self, tid: int, spec: dict[str, Any], begun: bool) -> None:
        if begun:
            # a tracker died between asking the engine and recording its answer
            found = self.engine.find(tid, spec)
            if found is not None:
                self.submitted(tid, found)
                return
        self.conn.execute(
            "insert into jobconsole.engine_job (task_id, engine, submitting) "
            "values (%s, %s, now()) on conflict (task_id) do update set "
            "submitting = now(), external_id = null, state = null, exit_code = null, "
            "out_pos = 0, err_pos = 0, ended = false", (tid, self.engine.NAME))
        try:
            jid = self.engine.submit(tid, spec)
        except BadInput as exc:
            self.refused(tid, str(exc))
            return
        self.submitted(tid, jid)

    def submitted(self, tid: int, jid: str) -> None:
        self.conn.execute("update jobconsole.engine_job set external_id = %s, "
                          "state = 'PENDING' where task_id = %s", (jid, tid))
        log.info("task %s is %s job %s", tid, self.engine.NAME, jid)

    def refused(self, tid: int, reason: str) -> None:
        with self.conn.transaction():
            self.conn.execute(transitions.INSERT_LOG, dict(
                log_tasks=[tid], ts=[time.time()], lines=[reason], sources=["stderr:ERROR"]))
            self.conn.execute("update jobconsole.engine_job set ended = true "
                              "where task_id = %s", (tid,))
            self.conn.execute(transitions.ENGINE_ENDED, dict(
                id=tid, status="failed", kind="error", traceback=reason, output=None))
        log.warning("task %s: %s", tid, reason)

    def follow(self) -> bool:
        rows = self.conn.execute(
            "select e.task_id, e.external_id, e.state, e.out_pos, e.err_pos, t.status, "
            "t.input from jobconsole.engine_job e join jobconsole.task t on t.id = e.task_id "
            "where e.engine = %s and not e.ended and e.external_id is not null",
            (self.engine.NAME,)).fetchall()
        if not rows:
            return False
        said = self.engine.states({r[1]: r[6] for r in rows})
        cancel = {}
        for tid, jid, last, out_pos, err_pos, status, spec in rows:
            state = said.get(jid)
            if state is None:
                self.unknown(tid, jid)
                continue
            self.unknown_since.pop(jid, None)
            if state.phase == "away":     # its scheduler does not answer: it runs on
                continue
            if status in ("aborting", *FINISHED) and state.phase != "ended" \
                    and jid not in self.cancelled:
                cancel[jid] = spec
            with self.conn.transaction():
                if state.phase != "queued":
                    self.stream(tid, spec, out_pos, err_pos, ended=state.phase == "ended")
                if state.word != last:
                    self.conn.execute("update jobconsole.engine_job set state = %s "
                                      "where task_id = %s", (state.word, tid))
                if state.phase == "running" and status == "queued":
                    self.conn.execute(transitions.ENGINE_STARTED, (tid,))
                elif state.phase == "ended":
                    self.ended(tid, jid, state)
        if cancel:
            self.engine.cancel(cancel)
            self.cancelled.update(cancel)
        return True

    def ended(self, tid: int, jid: str, state: State) -> None:
        self.conn.execute("update jobconsole.engine_job set ended = true, exit_code = %s "
                          "where task_id = %s", (state.exit_code, tid))
        self.conn.execute(transitions.ENGINE_ENDED, dict(
            id=tid, status=state.status, kind=state.kind, traceback=state.message,
            output=to_json_text(state.output, "output", limited=False)))
        self.cancelled.discard(jid)

    def unknown(self, tid: int, jid: str) -> None:
        """A job the engine does not know: lost, once that has lasted FORGOTTEN seconds
        (a controller that restarts knows its jobs again as soon as it answers)."""
        first = self.unknown_since.setdefault(jid, time.monotonic())
        if time.monotonic() - first < FORGOTTEN:
            return
        with self.conn.transaction():
            self.conn.execute("update jobconsole.engine_job set ended = true "
                              "where task_id = %s", (tid,))
            self.conn.execute(transitions.ENGINE_ENDED, dict(
                id=tid, status="failed", kind="crash", output=None,
                traceback=f"{self.engine.NAME} no longer knows job {jid}"))
        del self.unknown_since[jid]

    def stream(self, tid: int, spec: dict[str, Any], out_pos: int, err_pos: int,
               ended: bool) -> None:
        """Copy what the job wrote since the last poll into its log."""
        lines, sources, moved = self.engine.new_output(tid, spec, (out_pos, err_pos), ended)
        if lines:
            self.conn.execute(transitions.INSERT_LOG, dict(
                log_tasks=[tid] * len(lines), ts=[time.time()] * len(lines), lines=lines,
                sources=sources))
        if tuple(moved) != (out_pos, err_pos):
            self.conn.execute("update jobconsole.engine_job set out_pos = %s, err_pos = %s "
                              "where task_id = %s", (*moved, tid))


class Trackers:
    """A monitor's trackers: for each engine this host can drive, a tracker thread is
    started whenever there is work for the engine and none runs in this process. Only
    the one that takes the engine's lock stays; the others end at once."""

    def __init__(self, dsn: str) -> None:
        from . import ENGINES, dask, slurm
        modules = {"slurm": slurm, "dask": dask}
        self.dsn = dsn
        self.engines = {}
        for name in ENGINES:
            why = modules[name].missing()
            if why:
                log.debug("no %s tracker here: %s", name, why)
            else:
                self.engines[name] = modules[name]
        self.threads: dict[str, Tracker] = {}
        self.next_look = 0.0

    def look(self, conn: Any, nudged: bool = False) -> None:
        """Start the trackers there is work for (every LOOK_EVERY seconds, or at once
        when `nudged` by a task queued for an engine)."""
        if not self.engines or not nudged and time.monotonic() < self.next_look:
            return
        self.next_look = time.monotonic() + LOOK_EVERY
        idle = [n for n in self.engines if n not in self.threads or
                not self.threads[n].is_alive()]
        if not idle:
            return
        wanted = conn.execute(
            "select e from unnest(%s::text[]) e where exists (select from "
            "jobconsole.engine_job j where j.engine = e and not j.ended) or exists ("
            "select from jobconsole.task t where t.domain = e and t.status = 'queued')",
            (idle,)).fetchall()
        for (name,) in wanted:
            module = self.engines[name]
            # an engine with state of its own (Dask's clients) is made for each tracker
            self.threads[name] = Tracker(self.dsn, module.engine() if hasattr(module, "engine")
                                         else module)
            self.threads[name].start()

    def stop(self) -> None:
        for thread in self.threads.values():
            thread.stop()
        for thread in self.threads.values():
            thread.join(timeout=5)
