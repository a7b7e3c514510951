"""Acting on every task a query matches: the ids are read once, the user confirms that
exact count and query, and the action runs on those ids only (tasks that match later
are not touched), showing its progress, until done or stopped with escape."""
from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar

from jobconsole.errors import JobconsoleError

VERBS = {"abort": ("Abort", "aborted"), "relaunch": ("Relaunch", "relaunched"),
         "delete": ("Delete", "deleted")}


class BulkProgress(ModalScreen[str]):
    """Runs `action` of the app's source on each id, off the UI thread; dismisses with
    a one-line account of what it did."""
    DEFAULT_CSS = """
    BulkProgress { align: center middle; }
    BulkProgress > Vertical { width: 70; height: auto; border: thick $accent;
                              background: $surface; padding: 1 2; }
    BulkProgress #keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "stop", "Stop", id="bulk.stop")]

    def __init__(self, action, ids, query):
        super().__init__()
        self.act, self.ids, self.where = action, ids, query
        self.stopped = False

    def compose(self):
        with Vertical():
            yield Label(f"{VERBS[self.act][0]} {len(self.ids)} tasks matching "
                        f"{self.where!r}", id="what", markup=False)
            yield ProgressBar(total=len(self.ids), show_eta=False, id="bar")
            yield Label("esc: stop (what is done stays done)", id="keys", markup=False)

    def on_mount(self):
        self.run()

    def action_stop(self):
        self.stopped = True

    @work(thread=True, group="bulk")
    def run(self):
        source, done, failed = self.app.source, 0, 0
        for i, tid in enumerate(self.ids):
            if self.stopped:
                break
            try:
                getattr(source, self.act)(tid)
                done += 1
            except JobconsoleError:     # it changed since it matched (finished, deleted)
                failed += 1
            if i % 20 == 0 or i == len(self.ids) - 1:
                self.app.call_from_thread(self.query_one(ProgressBar).update, progress=i + 1)
        past = VERBS[self.act][1]
        account = f"{past} {done} of {len(self.ids)} tasks matching {self.where!r}"
        if failed:
            account += f"; {failed} had changed and were left as they were"
        if self.stopped:
            account += "; stopped"
        self.app.call_from_thread(self.dismiss, account)
