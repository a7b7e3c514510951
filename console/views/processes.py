"""Workers and monitors: who runs what, where, and how fresh their heartbeat is."""
from textual.binding import Binding

from .. import columns
from .table_view import TableView


class WorkersView(TableView):
    TITLE = "Workers"
    FIELDS = columns.WORKERS
    WATCHES = frozenset({"worker", "task"})
    BINDINGS = [
        Binding("enter", "open", "Open task", id="workers.open"),
        Binding("k", "kill_worker", "Kill", id="workers.kill_worker"),
        Binding("h", "shutdown_worker", "Halt", id="workers.shutdown_worker"),
    ]
    _TASK = [c.key for c in columns.WORKERS].index("task")

    def fetch(self):
        return [w for w in self.app.source.workers()
                if self.matches(w.id, w.host, w.domain, w.status, w.pid, w.task_id, w.kind)]

    def action_open(self):
        key = self.table.current_key
        worker = key and self.table.get_row(key)
        task = worker and str(worker[self._TASK])
        if task:
            from ..task_screen import TaskScreen
            self.app.push_screen(TaskScreen(int(task)))

    def action_kill_worker(self):
        key = self.table.current_key
        if key:
            self.app.confirm_then(f"Kill worker {key}? Its task fails as a crash.",
                                  "kill_worker", [int(key)])

    def action_shutdown_worker(self):
        key = self.table.current_key
        if key:
            self.app.confirm_then(f"Halt worker {key} after its current task?",
                                  "shutdown_worker", [int(key)])


class MonitorsView(TableView):
    TITLE = "Monitors"
    FIELDS = columns.MONITORS
    WATCHES = frozenset({"monitor", "worker"})
    BINDINGS = [Binding("x", "stop_monitor", "Stop", id="monitors.stop_monitor")]

    def fetch(self):
        return [m for m in self.app.source.monitors()
                if self.matches(m.id, m.host, m.domain, m.status, m.pid)]

    def action_stop_monitor(self):
        key = self.table.current_key
        if key:
            self.app.confirm_then(
                f"Stop monitor {key}? Its workers finish their current task, then exit.",
                "stop_monitor", [int(key)])
