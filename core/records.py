"""What the core hands back: frozen records of tasks, processes, operations, schedules
and workflows, and the vocabularies their statuses are spoken in.

Records are read-only snapshots of rows: a `Task` handle (task.py) reads afresh, a
record does not. They carry no SQL and no connection, so a front end (the console, a
web page) may hold and show them freely.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

# A task's statuses, in the order of its life (the console shows counts in this order).
TASK_STATUSES = ("waiting", "queued", "running", "aborting", "done", "failed", "aborted")
FINISHED = ("done", "failed", "aborted")
# Why a task failed or was aborted.
ERROR_KINDS = ("error", "timeout", "crash", "abort", "dependency")
# The kinds of failure a retry may follow (an abort never retries).
RETRYABLE = ("error", "timeout", "crash")
# Processes that may still act: a worker being started or stopped may yet write.
LIVE_WORKER = ("starting", "running", "stopping")
LIVE_MONITOR = ("running", "stopping")
# What a schedule does with fire times missed while no monitor ran.
MISSED_POLICIES = ("once", "skip")


def size_text(raw: bytes | memoryview) -> str:
    """How raw bytes are shown wherever a value would be: by their size."""
    return f"<{len(raw)} bytes>"


def size_words(size: int) -> str:
    """'12.5 MB', '31.0 KB' or '42 bytes': a size for people (a MB is 2**20 bytes)."""
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MB"
    if size >= 10 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size:,} bytes"


def json_ready(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict (raw bytes shown by size, times in ISO 8601)."""
    out = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, (bytes, memoryview)):
            value = size_text(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


class _Progress:
    progress_done: float | None
    progress_total: float | None

    @property
    def progress(self) -> float | None:
        """Done as a fraction of total (0..1), or None when the task gave no total."""
        if self.progress_done is None or not self.progress_total:
            return None
        return max(0.0, min(1.0, self.progress_done / self.progress_total))


@dataclass(frozen=True)
class TaskInfo(_Progress):
    id: int
    operation: str
    domain: str
    host: str | None
    status: str
    input: Any
    raw_input: bytes | None
    output: Any
    raw_output: bytes | None
    error_kind: str | None
    traceback: str | None
    owner: str | None
    metadata: dict | None
    priority: int
    timeout: float | None
    attempt: int
    retries: int
    worker_id: int | None
    queued: datetime
    claimed: datetime | None
    started: datetime | None
    finished: datetime | None
    run_at: datetime | None       # a delayed start: 'waiting' until then
    backoff: float                # seconds before a retry, doubled at each attempt
    retry_on: list                # the error kinds that retry
    progress_done: float | None
    progress_total: float | None
    progress_message: str | None
    facet: dict | None            # free results the task published while running
    has_dependents: bool
    schedule_id: int | None       # the schedule that made it
    fire_time: datetime | None    # the fire time it was made for (none: run by hand)
    workflow: str | None          # the group of tasks it belongs to
    action_id: int | None         # the shipped function it runs (myjobs), if any

    def as_json(self) -> dict[str, Any]:
        return json_ready(self)


@dataclass(frozen=True)
class TaskSummary(_Progress):
    """A task as listings and the console show it: a TaskInfo whose input, output and
    traceback are cut short. A listing of tasks given 100 MB each reads a few hundred
    bytes of each; TaskInfo (`Task.info()`, get_task) is one task read whole."""
    id: int
    operation: str
    domain: str
    host: str | None
    status: str
    input_preview: str | None     # its JSON text, cut at 400 characters with '…' after; '<N bytes>' for raw input
    input_size: int | None        # bytes of the whole: its JSON text, or the raw input
    output_preview: str | None    # as the input's
    output_size: int | None
    error_kind: str | None
    traceback_tail: str | None    # its last 4,000 characters, '…' before when cut
    owner: str | None
    metadata: dict | None
    priority: int
    timeout: float | None
    attempt: int
    retries: int
    worker_id: int | None
    queued: datetime
    claimed: datetime | None
    started: datetime | None
    finished: datetime | None
    run_at: datetime | None
    backoff: float
    retry_on: list
    progress_done: float | None
    progress_total: float | None
    progress_message: str | None
    facet: dict | None
    has_dependents: bool
    schedule_id: int | None
    fire_time: datetime | None
    workflow: str | None
    action_id: int | None

    def as_json(self) -> dict[str, Any]:
        return json_ready(self)


@dataclass(frozen=True)
class QueueInfo:
    """A queue of payloads (rex.asynctask's): those waiting, and how long the oldest has."""
    transport: str                # its URI, without a password
    name: str
    depth: int
    oldest_age: float | None      # seconds; None when empty or the transport cannot tell


@dataclass(frozen=True)
class MonitorInfo:
    id: int
    host: str
    domain: str
    pid: int
    options: dict
    status: str
    started: datetime
    heartbeat: datetime
    finished: datetime | None
    workers: int            # live workers
    heartbeat_age: float    # seconds since its last heartbeat
    label: str = ""         # tells it from the host's other monitors of its domain


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    monitor_id: int
    host: str
    domain: str
    pid: int | None
    status: str
    runs: int
    mem_mb: int | None
    reason: str | None
    started: datetime
    heartbeat: datetime
    finished: datetime | None
    task_id: int | None     # the task it is running now
    kind: str = "subprocess"    # or 'tmux' (a window of a tmux session), 'inprocess'
    cpu_percent: float | None = None    # of one core, since its last heartbeat
    mem_percent: float | None = None    # mem_mb, of its monitor's --max-mem or else of
                                        # its host's memory


@dataclass(frozen=True)
class OperationInfo:
    id: int
    name: str
    domain: str
    host: str
    path: str
    timeout: float | None
    retries: int
    registered: datetime
    backoff: float
    retry_on: list


@dataclass(frozen=True)
class ScheduleInfo:
    id: int
    operation: str
    domain: str
    host: str | None
    rule: str
    timezone: str
    input: Any
    raw_input: bytes | None
    owner: str | None
    metadata: dict | None
    priority: int
    missed: str                      # the policy for missed fire times: 'once' or 'skip'
    paused: bool
    next_fire: datetime
    last_fire: datetime | None
    last_task_id: int | None
    missed_count: int
    last_missed: datetime | None
    last_error: str | None
    created: datetime
    last_task_status: str | None     # the status of the task its last firing made

    def as_json(self) -> dict[str, Any]:
        return json_ready(self)


# Unfinished statuses, in the order that names a whole workflow while any task has it.
_WORKFLOW_ACTIVE = ("running", "aborting", "queued", "waiting")


@dataclass(frozen=True)
class WorkflowInfo:
    name: str
    counts: dict          # {status: number of tasks}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def status(self) -> str:
        """'done' when all are done; while any is active, the most advanced active
        status ('running', then 'queued', then 'waiting'); else 'failed'."""
        for state in _WORKFLOW_ACTIVE:
            if self.counts.get(state):
                return "running" if state == "aborting" else state
        return "done" if self.counts.get("done") == self.total else "failed"

    @property
    def summary(self) -> str:
        """'running: 3/5 done, 1 failed'."""
        parts = [f"{self.counts.get('done', 0)}/{self.total} done"]
        parts += [f"{self.counts[s]} {s}" for s in ("failed", "aborted") if self.counts.get(s)]
        return f"{self.status}: {', '.join(parts)}"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "total": self.total,
                "counts": self.counts}


@dataclass(frozen=True)
class Stats:
    """The overview's figures (jobconsole.stats): none of them counts the task table; the
    backlog's oldest age reads one queued task of each domain."""
    minutes: list            # [(minute start, done, failed, aborted)], the last 60, oldest first
    rates: dict              # {'5m': (done, failed, aborted) per second, '60m': ...}
    backlog: list            # [(domain, queued, waiting, oldest queued age in seconds or None)]
    operations: list         # [(operation, ended, failed, failure rate, p50 s, p95 s)], last hour
    hosts: list              # [(host, busy workers, idle workers, cpu %, memory %)]
    # the same 60 minutes as `minutes`, as monitors sampled them (0: not sampled)
    backlog_history: dict = field(default_factory=dict)  # {domain: [queued + waiting]}
    busy_history: dict = field(default_factory=dict)     # {host: [busy workers]}


@dataclass(frozen=True)
class Attempt:
    """A failed attempt of a task that was retried (the task row is its last one)."""
    attempt: int
    worker_id: int | None
    started: datetime | None
    finished: datetime
    error_kind: str | None
    traceback: str | None       # its end: the exception
