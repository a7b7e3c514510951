"""The columns of each listing, declared once for the console's views and the CLI's
tables: a column's header, the text it shows of a record, and its colour (which only
the console uses). Texts are plain and untrusted: the views and the CLI sanitise them.
"""
from dataclasses import dataclass
from typing import Any, Callable

from jobconsole import api
from jobconsole.compat.tethys import task_status as tethys_status

from .render import (bar, countdown, duration, input_text, last_task, missed, progress,
                     seconds_text, when)
from .styles import STATUS_STYLES


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    text: Callable[[Any], Any]              # the value shown of a record (None: blank)
    style: str | Callable[[Any], str] = ""  # a Rich style, or one chosen per record
    cut: bool = False                       # free text: cut (with "…") in a narrow table

    def style_of(self, record):
        return self.style(record) if callable(self.style) else self.style


def _status_of(attribute):
    """The colour of the status in this attribute of a record."""
    return lambda record: STATUS_STYLES.get(getattr(record, attribute), "")


def _heartbeat_style(monitor):
    # three beats missed: it may be frozen or gone (another monitor reaps it when stale)
    return "bold red" if monitor.heartbeat_age > 3 * api.timing().heartbeat else "green"


def _options(monitor):
    return " ".join(f"{k.replace('_', '-')}={v}" for k, v in monitor.options.items()
                    if v is not None)


def _cpu_style(worker):
    percent = worker.cpu_percent or 0
    return "red" if percent >= 90 else "yellow" if percent >= 50 else "green"


def _memory(worker):
    """'██░░░ 48 MB': a bar of its monitor's --max-mem (or of its host's memory)."""
    if not worker.mem_mb:
        return ""
    if worker.mem_percent is None:
        return f"{worker.mem_mb} MB"
    return bar(worker.mem_percent, label=f"{worker.mem_mb} MB")


def _memory_style(worker):
    percent = worker.mem_percent or 0
    return "red" if percent >= 90 else "yellow" if percent >= 70 else "green"


def _next_fire(schedule):
    if schedule.paused:
        return "paused"
    return f"{when(schedule.next_fire)} ({countdown(schedule.next_fire)})"


TASKS = [
    Column("id", "id", lambda t: t.id),
    Column("status", "status", lambda t: t.status, _status_of("status")),
    # beside the status it explains, where a table cut at the screen's edge keeps it
    Column("error", "error", lambda t: t.error_kind, "red"),
    Column("operation", "operation", lambda t: t.operation, "bold", cut=True),
    Column("domain", "domain", lambda t: t.domain, cut=True),
    Column("owner", "owner", lambda t: t.owner, cut=True),
    Column("workflow", "workflow", lambda t: t.workflow, "dim", cut=True),
    Column("queued", "queued", lambda t: when(t.queued)),
    Column("duration", "duration", lambda t: duration(t.started, t.finished)),
    Column("progress", "progress", lambda t: progress(t, 8), "cyan"),
    Column("worker", "worker", lambda t: t.worker_id),
    # myjobs' category, or a Tethys job's type, app and status, where there is one:
    # last, as most tasks have none
    Column("category", "category", lambda t: _category(t), "dim", cut=True),
]


def _category(task):
    meta = task.metadata or {}
    job = meta.get("tethys")
    if isinstance(job, dict):
        status = "Pending" if task.status == "waiting" else tethys_status(task.status)
        return f"{job.get('job_type')} {job.get('app')}: {status}"
    return meta.get("category")

WORKERS = [
    Column("id", "id", lambda w: w.id),
    Column("monitor", "monitor", lambda w: w.monitor_id),
    Column("host", "host", lambda w: w.host),
    Column("domain", "domain", lambda w: w.domain),
    Column("pid", "pid", lambda w: w.pid),
    Column("kind", "kind", lambda w: w.kind, lambda w: "" if w.kind == "subprocess" else "cyan"),
    Column("status", "status", lambda w: w.status, _status_of("status")),
    Column("task", "task", lambda w: w.task_id, "bold"),
    Column("runs", "runs", lambda w: w.runs),
    Column("cpu", "cpu", lambda w: bar(w.cpu_percent), _cpu_style),
    Column("mem", "mem", lambda w: _memory(w), _memory_style),
    Column("started", "started", lambda w: when(w.started)),
    Column("reason", "reason", lambda w: w.reason, "dim", cut=True),
]

MONITORS = [
    Column("id", "id", lambda m: m.id),
    Column("host", "host", lambda m: m.host),
    Column("domain", "domain", lambda m: m.domain),
    Column("pid", "pid", lambda m: m.pid),
    Column("status", "status", lambda m: m.status, _status_of("status")),
    Column("workers", "workers", lambda m: m.workers),
    Column("heartbeat", "heartbeat", lambda m: f"{seconds_text(m.heartbeat_age)} ago",
           _heartbeat_style),
    Column("started", "started", lambda m: when(m.started)),
    Column("label", "label", lambda m: m.label, "dim", cut=True),
    Column("options", "options", _options, "dim", cut=True),
]

SCHEDULES = [
    Column("id", "id", lambda s: s.id),
    Column("operation", "operation", lambda s: s.operation, "bold"),
    Column("domain", "domain", lambda s: s.domain),
    Column("rule", "rule", lambda s: s.rule, "cyan"),
    Column("zone", "zone", lambda s: s.timezone, "dim"),
    Column("next", "next", _next_fire, lambda s: "yellow" if s.paused else ""),
    Column("last", "last task", last_task, _status_of("last_task_status")),
    Column("missed", "missed", missed, lambda s: "red" if s.missed_count else "dim"),
    Column("owner", "owner", lambda s: s.owner),
    Column("input", "input", input_text, "dim", cut=True),
    Column("error", "error", lambda s: s.last_error, "red", cut=True),
]

OPERATIONS = [
    Column("id", "id", lambda o: o.id),
    Column("name", "name", lambda o: o.name, "bold"),
    Column("domain", "domain", lambda o: o.domain),
    Column("host", "host", lambda o: o.host),
    Column("timeout", "timeout", lambda o: f"{o.timeout:g} s" if o.timeout else ""),
    Column("retries", "retries", lambda o: o.retries),
    Column("path", "path", lambda o: o.path, "dim", cut=True),
]

QUEUES = [
    Column("transport", "transport", lambda q: q.transport, "dim", cut=True),
    Column("queue", "queue", lambda q: q.name, "bold"),
    Column("depth", "depth", lambda q: q.depth),
    Column("oldest", "oldest", lambda q: "" if q.oldest_age is None else seconds_text(q.oldest_age),
           lambda q: "yellow" if (q.oldest_age or 0) > 60 else ""),
]
