"""The overview (key 0): the whole system at a glance. Tasks ended per minute over the
last hour (done, failed, aborted), the rates over 5 and 60 minutes, the backlog per
domain and its last hour, each operation's failure rate and durations, and the workers
and load of each host, with its busy workers' last hour. Every figure comes from
api.stats, which reads counters and samples, not the task table; the screen reloads on
changes at most every THROTTLE seconds, and every POLL seconds for the clock's sake
(ages grow and minutes pass without any notification)."""
import time

from rich.table import Table
from rich.text import Text
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Label, Sparkline, Static

from .. import cells
from ..live_screen import LiveScreen
from ..render import bar, seconds_text, upto
from ..widgets.banner import Banner
from ..widgets.status_bar import StatusBar

POLL = 10.0     # ages grow and minutes pass without a notification
THROTTLE = 1.0
MOST_CHARTS = 6     # domains, or hosts, charted (the busiest; the tables list them all)


class OverviewView(LiveScreen):
    WATCHES = frozenset({"task", "worker", "monitor"})
    # charts and counts of the last hour: seconds old for one frame, they mislead no
    # one, and waiting for the read first cost the switch 15-25 ms of the 100 allowed
    SHOW_AT_ONCE = True
    DEFAULT_CSS = """
    OverviewView .chart-label { width: 22; padding: 0 1; }
    OverviewView Sparkline { width: 1fr; height: 2; margin: 0 1 0 0; }
    OverviewView #done-chart > .sparkline--max-color { color: $success; }
    OverviewView #failed-chart > .sparkline--max-color { color: $error; }
    OverviewView #aborted-chart > .sparkline--max-color { color: $warning; }
    OverviewView .chart-row { height: 2; }
    OverviewView .history { height: auto; margin-bottom: 1; }
    OverviewView #backlog-history Sparkline > .sparkline--max-color { color: $warning; }
    OverviewView #busy-history Sparkline > .sparkline--max-color { color: $accent; }
    OverviewView .history-title { text-style: bold; padding: 0 1; }
    OverviewView #rates { padding: 0 1; height: auto; margin-bottom: 1; }
    OverviewView .section { padding: 0 1; height: auto; margin-bottom: 1; }
    """

    def __init__(self):
        super().__init__()
        self._last_load = 0.0
        self._charted = {}      # history's id -> the names it charts, in order
        self._shown = {}        # widget's selector -> the figures it shows

    def compose(self):
        yield Banner()
        with Vertical():
            yield Label("Overview  ·  the last hour", id="view-title")
            with VerticalScroll():
                for kind in ("done", "failed", "aborted"):
                    with Horizontal(classes="chart-row"):
                        yield Label(f"{kind} / min", classes="chart-label", id=f"{kind}-label")
                        yield Sparkline([0] * 60, id=f"{kind}-chart")
                yield Static("", id="rates")
                yield Static("", id="backlog", classes="section")
                yield Vertical(id="backlog-history", classes="history")
                yield Static("", id="operations", classes="section")
                yield Static("", id="hosts", classes="section")
                yield Vertical(id="busy-history", classes="history")
        yield StatusBar()
        yield Footer()

    def on_mount(self):
        self.reload()
        self.set_interval(POLL, self._poll)

    def _poll(self):
        if self.is_current and not self.app.paused:
            self.reload()

    def on_changed(self, kinds):
        # a busy queue changes many times a second: the figures need not
        if kinds & self.WATCHES and time.monotonic() - self._last_load >= THROTTLE:
            self.reload()

    def outdated(self):
        # minutes pass and ages grow with nothing announced: shown after a while away,
        # it reads again even when no task changed
        return self.stale() or time.monotonic() - self._last_load >= POLL

    def fetch(self):
        self._last_load = time.monotonic()
        return self.app.source.stats()

    def show(self, figures):
        for i, kind in enumerate(("done", "failed", "aborted"), start=1):
            series = [m[i] for m in figures.minutes]
            self.query_one(f"#{kind}-chart", Sparkline).data = series
            now = series[-1] if series else 0
            self._update(f"#{kind}-label", Label, lambda: f"{kind} / min  {now:>5}", now)
        rates = [figures.rates[window] for window in ("5m", "60m")]
        self._update("#rates", Static, lambda: _rates(rates),
                     [f"{r:.2f}" for window in rates for r in window])
        backlog = [(d, q, w, "" if age is None else seconds_text(age))
                   for d, q, w, age in figures.backlog]
        self._update("#backlog", Static, lambda: _table(
            "Backlog", ["domain", "queued", "waiting", "oldest queued"], backlog,
            "nothing queued or waiting"), backlog)
        self._update("#operations", Static, lambda: _table(
            "Operations, last hour", ["operation", "ended", "failed", "failure rate", "p50", "p95"],
            [(name, ended, failed, _bar(rate * 100, label=f"{rate * 100:.1f}%", warn=1,
                                        alarm=10), upto(p50), upto(p95))
             for name, ended, failed, rate, p50, p95 in figures.operations],
            "no task ended in the last hour"), figures.operations)
        self._update("#hosts", Static, lambda: _table(
            "Hosts", ["host", "busy", "idle", "cpu", "memory"],
            [(host, busy, idle, _bar(cpu), _bar(mem)) for host, busy, idle, cpu, mem
             in figures.hosts], "no monitor runs"),
            [(h, b, i, round(c or 0), round(m or 0)) for h, b, i, c, m in figures.hosts])
        self._history("backlog-history", figures.backlog_history,
                      "Backlog (queued and waiting), the last hour")
        self._history("busy-history", figures.busy_history, "Busy workers, the last hour")

    def _update(self, selector, kind, made, shown):
        """Give a widget new content only when what it shows has changed: each update
        lays the whole screen out again (a height may change), which an overview left
        open would otherwise do at every poll, for figures that moved by nothing."""
        if self._shown.get(selector) != shown:
            self._shown[selector] = shown
            self.query_one(selector, kind).update(made())

    def _history(self, box_id, series, title):
        """A Sparkline of the last hour for each of the busiest names (domains, hosts),
        made or dropped as they come and go; beside it the name, and the figure now and
        at its highest (a Sparkline spans its own lowest to highest)."""
        names = sorted(series, key=lambda n: (-max(series[n], default=0), n))[:MOST_CHARTS]
        box = self.query_one(f"#{box_id}", Vertical)

        def label(name):
            text = cells.cell(name)
            text.truncate(20, overflow="ellipsis")
            return text.append(f"\n{series[name][-1]} now · {max(series[name])} max")
        if names != self._charted.get(box_id):
            # made with their figures: removed rows leave the DOM only later
            self._charted[box_id] = names
            box.remove_children()
            if names:
                box.mount(Label(title, classes="history-title"))
            box.mount_all(Horizontal(Label(label(n), classes="chart-label"),
                                     Sparkline(series[n]), classes="chart-row")
                          for n in names)
            return
        for row, name in zip(box.query(".chart-row"), names):
            if row.query_one(Sparkline).data != series[name]:
                row.query_one(Label).update(label(name))
                row.query_one(Sparkline).data = series[name]


def _rates(rates):
    text = Text()
    for window, (done, failed, aborted) in zip(("5m", "60m"), rates):
        text.append(f"last {window:>3}: ", "bold")
        text.append(f"{done:.2f}/s done  ", "green")
        text.append(f"{failed:.2f}/s failed  ", "red")
        text.append(f"{aborted:.2f}/s aborted\n", "yellow")
    return text


def _table(title, headers, rows, empty):
    """A Rich table whose cells are Text: names come from users, never read as markup."""
    if not rows:
        return Text(f"{title}: {empty}", style="dim")
    table = Table(title=title, title_justify="left", title_style="bold", expand=False,
                  box=None, padding=(0, 2, 0, 0), header_style="bold dim")
    for i, header in enumerate(headers):
        table.add_column(header.upper(), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in row))
    return table


def _bar(percent, width=10, label=None, warn=70, alarm=90):
    """The bar coloured by how high the share is (a host's load; an operation's failure
    rate, with lower thresholds), its figure plain."""
    if percent is None:
        return Text("")
    style = "red" if percent >= alarm else "yellow" if percent >= warn else "green"
    text = bar(percent, width, label)
    return Text(text[:width], style=style) + Text(text[width:])
