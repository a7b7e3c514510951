"""The home view: tasks, newest first, with abort, relaunch and delete on keys."""
from textual import work
from textual.binding import Binding

from jobconsole import api
from jobconsole.errors import Cancelled, JobconsoleError

from .. import cells, columns, render
from ..render import id_list
from .table_view import TableView

SEARCH_FIRST = 10_000   # a filter first searches the newest this many tasks...
SEARCH_GROWTH = 5       # ...then this many times more at each step, until enough match


class TasksView(TableView):
    TITLE = "Tasks"
    FIELDS = columns.TASKS
    SORTS = ["id", "status", "operation", "domain", "owner", "queued", "worker_id"]
    WATCHES = frozenset({"task"})

    BINDINGS = [
        Binding("enter", "open", "Open", id="tasks.open"),
        Binding("space", "mark", "Mark", id="tasks.mark"),
        Binding("a", "abort", "Abort", id="tasks.abort"),
        Binding("R", "relaunch", "Relaunch", id="tasks.relaunch"),
        Binding("ctrl+d", "delete", "Delete", id="tasks.delete"),
        Binding("A", "bulk('abort')", "Abort all matching", show=False,
                id="tasks.abort_matching"),
    ]

    # A filter that matches few tasks must look at all of them: on a million that is a
    # scan of 0.3-0.8 s. So it searches the newest tasks first and widens the search in
    # steps, showing what it found at each one: the screen answers at once, and fills in
    # (matches are shown newest first, so the rows found first stay on top).
    span = None             # while a filter widens its search: how many newest ids

    def __init__(self):
        super().__init__()
        self._cells = {}    # task id -> (TaskSummary, marked, day, cells) of ended tasks
        self._reading = set()   # the api.Cancel of each load in flight

    FILTER_HINT = "filter: status:failed op:report owner:alice age>1h dur>30s, text; ! negates"

    def check_filter(self, text):
        api.check_query(text)

    def query_changed(self):
        searching = self.filter_text and self.sort_key == "id" and self.descending
        self.span = SEARCH_FIRST if searching else None
        # what the loads in flight read is of no use now, and the server would read on
        # for nobody (a filter that matches little reads the whole table: seconds at
        # ten million tasks, and each key typed would add a reader)
        dropped = list(self._reading)
        if dropped:
            self.run_worker(lambda: [cancel.set() for cancel in dropped], thread=True,
                            group="cancel")

    def progress_note(self):
        return f"searching the newest {self.span:,} tasks…" if self.span else ""

    def asked(self):
        """What the rows shown answer: filter, sort and how far a search looks."""
        return self.filter_text, self.sort_key, self.descending, self.span

    def fetch(self):
        query = self.asked()
        text, sort, descending, span = query
        cancel = api.Cancel()
        self._reading.add(cancel)
        try:
            if query != self.asked():
                # changed before query_changed could see this load: it would not stop it
                raise Cancelled("the query changed")
            rows = self.app.source.tasks(where=text or None, sort=sort,
                                         descending=descending, limit=self.limit,
                                         newest=span, cancel=cancel)
        finally:
            self._reading.discard(cancel)
        return rows, query, span is not None and span < self.app.source.task_id_span()

    def show(self, data):
        rows, query, partial = data
        if query != self.asked():
            return              # the filter or sort changed meanwhile: its load follows
        super().show(rows)
        span = self.span
        if partial and len(rows) < self.limit:
            self.span = span * SEARCH_GROWTH
            self.reload()
        else:
            self.span = None    # found enough, or searched everything
        self.update_title()

    def load_failed(self):
        self.span = None        # the next load, when the database is back, reads it all
        self.update_title()

    def columns(self):
        return [("mark", " ")] + super().columns()

    def cells(self, t):
        marked = str(t.id) in self.table.marked
        # an ended task's cells change only with the task: kept, since most rows of a
        # busy table are read again unchanged at every change (a running task's
        # duration ticks: made anew), and with the day (a time of day gains its date)
        today = render.now().astimezone().date()
        kept = self._cells.get(t.id)
        if kept is not None and kept[:3] == (t, marked, today):
            return kept[3]
        made = [cells.cell("●" if marked else "", "bold magenta")] + super().cells(t)
        if t.finished is not None:
            if len(self._cells) > 4 * self.limit:
                self._cells.clear()
            self._cells[t.id] = (t, marked, today, made)
        return made

    def selected(self):
        """The marked task ids, or the one under the cursor."""
        if self.table.marked:
            return sorted(int(k) for k in self.table.marked)
        key = self.table.current_key
        return [int(key)] if key else []

    def action_open(self):
        key = self.table.current_key
        if key:
            from ..task_screen import TaskScreen
            self.app.push_screen(TaskScreen(int(key)))

    def action_mark(self):
        key = self.table.current_key
        if key:
            self.table.marked ^= {key}
            self.table.update_cell(key, "mark", cells.cell(
                "●" if key in self.table.marked else "", "bold magenta"))
            if self.table.cursor_row < self.table.row_count - 1:
                self.table.move_cursor(row=self.table.cursor_row + 1)

    def action_abort(self):
        ids = self.selected()
        if ids:
            self.app.confirm_then(f"Abort {_tasks(ids)}?", "abort", ids,
                                  done=self.table.marked.clear)

    def action_relaunch(self):
        ids = self.selected()
        if ids:
            self.app.confirm_then(f"Relaunch {_tasks(ids)} with the same input?",
                                  "relaunch", ids, done=self.table.marked.clear)

    def action_delete(self):
        ids = self.selected()
        if ids:
            self.app.confirm_then(f"Delete {_tasks(ids)} and their logs?", "delete", ids,
                                  done=self.table.marked.clear)


    def action_bulk(self, action):
        """Abort, relaunch or delete every task the filter matches, once confirmed."""
        if self.app.read_only:
            self.notify("read-only: actions are disabled", severity="warning")
        elif not self.filter_text:
            self.notify("set a filter first (/): this acts on every task it matches",
                        severity="warning")
        else:
            self.count_matching(action, self.filter_text)

    @work(thread=True, exclusive=True, group="bulk-count")
    def count_matching(self, action, query):
        try:
            ids = self.app.source.task_ids(query)
        except JobconsoleError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self.confirm_matching, action, query, ids)

    def confirm_matching(self, action, query, ids):
        from ..bulk import VERBS, BulkProgress
        from ..confirm import Confirm
        if not ids:
            self.notify(f"no task matches {query!r}", markup=False)
            return

        def answered(yes):
            if yes:
                self.app.push_screen(BulkProgress(action, ids, query),
                                     lambda account: self.notify(account, markup=False))
        self.app.push_screen(Confirm(
            f"{VERBS[action][0]} all {len(ids)} tasks matching {query!r} "
            f"({id_list(ids)})? Tasks that match later are not touched."), answered)


def _tasks(ids):
    return f"task {ids[0]}" if len(ids) == 1 else f"{len(ids)} tasks ({id_list(ids)})"
