"""One task: what it was given, what it produced or why it failed, and its live log."""

from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from jobconsole.records import size_words

from . import cells
from .live_screen import LiveScreen
from .render import duration, is_cut, is_raw_preview, progress, value_text, when
from .widgets.banner import Banner
from .widgets.log_pane import LogPane
from .widgets.status_bar import StatusBar


# a preview is 400 characters and '…' (core's limits.PREVIEW_CHARS): all of it shows
PREVIEW_LIMIT = 401
# lines of a shipped function's source the screen shows
SOURCE_LINES = 40


class TaskScreen(LiveScreen):
    WATCHES = frozenset({"task", "log"})
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="task.back"),
        Binding("f", "follow", "Follow log", id="task.follow"),
        Binding("a", "abort", "Abort", id="task.abort"),
        Binding("R", "relaunch", "Relaunch", id="task.relaunch"),
        Binding("ctrl+d", "delete", "Delete", id="task.delete"),
    ]
    DEFAULT_CSS = """
    TaskScreen #details { height: auto; max-height: 50%; overflow-y: auto; padding: 0 1; }
    """

    def __init__(self, task_id):
        super().__init__()
        self.task_id = task_id
        self._after = 0         # the last log line shown
        self._source = None     # (name, code) of the shipped function it runs

    def compose(self):
        yield Banner()
        with Vertical():
            yield Static(id="details")
            yield LogPane(id="log")
        yield StatusBar()
        yield Footer()

    def on_mount(self):
        self.query_one(LogPane).focus()
        self.reload()

    def ready(self):
        return bool(self.query(LogPane))

    def reload(self, then=None, restart=False):
        if self.ready():
            self._after = self.query_one(LogPane).last_id   # read here: fetch is a thread
        super().reload(then, restart)

    def fetch(self):
        source = self.app.source
        info = source.task(self.task_id)
        deps = source.dependencies(self.task_id) if info.has_dependents or \
            info.status in ("waiting", "failed") else ([], [])
        flow = source.workflow(info.workflow) if info.workflow else None
        if info.action_id is not None and self._source is None:
            self._source = source.task_source(self.task_id)     # it never changes
        tethys = source.tethys_status(self.task_id) if _tethys(info) else None
        attempts = source.attempts(self.task_id) if info.attempt > 1 else []
        return info, deps, flow, tethys, attempts, source.logs(self.task_id, after=self._after)

    def show(self, data):
        info, deps, flow, tethys, attempts, lines = data
        self.query_one("#details", Static).update(
            self._details(info, deps, flow, tethys, attempts))
        self.query_one(LogPane).add(lines)

    def _details(self, t, deps, flow, tethys=None, attempts=()):
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(style="bold", no_wrap=True, width=10)
        table.add_column(ratio=1)
        table.add_column(style="bold", no_wrap=True, width=9)
        table.add_column(ratio=1)
        status = cells.status(t.status)
        if t.error_kind and t.error_kind != "abort":
            status.append(f" ({t.error_kind})", style="red")
        table.add_row("task", cells.cell(f"{t.id}  {t.operation}", "bold"), "status", status)
        table.add_row("domain", cells.cell(t.domain), "owner", cells.cell(t.owner))
        table.add_row("queued", cells.cell(when(t.queued)), "worker", cells.cell(t.worker_id))
        if t.run_at is not None:
            table.add_row("run at", cells.cell(when(t.run_at), "magenta"), "", Text(""))
        table.add_row("started", cells.cell(when(t.started)), "duration",
                      cells.cell(duration(t.started, t.finished)))
        table.add_row("attempt", cells.cell(f"{t.attempt} of {t.retries + 1}"), "priority",
                      cells.cell(t.priority))
        if attempts:
            table.add_row("attempts", _attempts(attempts, t), "", Text(""))
        table.add_row("input", _preview(t.input_preview, t.input_size), "output",
                      _preview(t.output_preview, t.output_size))
        table.add_row("metadata", _value(t.metadata, None), "facet", _value(t.facet, None))
        if tethys is not None:
            job = _tethys(t)
            table.add_row("tethys", cells.cell(f"{job.get('app')}: {job.get('name')} "
                                               f"({job.get('job_type')})"),
                          "as Tethys", cells.cell(tethys, "bold"))
        after, before = deps
        if after or before:
            table.add_row("after", cells.cell(", ".join(map(str, after))),
                          "before", cells.cell(", ".join(map(str, before))))
        if flow is not None:
            table.add_row("workflow", cells.cell(flow.name, "bold"),
                          "all tasks", cells.status(flow.status, flow.summary))
        if t.schedule_id is not None:
            table.add_row("schedule", cells.cell(t.schedule_id), "fire time",
                          cells.cell(when(t.fire_time) if t.fire_time else "run by hand"))
        if t.progress_done is not None:
            table.add_row("progress", cells.cell(progress(t, 20), "cyan"),
                          "note", cells.cell(t.progress_message))
        if t.traceback_tail:
            tb = Text()
            for line in t.traceback_tail.rstrip("\n").split("\n")[-15:]:
                tb.append_text(cells.cell(line, "red"))
                tb.append("\n")
            table.add_row("traceback", tb, "", Text(""))
        if self._source is not None:
            # what runs is what anyone who could write to the database stored: shown
            # whole (up to a screenful), literally
            code = Text()
            for line in self._source[1].rstrip("\n").split("\n")[:SOURCE_LINES]:
                code.append_text(cells.cell(line, "cyan"))
                code.append("\n")
            table.add_row("source", code, "", Text(""))
        return table

    def action_follow(self):
        self.query_one(LogPane).follow()

    def action_abort(self):
        self.app.confirm_then(f"Abort task {self.task_id}?", "abort", [self.task_id])

    def action_relaunch(self):
        self.app.confirm_then(f"Relaunch task {self.task_id} with the same input?",
                              "relaunch", [self.task_id])

    def action_delete(self):
        self.app.confirm_then(f"Delete task {self.task_id} and its log?", "delete",
                              [self.task_id], done=self.app.pop_screen)


def _value(value, raw):
    if raw is not None:
        return cells.cell(value_text(value, raw), "dim")
    if value is None:
        return Text("")
    return cells.cell(value_text(value), limit=400)


def _preview(preview, size):
    """A value's preview as the core cut it, and its whole size when it was cut."""
    if preview is None:
        return Text("")
    if is_raw_preview(preview):
        return cells.cell(preview, "dim")
    text = cells.cell(preview, limit=PREVIEW_LIMIT)
    if not is_cut(preview):
        return text
    # first, or the cell's width would cut it off; the console never reads the whole
    # value (`jobconsole show-task ID` prints it)
    whole = Text(f"({size_words(size)}) ", style="dim", no_wrap=True)
    return whole.append_text(text)


def _tethys(task):
    """What a Tethys job's task says of it (compat.tethys), or None."""
    job = (task.metadata or {}).get("tethys")
    return job if isinstance(job, dict) else None


def _attempts(attempts, task):
    """One line per attempt: each failed one's when, how long, where, and the exception's
    line; then this one, as it stands."""
    text = Text()
    for a in attempts:
        text.append(f"{a.attempt}  ", "bold")
        text.append(f"failed ({a.error_kind})" if a.error_kind else "failed", "red")
        text.append(f"  {when(a.started) if a.started else '-'}"
                    f"  {duration(a.started, a.finished) if a.started else ''}"
                    f"  worker {a.worker_id if a.worker_id is not None else '-'}  ")
        last = (a.traceback or "").rstrip("\n").rsplit("\n", 1)[-1]
        text.append_text(cells.cell(last, "dim"))
        text.append("\n")
    text.append(f"{task.attempt}  ", "bold")
    text.append_text(cells.status(task.status))
    if task.error_kind and task.error_kind != "abort":
        text.append(f" ({task.error_kind})", "red")
    text.append(f"  {when(task.started) if task.started else '-'}"
                f"  {duration(task.started, task.finished) if task.started else ''}"
                f"  worker {task.worker_id if task.worker_id is not None else '-'}")
    return text
