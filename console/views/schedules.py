"""Cron schedules: their rules and next fire times, with run-now, pause and delete."""
from textual.binding import Binding

from .. import columns
from .table_view import TableView


class SchedulesView(TableView):
    TITLE = "Schedules"
    FIELDS = columns.SCHEDULES
    WATCHES = frozenset({"schedule", "task"})
    BINDINGS = [
        Binding("enter", "open", "Last task", id="schedules.open"),
        Binding("t", "run_schedule", "Run now", id="schedules.run_schedule"),
        Binding("s", "pause_schedule", "Pause/resume", id="schedules.pause_schedule"),
        Binding("ctrl+d", "delete", "Delete", id="schedules.delete"),
    ]

    shown = {}          # row key -> the ScheduleInfo shown

    def on_mount(self):
        super().on_mount()
        self.set_interval(1.0, self._count_down)

    def _count_down(self):
        """Redraw the NEXT column's countdown from the rows shown (no database read)."""
        if self.is_current and self.shown:
            TableView.show(self, list(self.shown.values()))

    def fetch(self):
        return [s for s in self.app.source.schedules()
                if self.matches(s.id, s.operation, s.domain, s.rule, s.owner,
                                "paused" if s.paused else "active")]

    def show(self, rows):
        self.shown = {str(s.id): s for s in rows}
        super().show(rows)

    def current(self):
        """The ScheduleInfo under the cursor, or None."""
        return self.shown.get(self.table.current_key or "")

    def action_open(self):
        s = self.current()
        if s and s.last_task_id:
            from ..task_screen import TaskScreen
            self.app.push_screen(TaskScreen(s.last_task_id))

    def action_run_schedule(self):
        s = self.current()
        if s:
            self.app.confirm_then(f"Run schedule {s.id} ({s.operation}) now, outside its rule?",
                                  "run_schedule", [s.id])

    def action_pause_schedule(self):
        """Pause the schedule, or resume it if it is paused."""
        s = self.current()
        if s and s.paused:
            self.app.confirm_then(f"Resume schedule {s.id} ({s.operation}) from its next fire "
                                  "time?", "resume_schedule", [s.id])
        elif s:
            self.app.confirm_then(f"Pause schedule {s.id} ({s.operation})? It makes no task "
                                  "until resumed.", "pause_schedule", [s.id])

    def action_delete(self):
        s = self.current()
        if s:
            self.app.confirm_then(f"Delete schedule {s.id} ({s.operation})? The tasks it made "
                                  "stay.", "unprepare", [s.id])
