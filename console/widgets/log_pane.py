"""A task's log: follows new lines while at the bottom; any scroll up pauses it, and
the title counts the lines that arrived since; `f` resumes."""
from textual.widgets import RichLog

from ..cells import rich_line

MAX_LINES = 10_000


class LogPane(RichLog):
    DEFAULT_CSS = """
    LogPane { height: 1fr; border: round $accent; }
    """

    def __init__(self, **kwargs):
        super().__init__(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False,
                         auto_scroll=True, **kwargs)
        self.following = True
        self.unseen = 0
        self.last_id = 0
        self._title()

    def add(self, lines):
        """lines: [(id, text)] newer than last_id."""
        for lid, line in lines:
            self.write(rich_line(line), scroll_end=self.following)
            self.last_id = lid
        if not self.following:
            self.unseen += len(lines)
        self._title()

    def follow(self):
        self.following = True
        self.unseen = 0
        self.scroll_end(animate=False)
        self._title()

    def pause(self):
        if self.following:
            self.following = False
            self._title()

    def _title(self):
        state = "following (f)" if self.following else f"paused — {self.unseen} new (f: follow)"
        self.border_title = f"log · {state}"

    # any scroll by the user pauses following
    def on_mouse_scroll_up(self, event):
        self.pause()

    def action_scroll_up(self):
        self.pause()
        super().action_scroll_up()

    def action_page_up(self):
        self.pause()
        super().action_page_up()

    def action_scroll_home(self):
        self.pause()
        super().action_scroll_home()
