"""The shape every list view shares: a live table, a filter, sorting, marks."""
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label

from jobconsole.errors import BadInput

from .. import cells
from ..live_screen import CHANGE_GAP, LiveScreen
from ..widgets.banner import Banner
from ..widgets.live_table import LiveTable
from ..widgets.status_bar import StatusBar


PAGE = 50                   # rows fetched at first (or a screenful and a few), and added
                            # when the cursor nears the end


class TableView(LiveScreen):
    FIELDS = []             # [columns.Column], as the CLI's listing has them
    SORTS = []              # column keys one may sort by, in `<` `>` order
    TITLE = ""
    FILTER_HINT = "filter (a leading ! inverts)"

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="view.filter"),
        Binding("less_than_sign", "sort(-1)", "Sort ←", id="view.sort_left"),
        Binding("greater_than_sign", "sort(1)", "Sort →", id="view.sort_right"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="view.clear_filter"),
    ]

    def __init__(self):
        super().__init__()
        self.filter_text = ""
        self.sort_index = 0
        self.descending = True
        self.limit = PAGE       # rows to fetch: the window grows as the cursor goes down
        self._full = False      # the last load filled the window: there may be more
        self._title = None      # the title shown

    def compose(self):
        yield Banner()
        with Vertical():
            yield Label(self.TITLE, id="view-title")
            yield Input(placeholder=self.FILTER_HINT, id="filter")
            yield Label("", id="filter-error")
            yield LiveTable(self.columns(), id="table", cut={c.key for c in self.FIELDS if c.cut})
        yield StatusBar()
        yield Footer()

    @property
    def table(self):
        return self.query_one(LiveTable)

    def on_mount(self):
        self.query_one("#filter").display = False
        self.query_one("#filter-error").display = False
        self.table.focus()
        self.update_title()
        self.reload()

    @on(LiveTable.RowHighlighted)
    def _near_the_end(self, event):
        # fetch only what can be seen; a cursor near the last row asks for the next page
        if self._full and event.cursor_row >= self.table.row_count - 10:
            self._full = False
            self.limit += PAGE
            self.reload()

    @on(LiveTable.RowSelected)
    def _row_selected(self, event):
        # the table takes `enter` itself; a view opts in with an `open` action
        if hasattr(self, "action_open"):
            self.action_open()

    # -- loading ------------------------------------------------------------------------

    def reload(self, then=None, restart=False):
        # a screenful and a few: what is read, and made into cells, at every change
        tables = self.query(LiveTable)
        if tables:
            self.limit = max(self.limit, tables.first().size.height + 10)
        super().reload(then, restart)

    def show(self, rows):
        self.table.set_rows([(self.key(r), self.cells(r)) for r in rows])
        self._full = len(rows) >= self.limit

    def key(self, row):
        return row.id

    def columns(self):
        """[(key, header)] of the table."""
        return [(c.key, c.header.upper()) for c in self.FIELDS]

    def cells(self, row):
        return [cells.cell(c.text(row), c.style_of(row)) for c in self.FIELDS]

    # -- filter and sort ----------------------------------------------------------------

    @property
    def sort_key(self):
        return self.SORTS[self.sort_index] if self.SORTS else None

    def update_title(self):
        parts = [self.TITLE]
        if self.sort_key:
            parts.append(f"sorted by {self.sort_key} {'↓' if self.descending else '↑'}")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.progress_note():
            parts.append(self.progress_note())
        if self.change_gap >= 2 * CHANGE_GAP:
            # a slow read is repeated less often: say so, or the rows look live
            gap = self.change_gap
            parts.append(f"changes read every {gap:.0f} s" if gap < 120
                         else f"changes read every {gap / 60:.0f} min")
        # the filter is typed by the user: text, never markup. One line always (the
        # CSS says so): a new title is painted without a layout of the screen
        title = Text("  ·  ".join(parts), no_wrap=True, overflow="ellipsis")
        if title != self._title:
            self._title = title
            self.query_one("#view-title", Label).update(title, layout=False)

    def action_filter(self):
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def check_filter(self, text):
        """Raise BadInput for a filter the view cannot use (the tasks' query language)."""

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event):
        text = event.value.strip()
        error = self.query_one("#filter-error", Label)
        try:
            if text:
                self.check_filter(text)
        except BadInput as exc:
            # said under the box, which keeps the text to mend; the rows stay
            error.update(Text(str(exc)))
            error.display = True
            return
        error.display = False
        self.filter_text = text
        self.limit = PAGE
        event.input.display = bool(self.filter_text)
        self.table.focus()
        self.query_changed()
        self.update_title()
        self.reload(restart=True)

    def action_clear_filter(self):
        box = self.query_one("#filter", Input)
        if box.has_focus or self.filter_text:
            box.value = ""
            box.display = False
            self.query_one("#filter-error").display = False
            self.filter_text = ""
            self.limit = PAGE
            self.table.focus()
            self.query_changed()
            self.update_title()
            self.reload(restart=True)

    def action_sort(self, step):
        """Move the sort to the previous or next column; at either end, reverse it."""
        if not self.SORTS:
            return
        new = self.sort_index + step
        if 0 <= new < len(self.SORTS):
            self.sort_index = new
        else:
            self.descending = not self.descending
        self.query_changed()
        self.update_title()
        self.reload(restart=True)

    def query_changed(self):
        """The filter or the sort changed (a view may start a new search)."""

    def progress_note(self):
        """What the title adds while a search is under way, or ''."""
        return ""

    def matches(self, *values):
        """Client-side filter for the small views (workers, monitors, operations)."""
        if not self.filter_text:
            return True
        invert = self.filter_text.startswith("!")
        needle = self.filter_text.lstrip("!").lower()
        found = any(needle in str(v).lower() for v in values if v is not None)
        return found != invert
