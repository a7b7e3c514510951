"""Other engines that run jobconsole tasks: Slurm and Dask, for Tethys' job types.

Such a task is never claimed by a worker: it waits in the engine's own domain ('slurm'
or 'dask', which no monitor may serve with workers. Every monitor on a host that can drive the
engine runs a tracker (tracker.py), and the one that holds the engine's lock submits
the engine's queued tasks, follows them with one call per poll, streams their output
into their logs, carries out aborts and records how they ended. No process of
jobconsole is held while the engine runs a job, and when the tracking monitor dies,
another one takes the lock and goes on where it stopped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENGINES = ("slurm", "dask")


@dataclass(frozen=True)
class State:
    """What an engine says of one job."""
    word: str                   # the engine's own word for where it is (RUNNING, ...)
    phase: str                  # 'queued', 'running', 'ended', or 'away' (unreachable)
    status: str | None = None   # an ended one's task status: done, failed or aborted
    kind: str | None = None     # a failed or aborted one's error kind
    output: Any = None          # an ended one's output
    exit_code: int | None = None
    message: str | None = None  # why a failed one failed
