"""Cron schedules: their rules and next fire times, with run-now, pause and delete."""
from textual.binding import Binding

from .. import cells
from ..render import countdown, input_text, last_task, missed, when
from .table_view import TableView


class SchedulesView(TableView):
    TITLE = "Schedules"
    COLUMNS = [("id", "ID"), ("operation", "OPERATION"), ("domain", "DOMAIN"),
               ("rule", "RULE"), ("zone", "ZONE"), ("next", "NEXT"), ("last", "LAST TASK"),
               ("missed", "MISSED"), ("owner", "OWNER"), ("input", "INPUT"),
               ("error", "ERROR")]
    WATCHES = frozenset({"schedule", "task"})
    BINDINGS = [
        Binding("enter", "open", "Last task", id="schedules.open"),
        Binding("t", "trigger", "Run now", id="schedules.trigger"),
        Binding("s", "suspend", "Pause/resume", id="schedules.suspend"),
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

    def cells(self, s):
        if s.paused:
            upcoming = cells.cell("paused", "yellow")
        else:
            upcoming = cells.cell(f"{when(s.next_fire)} ({countdown(s.next_fire)})")
        return [cells.cell(s.id), cells.cell(s.operation, "bold"), cells.cell(s.domain),
                cells.cell(s.rule, "cyan"), cells.cell(s.timezone, "dim"), upcoming,
                cells.status(s.last_task_status, last_task(s)),
                cells.cell(missed(s), "red" if s.missed_count else "dim"),
                cells.cell(s.owner), cells.cell(input_text(s), "dim"),
                cells.cell(s.last_error, "red")]

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

    def action_trigger(self):
        s = self.current()
        if s:
            self.app.confirm_then(f"Run schedule {s.id} ({s.operation}) now, outside its rule?",
                                  "run_schedule", [s.id])

    def action_suspend(self):
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
