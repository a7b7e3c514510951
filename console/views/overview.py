"""The overview (key 0): the whole system at a glance. Tasks ended per minute over the
last hour (done, failed, aborted), the rates over 5 and 60 minutes, the backlog per
domain, each operation's failure rate and durations, and the workers and load of each
host. Every figure comes from api.stats, which reads counters, not the task table; the
screen reloads on changes at most every THROTTLE seconds, and every POLL seconds for
the clock's sake (ages grow and minutes pass without any notification)."""
import time

from rich.table import Table
from rich.text import Text
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Label, Sparkline, Static

from ..live_screen import LiveScreen
from ..render import bar, seconds_text, upto
from ..widgets.banner import Banner
from ..widgets.status_bar import StatusBar

POLL = 5.0
THROTTLE = 1.0


class OverviewView(LiveScreen):
    WATCHES = frozenset({"task", "worker", "monitor"})
    DEFAULT_CSS = """
    OverviewView .chart-label { width: 22; padding: 0 1; }
    OverviewView Sparkline { width: 1fr; height: 2; margin: 0 1 0 0; }
    OverviewView #done-chart > .sparkline--max-color { color: $success; }
    OverviewView #failed-chart > .sparkline--max-color { color: $error; }
    OverviewView #aborted-chart > .sparkline--max-color { color: $warning; }
    OverviewView .chart-row { height: 2; }
    OverviewView #rates { padding: 0 1; height: auto; margin-bottom: 1; }
    OverviewView .section { padding: 0 1; height: auto; margin-bottom: 1; }
    """

    def __init__(self):
        super().__init__()
        self._last_load = 0.0

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
                yield Static("", id="operations", classes="section")
                yield Static("", id="hosts", classes="section")
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

    def fetch(self):
        self._last_load = time.monotonic()
        return self.app.source.stats()

    def show(self, figures):
        for i, kind in enumerate(("done", "failed", "aborted"), start=1):
            series = [m[i] for m in figures.minutes]
            self.query_one(f"#{kind}-chart", Sparkline).data = series
            self.query_one(f"#{kind}-label", Label).update(
                f"{kind} / min  {series[-1] if series else 0:>5}")
        rates = Text()
        for window in ("5m", "60m"):
            done, failed, aborted = figures.rates[window]
            rates.append(f"last {window:>3}: ", "bold")
            rates.append(f"{done:.2f}/s done  ", "green")
            rates.append(f"{failed:.2f}/s failed  ", "red")
            rates.append(f"{aborted:.2f}/s aborted\n", "yellow")
        self.query_one("#rates", Static).update(rates)
        self.query_one("#backlog", Static).update(_table(
            "Backlog", ["domain", "queued", "waiting", "oldest queued"],
            [(d, q, w, "" if age is None else seconds_text(age))
             for d, q, w, age in figures.backlog], "nothing queued or waiting"))
        self.query_one("#operations", Static).update(_table(
            "Operations, last hour", ["operation", "ended", "failed", "failure rate", "p50", "p95"],
            [(name, ended, failed, f"{rate * 100:.1f}%", upto(p50), upto(p95))
             for name, ended, failed, rate, p50, p95 in figures.operations],
            "no task ended in the last hour"))
        self.query_one("#hosts", Static).update(_table(
            "Hosts", ["host", "busy", "idle", "cpu", "memory"],
            [(host, busy, idle, _bar(cpu), _bar(mem)) for host, busy, idle, cpu, mem
             in figures.hosts], "no monitor runs"))


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


def _bar(percent, width=10):
    """The bar coloured by how loaded the host is, its figure plain."""
    if percent is None:
        return Text("")
    style = "red" if percent >= 90 else "yellow" if percent >= 70 else "green"
    text = bar(percent, width)
    return Text(text[:width], style=style) + Text(text[width:])
