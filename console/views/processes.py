"""Workers and monitors: who runs what, where, and how fresh their heartbeat is."""
from textual.binding import Binding

from .. import cells
from ..render import seconds_text, when
from .table_view import TableView


class WorkersView(TableView):
    TITLE = "Workers"
    COLUMNS = [("id", "ID"), ("monitor", "MONITOR"), ("host", "HOST"), ("domain", "DOMAIN"),
               ("pid", "PID"), ("status", "STATUS"), ("task", "TASK"), ("runs", "RUNS"),
               ("mem", "MEM"), ("started", "STARTED"), ("reason", "REASON")]
    WATCHES = frozenset({"worker", "task"})
    BINDINGS = [
        Binding("enter", "open", "Open task", id="workers.open"),
        Binding("k", "kill", "Kill", id="workers.kill"),
    ]

    def fetch(self):
        return [w for w in self.app.source.workers()
                if self.matches(w.id, w.host, w.domain, w.status, w.pid, w.task_id)]

    def cells(self, w):
        return [cells.cell(w.id), cells.cell(w.monitor_id), cells.cell(w.host),
                cells.cell(w.domain), cells.cell(w.pid), cells.status(w.status),
                cells.cell(w.task_id, "bold"), cells.cell(w.runs),
                cells.cell(f"{w.mem_mb} MB" if w.mem_mb else ""), cells.cell(when(w.started)),
                cells.cell(w.reason, "dim")]

    def action_open(self):
        key = self.table.current_key
        worker = key and self.table.get_row(key)
        task = worker and str(worker[6])
        if task:
            from ..task_screen import TaskScreen
            self.app.push_screen(TaskScreen(int(task)))

    def action_kill(self):
        key = self.table.current_key
        if key:
            self.app.confirm_then(f"Kill worker {key}? Its task fails as a crash.",
                                  "kill_worker", [int(key)])


class MonitorsView(TableView):
    TITLE = "Monitors"
    COLUMNS = [("id", "ID"), ("host", "HOST"), ("domain", "DOMAIN"), ("pid", "PID"),
               ("status", "STATUS"), ("workers", "WORKERS"), ("heartbeat", "HEARTBEAT"),
               ("started", "STARTED"), ("options", "OPTIONS")]
    WATCHES = frozenset({"monitor", "worker"})
    BINDINGS = [Binding("x", "stop", "Stop", id="monitors.stop")]

    def fetch(self):
        return [m for m in self.app.source.monitors()
                if self.matches(m.id, m.host, m.domain, m.status, m.pid)]

    def cells(self, m):
        age = m.heartbeat_age
        stale = "bold red" if age > 3 * self.app.timing.heartbeat else "green"
        opts = " ".join(f"{k.replace('_', '-')}={v}" for k, v in m.options.items() if v is not None)
        return [cells.cell(m.id), cells.cell(m.host), cells.cell(m.domain), cells.cell(m.pid),
                cells.status(m.status), cells.cell(m.workers),
                cells.cell(f"{seconds_text(age)} ago", stale), cells.cell(when(m.started)),
                cells.cell(opts, "dim")]

    def action_stop(self):
        key = self.table.current_key
        if key:
            self.app.confirm_then(
                f"Stop monitor {key}? Its workers finish their current task, then exit.",
                "stop_monitor", [int(key)])
