"""The jobconsole operations console: live tasks, workers, monitors and logs.

The App owns the shared state (connection, counts, pause) and the one background
watcher that turns LISTEN/NOTIFY into `Changed` messages for the visible screen.
Screens live in their own modules; none of them runs SQL (see source.py).
"""
import gc
import time

from textual import work
from textual.worker import get_current_worker
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive

from jobconsole import api
from jobconsole.errors import JobconsoleError, first_line

from .confirm import Confirm
from .help import Help, bindings_of
from .live_screen import LiveScreen
from .messages import Changed
from .source import Source
from .views.operations import OperationsView
from .views.overview import OverviewView
from .views.processes import MonitorsView, WorkersView
from .views.queues import QueuesView
from .views.schedules import SchedulesView
from .views.tasks import TasksView

COUNTS_EVERY = 1.0   # seconds between two counts of tasks by status, at least
PREFETCH_WAIT = 0.15  # seconds a view switch waits for the view's fresh rows, at most
PREPARE_AFTER = 1.0   # seconds after the start: the overview is built while the console idles
EVERYTHING = frozenset({"task", "log", "worker", "monitor", "operation", "schedule", "queue"})

# What each action says once done, by its name: the name of the Source method that
# performs it, and of the key bindings that ask for it (`unprepare` is ctrl+d's
# `delete` in the schedules view, `resume_schedule` the `s` key on a paused one).
_DONE = {
    "abort": "task {} {}",
    "relaunch": "task {} relaunched as {}",
    "delete": "task {} deleted",
    "kill_worker": "worker {} will be killed",
    "shutdown_worker": "worker {} will stop after its current task",
    "stop_monitor": "monitor {} asked to stop",
    "run_schedule": "schedule {} queued task {}",
    "pause_schedule": "schedule {} paused",
    "resume_schedule": "schedule {} resumed",
    "unprepare": "schedule {} deleted",
}
# actions that change something: hidden and refused with --read-only
DESTRUCTIVE = frozenset(_DONE) | {"start_monitor"}


class JobConsole(App):
    TITLE = "jobconsole"
    CSS = """
    #view-title { background: $boost; color: $text; padding: 0 1; width: 100%; height: 1; }
    #filter { height: 3; }
    #filter-error { color: $error; padding: 0 1; }
    """
    MODES = {"overview": OverviewView, "tasks": TasksView, "workers": WorkersView, "monitors": MonitorsView,
             "schedules": SchedulesView, "operations": OperationsView, "queues": QueuesView}
    BINDINGS = [
        Binding("0", "switch_mode('overview')", "Overview", id="app.overview"),
        Binding("1", "switch_mode('tasks')", "Tasks", id="app.tasks"),
        Binding("2", "switch_mode('workers')", "Workers", id="app.workers"),
        Binding("3", "switch_mode('monitors')", "Monitors", id="app.monitors"),
        Binding("4", "switch_mode('schedules')", "Schedules", show=False, id="app.schedules"),
        Binding("5", "switch_mode('operations')", "Operations", show=False, id="app.operations"),
        Binding("6", "switch_mode('queues')", "Queues", show=False, id="app.queues"),
        Binding("colon", "command_palette", "Jump", show=False, id="app.jump"),
        Binding("m", "start_monitor", "Start monitor", id="app.start_monitor"),
        Binding("p", "toggle_pause", "Pause", id="app.pause"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q,ctrl+q", "quit", "Quit", id="app.quit"),
    ]

    # the widgets that show these watch them; a repaint of the whole screen at every
    # count (what an app's reactive does by default) cost an idle console 2% of a core
    counts = reactive(dict, always_update=True, repaint=False)
    connection = reactive("", repaint=False)
    paused = reactive(False, repaint=False)
    problem = reactive(None, repaint=False)

    def __init__(self, dsn, *, read_only=False, refresh=5.0, owner=None, watch=True,
                 keymap=None):
        super().__init__()
        self.user_keymap = keymap or {}     # the user's {binding id: keys} (keymap.py)
        self.source = Source(dsn, owner=owner)
        self.read_only = read_only
        self.refresh_every = refresh
        self.timing = api.timing()
        self._watch = watch
        self._last_change = 0.0
        self._counts_at = 0.0
        self._counts_timer = None
        self._changes = {}      # changes dispatched so far, by kind
        self._switches = 0      # view switches asked for: the last one wins

    def on_mount(self):
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.connection = self.source.name
        self.switch_mode("tasks")
        self.open_on_overview_if_empty()
        self.request_counts()
        if self._watch:
            self.watch_database()
        self.set_interval(self.refresh_every, self.fallback_refresh)
        # what exists once the first screen is up (Textual, the modules, the screens)
        # lives as long as the app: kept out of the collector's full passes, which
        # otherwise stall a key now and then (65 ms each, against 7-10 ms frozen)
        self.call_after_refresh(gc.freeze)
        self.set_timer(PREPARE_AFTER, self.prepare_overview)

    def prepare_overview(self):
        """Build the overview, hidden, while the console idles after its first screen.
        A first visit otherwise composes it while the user waits: 200-260 ms at a million
        tasks (its widgets' styles, its footer), where switching to a built one takes
        15-25 ms (bench/console_scale.py). Textual has no public call that builds a mode's
        screen without showing it: without this one, the first visit builds it."""
        if not self.is_running:
            # the timer fires on its own task: while the app shuts down, a new screen
            # stack would change Textual's dict of stacks as it closes them (a
            # RuntimeError at exit; CI saw it once in a thousand tests)
            return
        build = getattr(self, "_init_mode", None)
        if build is None or self.built("overview"):    # the console opened on it
            return
        styles = getattr(self, "_css_update_count", None)
        build("overview")
        [screen] = self.built("overview")
        if styles is not None and hasattr(screen, "_css_update_count"):
            # Textual restyles the whole app at a screen's first showing (the stylesheet
            # parsed again, every node of every view updated: 60-100 ms at a million
            # tasks) unless the screen is marked styled as of the app's stylesheet. Its
            # widgets took their styles from that stylesheet as they mounted, and a later
            # change of theme moves the app's count past this one, as Textual expects.
            screen._css_update_count = styles

    def built(self, mode):
        """The screens of view `mode`: none before it is first visited or built."""
        try:
            return self.get_screen_stack(mode)
        except KeyError:
            return []

    @work(thread=True, group="first-view")
    def open_on_overview_if_empty(self):
        """With no task to list, the overview says more than an empty table."""
        try:
            empty = not self.source.tasks(limit=1)
        except JobconsoleError:
            return
        if empty:
            self.call_from_thread(self._open_overview)

    def _open_overview(self):
        # unless the user went elsewhere, or opened something, or quit, meanwhile
        # (a view's first visit during the shutdown meets prepare_overview's race)
        if self.is_running and self._switches == 1 and isinstance(self.screen, TasksView):
            self.switch_mode("overview")

    # -- liveness -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="watch")
    def watch_database(self):
        """Forward notifications as `Changed`; reconnect with a back-off when lost."""
        worker = get_current_worker()
        watcher = api.watch(self.source.dsn)
        delay = 1.0
        lost = False
        while not worker.is_cancelled:
            try:
                kinds = watcher.wait(1.0)
                delay = 1.0
                if lost:     # back: whatever happened meanwhile, read it all again
                    lost, kinds = False, set(EVERYTHING)
            except Exception as exc:     # a lost connection, a stopped server
                lost = True
                watcher.close()
                message = str(exc) if isinstance(exc, JobconsoleError) else \
                    f"lost the database: {first_line(exc)}"
                self.call_from_thread(self.report_problem, f"{message} (retrying)")
                time.sleep(delay)
                delay = min(delay * 2, 15.0)
                continue
            if kinds:
                self.post_message(Changed(frozenset(kinds)))
        watcher.close()

    def switch_mode(self, mode):
        """Switch views; a view whose data changed while hidden is read first, so that
        it appears once, fresh, instead of painted stale and then again (on a big
        table each paint costs tens of milliseconds). A slow read does not hold the
        switch back for more than PREFETCH_WAIT."""
        stack = self.built(mode)    # none on a first visit: the view reads as it mounts
        target = stack[-1] if stack else None
        self._switches += 1
        if mode == self.current_mode or not isinstance(target, LiveScreen) \
                or self.paused or target.SHOW_AT_ONCE or not target.stale():
            return super().switch_mode(mode)
        switched, request, origin = False, self._switches, self.screen

        def switch():
            # only if no later key asked for another view, and nothing opened meanwhile
            nonlocal switched
            if not switched and request == self._switches and self.screen is origin:
                switched = True
                super(JobConsole, self).switch_mode(mode)
        target.reload(then=switch)
        self.set_timer(PREFETCH_WAIT, switch)
        return None

    def on_changed(self, message):
        self._last_change = time.monotonic()
        if self.paused:
            return
        self.report_problem(None)
        self.dispatch_change(message.kinds)

    def fallback_refresh(self):
        """The safety net: reload as if everything changed, unless paused or just done."""
        if not self.paused and time.monotonic() - self._last_change > self.refresh_every / 2:
            self.dispatch_change(EVERYTHING)

    def changes_of(self, kinds):
        """How many changes of these kinds were dispatched so far (a screen compares)."""
        return tuple(self._changes.get(k, 0) for k in sorted(kinds))

    def dispatch_change(self, kinds):
        for kind in kinds:
            self._changes[kind] = self._changes.get(kind, 0) + 1
        if "task" in kinds:
            self.request_counts()
        # only the visible screen reloads; a hidden one when it comes back (LiveScreen)
        try:
            screen = self.screen
        except ScreenStackError:     # between two modes
            return
        handler = getattr(screen, "on_changed", None)
        if handler is not None and not isinstance(screen, (Confirm, Help)):
            handler(kinds)

    def request_counts(self):
        """The counts come from counters, but each read is a thread and a repaint: at
        most once a second, however fast tasks change."""
        wait = self._counts_at + COUNTS_EVERY - time.monotonic()
        if wait <= 0:
            self._counts_at = time.monotonic()
            self.load_counts()
        elif not self._counts_timer:
            def due():
                self._counts_timer = None
                self.request_counts()
            self._counts_timer = self.set_timer(wait, due)

    @work(thread=True, exclusive=True, group="counts")
    def load_counts(self):
        try:
            counts = self.source.counts()
        except JobconsoleError as exc:
            self.call_from_thread(self.report_problem, str(exc))
            return
        if not get_current_worker().is_cancelled:   # a newer load is on its way
            self.call_from_thread(setattr, self, "counts", counts)

    def report_problem(self, text):
        self.problem = text

    def action_toggle_pause(self):
        self.paused = not self.paused
        if not self.paused:
            self.dispatch_change(EVERYTHING)

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action, parameters):
        if self.read_only and action in DESTRUCTIVE:
            return False    # hidden from the footer, and refused
        return True

    def confirm_then(self, question, action, ids, done=None):
        """Ask y/n (default no), then run `action` on each id off the UI thread."""
        if self.read_only:
            self.notify("read-only: actions are disabled", severity="warning")
            return

        def answered(yes):
            if yes:
                self.perform(action, ids)
                if done:
                    done()
        self.push_screen(Confirm(question), answered)

    @work(thread=True, group="actions")
    def perform(self, action, ids):
        template = _DONE[action]
        for oid in ids:
            try:
                result = getattr(self.source, action)(oid)
            except JobconsoleError as exc:
                self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
                continue
            self.call_from_thread(self.notify, template.format(oid, result), markup=False)

    def action_start_monitor(self):
        if self.read_only:
            self.notify("read-only: actions are disabled", severity="warning")
            return
        from .start_monitor import StartMonitor

        def chosen(choice):
            if choice:
                self.launch_monitor(*choice)
        self.push_screen(StartMonitor(), chosen)

    @work(thread=True, group="actions")
    def launch_monitor(self, domain, workers):
        try:
            pid, log = api.start_detached_monitor(self.source.dsn, domain, workers=workers)
        except OSError as exc:
            self.call_from_thread(self.notify, f"cannot start a monitor: {exc}", severity="error",
                                  markup=False)
            return
        self.call_from_thread(self.notify, f"monitor for {domain!r} started (pid {pid}, log {log})",
                                  markup=False)

    def get_system_commands(self, screen):
        """The command palette (`:` or ctrl+p): jump to a view, or run an app action."""
        for mode, help_text in (("overview", "throughput, backlog, failures, hosts"),
                                ("tasks", "all tasks, newest first"),
                                ("workers", "worker processes and their current task"),
                                ("monitors", "monitors on every host"),
                                ("schedules", "cron schedules"),
                                ("operations", "registered operations"),
                                ("queues", "queues of payloads, on every transport")):
            yield SystemCommand(f"Go to {mode}", help_text,
                                lambda mode=mode: self.switch_mode(mode))
        yield SystemCommand("Pause or resume live refresh", "p", self.action_toggle_pause)
        yield SystemCommand("Help", "every key, from the bindings", self.action_help)
        if not self.read_only:
            yield SystemCommand("Start a monitor on this host", "m", self.action_start_monitor)
            if getattr(screen, "filter_text", "") and hasattr(screen, "action_bulk"):
                for action, verb in (("abort", "Abort"), ("relaunch", "Relaunch"),
                                     ("delete", "Delete")):
                    yield SystemCommand(
                        f"{verb} all matching", f"every task the filter "
                        f"{screen.filter_text!r} matches now",
                        lambda action=action: screen.action_bulk(action))
        yield from super().get_system_commands(screen)

    def action_help(self):
        sections = [("Everywhere", bindings_of(self))]
        screen = self.screen
        own = bindings_of(screen)
        if own:
            sections.insert(0, (getattr(screen, "TITLE", "") or "This screen", own))
        self.push_screen(Help(sections, self.user_keymap))
