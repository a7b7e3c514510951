"""What every live screen shares: reloads that never overlap, off the UI thread.

A reload asked for while one is in flight is remembered and run once it ends, so a
burst of notifications costs at most two reads. `fetch` runs in a thread worker and
must not touch widgets; `show` runs on the UI thread with what it returned.

Only the visible screen hears of changes. A screen that comes back re-reads only if
a kind of data it shows changed while it was hidden (the app counts changes by kind):
on a big database a needless re-read, and the repaint after it, is what an operator
would feel on every switch of view. When it must re-read, the app's view switch asks
for the rows first and switches once they are shown (`reload(then=...)`).
"""
import time

from textual import on, work
from textual.screen import Screen

from jobconsole.errors import Cancelled, JobconsoleError

from .messages import Loaded


CHANGE_GAP = 1.0    # seconds between two reads for changes, at least
READ_SHARE = 0.1    # ...and at most this share of the time spent reading for changes


class LiveScreen(Screen):
    WATCHES = frozenset()   # kinds of change that make this screen reload
    # Shown at once when switched to, its last figures and then the fresh ones, rather
    # than after a read: for a screen whose new data moves nothing under the cursor.
    SHOW_AT_ONCE = False

    def __init__(self):
        super().__init__()
        self._loading = False
        self._dirty = False
        self.loads = 0      # completed loads: what tests and benchmarks wait on
        self._seen = None   # the app's change counts when the last load began
        self._then = []     # called once the load in flight is shown (or failed)
        self._then_next = []    # ... once the load after it is
        self._generation = 0    # of the latest load: an older one's answer is dropped
        self._changed_at = 0.0  # when a change last made it read
        self._change_timer = None
        self.change_gap = CHANGE_GAP    # seconds between reads for changes, at least

    def fetch(self):
        """The data to show (runs in a thread)."""
        raise NotImplementedError

    def show(self, data):
        """Put fetched data on screen (runs on the UI thread)."""
        raise NotImplementedError

    def ready(self):
        """False while the screen cannot show anything (not composed, or dismissed)."""
        return True

    def on_changed(self, kinds):
        """A change in the database: read again, at most once every CHANGE_GAP seconds
        (a busy queue changes tasks hundreds of times a second; each read and repaint
        of a screen costs tens of milliseconds of the console's CPU), and less often
        when a read takes long: a filter that matches little on a big table reads it all
        (half a minute at ten million tasks), which a busy queue would otherwise repeat
        back to back, keeping a server process busy for as long as the console shows
        it. Keys read at once."""
        if not kinds & self.WATCHES or self._change_timer is not None:
            return
        wait = self._changed_at + self.change_gap - time.monotonic()
        if wait <= 0:
            self._changed_at = time.monotonic()
            self.reload()
            return

        def due():
            self._change_timer = None
            self._changed_at = time.monotonic()
            self.reload()
        self._change_timer = self.set_timer(wait, due)

    def reload(self, then=None, restart=False):
        """Read the data again. `restart`: what the screen asks for changed (a filter, a
        sort), so the load in flight, if any, is of no use: start at once, and its
        answer is dropped when it comes (on a big table a filter that matches nothing
        may search for seconds, which the next key must not wait for)."""
        if not self.ready():
            if then is not None:
                then()
            return
        if self._loading and not restart:
            # the load in flight may have read before the change: wait for the next one
            self._dirty = True
            if then is not None:
                self._then_next.append(then)
            return
        if then is not None:
            self._then.append(then)
        # a restart answers for the load it replaces, and for the one that would have
        # followed it
        self._then += self._then_next
        self._then_next = []
        self._loading = True
        self._dirty = False
        self._generation += 1
        self._seen = self.app.changes_of(self.WATCHES)
        self._load(self._generation)

    def stale(self):
        """Whether a kind of data it shows changed since its last load began."""
        return self._seen != self.app.changes_of(self.WATCHES)

    def outdated(self):
        """Whether to read again as it shows: by default, when something it shows changed."""
        return self.stale()

    def on_screen_resume(self):
        if self.outdated():
            self.reload()

    @work(thread=True, group="load")
    def _load(self, generation):
        started = time.monotonic()
        try:
            data = self.fetch()
        except Cancelled:
            data = None     # its screen asked for something else since: dropped below
        except JobconsoleError as exc:
            self.app.call_from_thread(self.app.report_problem, str(exc))
            data = None
        self.post_message(Loaded(data, generation, time.monotonic() - started))

    @on(Loaded)
    def _loaded(self, message):
        if message.generation != self._generation:
            return      # a load restarted since: its answer is on its way
        self._loading = False
        self.change_gap = max(CHANGE_GAP, message.seconds / READ_SHARE)
        if message.rows is not None and self.ready():
            self.app.report_problem(None)
            self.show(message.rows)
            self.loads += 1
        elif message.rows is None:
            self.load_failed()
        waiting, self._then = self._then, []
        for callback in waiting:
            callback()
        if self._dirty:
            self._dirty = False
            self._then, self._then_next = self._then_next, []
            self.reload()

    def load_failed(self):
        """The last fetch failed (the app shows why); a screen may reset its state."""

    def check_action(self, action, parameters):
        # --read-only: the app's rule hides this screen's destructive keys too
        return self.app.check_action(action, parameters)
