"""A table of rows updated by key, keeping the cursor on the same row, drawn line by
line (Textual's line API).

Textual's DataTable renders every visible cell again, through Rich, after any change
of any cell: 40-100 ms for a screenful at 120 columns, which was most of a key's time
on a big database and most of an idle console's CPU (the durations of running tasks
tick). Here each row is drawn once into a strip when it changes, and a repaint crops
the strips it has: a new page of rows costs one strip per row shown, a ticking
duration one strip.

Cells are Rich Text (console/cells.py: sanitised, never markup). Columns are as wide as
their widest cell or header. When they are wider together than the table, the widest
columns of free text (`cut`: an operation, an owner, a workflow) are cut to one width,
each cut cell ending in "…", so that the others keep their place on screen (a table
cut at its right edge hid the last ones, headers and all). Columns of short values (a
status, an error's kind, a time, a bar) are never cut: what does not fit then scrolls
sideways. The header stays on top as the rows scroll.
"""
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

PAD = 1     # blank columns on each side of a cell
NARROWEST = 8   # a cut column keeps this many cells: 'operati…' still says what it is


class LiveTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .live-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .live-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .live-table--even-row { background: $surface-darken-1 40%; }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus { background-tint: $foreground 5%; }
        &:focus > .live-table--header { background-tint: $foreground 5%; }
        &:focus > .live-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """
    COMPONENT_CLASSES = {"live-table--header", "live-table--even-row", "live-table--cursor"}
    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to another row (or the rows under it changed)."""

        def __init__(self, table, cursor_row, row_key):
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self):
            return self.table

    class RowSelected(RowHighlighted):
        """Enter, or a click, on a row."""

    def __init__(self, columns, cut=(), **kwargs):
        super().__init__(**kwargs)
        self._columns = list(columns)          # [(key, label)]
        self._cut = {i for i, (key, _) in enumerate(self._columns) if key in cut}
        self._index = {key: i for i, (key, _) in enumerate(self._columns)}
        self._order = []                       # row keys as shown
        self._cells = {}                       # row key -> tuple of cells
        self._widths = [cell_len(label) for _, label in self._columns]   # what cells need
        self._shown = list(self._widths)       # what they get: fitted to the table
        self._strips = {}                      # (row key, even, cursor) -> Strip
        self._header = None                    # the header's strip
        self._styles = None                    # (header, even row, cursor) Rich styles
        self.marked = set()                    # row keys marked with space
        self.cursor_row = 0

    # -- what views call ----------------------------------------------------------------

    @property
    def row_count(self):
        return len(self._order)

    @property
    def current_key(self):
        """The key of the row under the cursor, or None on an empty table."""
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def get_row(self, key):
        return list(self._cells[str(key)])

    def set_rows(self, rows):
        """rows: [(key, cells)] in display order. The cursor stays on its row's key."""
        keys = [str(k) for k, _ in rows]
        cells = {str(k): tuple(c) for k, c in rows}
        self.marked &= set(keys)
        if keys == self._order:
            changed = [k for k in keys if cells[k] != self._cells[k]]
            self._cells = cells
            if self._fit(changed):
                for key in changed:
                    self._forget(key)
                    self.refresh_lines(keys.index(key) + 1)
            return
        current = self.current_key
        # a row's strip stays good while its cells, its stripe and the widths do: rows
        # that arrive on top of a busy table leave the others' strips to be cropped
        self._strips = {k: strip for k, strip in self._strips.items()
                        if k[0] in cells and cells[k[0]] == self._cells.get(k[0])}
        self._order, self._cells = keys, cells
        self._fit(keys, shrink=True)
        self.virtual_size = Size(self._total_width(), len(keys) + 1)
        row = keys.index(current) if current in cells else min(self.cursor_row, len(keys) - 1)
        self._set_cursor(max(row, 0), announce=current not in cells)
        self.refresh()

    def update_cell(self, key, column, value):
        key = str(key)
        row = list(self._cells[key])
        row[self._index[column]] = value
        self._cells[key] = tuple(row)
        if self._fit([key]):
            self._forget(key)
            self.refresh_lines(self._order.index(key) + 1)

    def move_cursor(self, row, animate=False):
        self._set_cursor(row)

    # -- geometry -----------------------------------------------------------------------

    def _fit(self, keys, shrink=False):
        """Widen the columns for these rows' cells (or fit them anew, with `shrink`);
        False if the widths changed, in which case every strip is drawn again."""
        widths = [cell_len(label) for _, label in self._columns] if shrink else list(self._widths)
        for key in keys:
            for i, cell in enumerate(self._cells[key]):
                width = cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))
                if width > widths[i]:
                    widths[i] = width
        if widths == self._widths:
            return True
        self._widths = widths
        return self._fit_shown()

    def _fit_shown(self):
        """The columns' widths on screen: what their cells need, or, when that is more
        than the table has, the widest of the `cut` columns cut down to one width (the
        largest that fits, and no less than NARROWEST). False if they changed: every
        strip is drawn again."""
        room = self.scrollable_content_region.width - 2 * PAD * len(self._widths)
        shown = list(self._widths)
        if self._cut and room > 0 and sum(shown) > room:
            def fitted(cut):
                return [min(w, cut) if i in self._cut else w for i, w in enumerate(shown)]
            cut = max(shown[i] for i in self._cut)
            while cut > NARROWEST and sum(fitted(cut)) > room:
                cut -= 1
            shown = fitted(cut)
        if shown == self._shown:
            return True
        self._shown = shown
        self._strips.clear()
        self._header = None
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)
        self.refresh()
        return False

    def _total_width(self):
        return sum(w + 2 * PAD for w in self._shown)

    def _forget(self, key):
        for even in (False, True):
            for cursor in (False, True):
                self._strips.pop((key, even, cursor), None)

    @property
    def _page(self):
        return max(1, self.scrollable_content_region.height - 1)

    # -- the cursor ---------------------------------------------------------------------

    def _set_cursor(self, row, announce=True):
        row = max(0, min(row, len(self._order) - 1))
        old = self.cursor_row
        self.cursor_row = row
        self._scroll_to_cursor()
        if old != row:
            self.refresh_lines(old + 1)
            self.refresh_lines(row + 1)
        if (announce or old != row) and self._order:
            self.post_message(self.RowHighlighted(self, row, self._order[row]))

    def _scroll_to_cursor(self):
        top, page = round(self.scroll_y), self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def on_resize(self):
        self._fit_shown()
        self._scroll_to_cursor()

    def action_cursor_up(self):
        self._set_cursor(self.cursor_row - 1)

    def action_cursor_down(self):
        self._set_cursor(self.cursor_row + 1)

    def action_page_up(self):
        self._set_cursor(self.cursor_row - self._page)

    def action_page_down(self):
        self._set_cursor(self.cursor_row + self._page)

    def action_first(self):
        self._set_cursor(0)

    def action_last(self):
        self._set_cursor(len(self._order) - 1)

    def action_select_cursor(self):
        if self._order:
            self.post_message(self.RowSelected(self, self.cursor_row, self._order[self.cursor_row]))

    def on_click(self, event):
        row = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._order):
            self._set_cursor(row)
            self.action_select_cursor()

    def on_focus(self):
        # the cursor's colours depend on the focus, and nothing else does
        for key in [k for k in self._strips if k[2]]:
            del self._strips[key]
        self.refresh_lines(self.cursor_row + 1)

    on_blur = on_focus

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self):
        super().notify_style_update()
        self._styles = None
        self._strips.clear()
        self._header = None

    def _row_styles(self):
        if self._styles is None:
            self._styles = tuple(self.get_component_rich_style(name) for name in (
                "live-table--header", "live-table--even-row", "live-table--cursor"))
        return self._styles

    def _draw(self, cells, base, post=None):
        """One line: the cells, padded to their columns' widths, over `base`."""
        line = Text(no_wrap=True, end="")
        for width, cell in zip(self._shown, cells):
            text = cell if isinstance(cell, Text) else Text(str(cell))
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            line.append(" " * PAD)
            line.append_text(text)
            line.append(" " * (width - text.cell_len + PAD))
        segments = line.render(self.app.console)
        segments = Segment.apply_style(segments, base, post)
        return Strip(segments, self._total_width())

    def _header_strip(self):
        if self._header is None:
            header = self._row_styles()[0]
            self._header = self._draw([Text(label) for _, label in self._columns], header)
        return self._header

    def _row_strip(self, index):
        key = self._order[index]
        even, cursor = index % 2 == 0, index == self.cursor_row
        found = self._strips.get((key, even, cursor))
        if found is None:
            _, even_style, cursor_style = self._row_styles()
            base = self.rich_style + (even_style if even else Style())
            found = self._draw(self._cells[key], base, cursor_style if cursor else None)
            self._strips[(key, even, cursor)] = found
        return found

    def render_line(self, y):
        width = self.scrollable_content_region.width
        left = round(self.scroll_x)
        if y == 0:
            strip, style = self._header_strip(), self._row_styles()[0]
        else:
            index = round(self.scroll_y) + y - 1
            if index >= len(self._order):
                return Strip.blank(width, self.rich_style)
            strip = self._row_strip(index)
            _, even_style, cursor_style = self._row_styles()
            style = self.rich_style + (even_style if index % 2 == 0 else Style())
            if index == self.cursor_row:
                style += cursor_style
        return strip.crop(left, left + width).extend_cell_length(width, style)
