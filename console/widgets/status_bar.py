"""One line at the bottom: counts by status, the database, live or paused."""
from rich.text import Text
from textual.widgets import Static

from jobconsole.records import TASK_STATUSES

from ..styles import STATUS_STYLES


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    _shown = None

    def on_mount(self):
        for name in ("counts", "connection", "paused", "problem"):
            self.watch(self.app, name, self._render_bar, init=False)
        self._render_bar()

    def _render_bar(self, _=None):
        app = self.app
        text = Text()
        for status in TASK_STATUSES:
            count = app.counts.get(status, 0)
            if count or status in ("queued", "running", "failed"):
                text.append(f"{status} ", style=STATUS_STYLES.get(status, ""))
                text.append(f"{count}  ")
        text.append("│ ", style="dim")
        text.append(app.connection, style="bold red" if app.problem else "dim")
        text.append("  │ ", style="dim")
        text.append("paused (p)" if app.paused else "live", style="yellow" if app.paused else "green")
        if app.read_only:
            text.append("  │ read-only", style="bold")
        # one line, always: no layout, and no repaint when nothing changed (an idle
        # console's refreshes must cost nothing on screen)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)
