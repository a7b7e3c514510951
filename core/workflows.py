"""Workflows: the aggregate status of a named group of tasks.

A task joins a workflow when it is scheduled (`workflow=`); the workflow is its tasks,
nothing more, so it needs no table of its own and cannot disagree with them.
"""
from dataclasses import dataclass

from .errors import NotFound

ACTIVE = ("running", "aborting", "queued", "waiting")   # in the order that names the whole


@dataclass(frozen=True)
class WorkflowInfo:
    name: str
    counts: dict          # {status: number of tasks}

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def status(self):
        """'done' when all are done; while any is active, the most advanced active
        status ('running', then 'queued', then 'waiting'); else 'failed'."""
        for state in ACTIVE:
            if self.counts.get(state):
                return "running" if state == "aborting" else state
        return "done" if self.counts.get("done") == self.total else "failed"

    @property
    def summary(self):
        """'running: 3/5 done, 1 failed'."""
        parts = [f"{self.counts.get('done', 0)}/{self.total} done"]
        parts += [f"{self.counts[s]} {s}" for s in ("failed", "aborted") if self.counts.get(s)]
        return f"{self.status}: {', '.join(parts)}"

    def as_json(self):
        return {"name": self.name, "status": self.status, "total": self.total,
                "counts": self.counts}


def get(conn, name):
    rows = conn.execute(
        "select status, count(*) from jobconsole.task where workflow = %s group by status",
        (name,)).fetchall()
    if not rows:
        raise NotFound(f"no task in workflow {name!r}")
    return WorkflowInfo(name, dict(rows))
