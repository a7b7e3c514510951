"""The verdict on what the tasks' code did, read from the journal it wrote outside the
database (journal_ops.py): the database may be down, or wrong, exactly when these tests look.
"""
import collections
import dataclasses
import os

import psycopg

from jobconsole.records import FINISHED


@dataclasses.dataclass
class Run:
    attempt: int
    pid: int
    start: float
    last: float
    ended: bool = False


def runs(path):
    """{task id: [Run, ...]} in order of start ({} before any task's code wrote)."""
    found = collections.defaultdict(dict)
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        for line in f:
            event, tid, attempt, pid, when, *_ = line.split()
            key = (int(attempt), int(pid))
            run = found[int(tid)].get(key)
            if run is None:
                run = found[int(tid)][key] = Run(int(attempt), int(pid), float(when), float(when))
            run.last = max(run.last, float(when))
            run.ended = run.ended or event == "end"
    return {tid: sorted(r.values(), key=lambda r: r.start) for tid, r in found.items()}


@dataclasses.dataclass
class Verdict:
    tasks: int
    ran_twice: list          # ids whose code started more than once
    overlapping: list        # ids with a run that went on after the next one started
    finished_as_crash: list  # ids whose code ended but that are recorded as failed
    stuck: list              # ids not finished (still queued, running, aborting)
    unrun_done: list         # ids recorded done whose code never ended

    def failures(self, allow_reruns=False):
        """The counts that must be zero, by name."""
        counts = {"overlapping": self.overlapping, "finished-as-crash": self.finished_as_crash,
                  "stuck": self.stuck, "done-but-never-ran": self.unrun_done}
        if not allow_reruns:
            counts["ran-twice"] = self.ran_twice
        return {name: ids[:10] for name, ids in counts.items() if ids}


def verdict(path, dsn):
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("select id, status from jobconsole.task order by id").fetchall()
    journal = runs(path) if os.path.exists(path) else {}
    status = dict(rows)
    ended = {tid for tid, rs in journal.items() if any(r.ended for r in rs)}
    return Verdict(
        tasks=len(rows),
        ran_twice=sorted(tid for tid, rs in journal.items() if len(rs) > 1),
        overlapping=sorted(tid for tid, rs in journal.items()
                           if any(a.last > b.start for a, b in zip(rs, rs[1:]))),
        finished_as_crash=sorted(tid for tid in ended if status.get(tid) == "failed"),
        stuck=sorted(tid for tid, s in status.items() if s not in FINISHED),
        unrun_done=sorted(tid for tid, s in status.items() if s == "done" and tid not in ended),
    )


def unfinished(dsn):
    """How many tasks are not finished yet; None while the server does not answer."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return conn.execute("select count(*) from jobconsole.task where status <> all(%s)",
                                (list(FINISHED),)).fetchone()[0]
    except psycopg.OperationalError:
        return None
