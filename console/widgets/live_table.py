"""A DataTable that is updated by row key, keeping the cursor on the same row.

Rows whose key and position did not change get only their changed cells rewritten;
when the order changes (new rows on top, a different sort) the rows are rebuilt and the
cursor is put back on the row it was on.
"""
from textual.widgets import DataTable


class LiveTable(DataTable):
    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    """

    def __init__(self, columns, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._columns = columns            # [(key, label)]
        self._order = []                   # row keys as shown
        self._cells = {}                   # row key -> tuple of cells
        self.marked = set()                # row keys marked with space

    def on_mount(self):
        for key, label in self._columns:
            self.add_column(label, key=key)

    @property
    def current_key(self):
        """The key of the row under the cursor, or None on an empty table."""
        if not self._order or self.cursor_row is None or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def set_rows(self, rows):
        """rows: [(key, cells)] in display order."""
        keys = [str(k) for k, _ in rows]
        cells = {str(k): tuple(c) for k, c in rows}
        self.marked &= set(keys)
        if keys == self._order:
            for key in keys:
                old, new = self._cells[key], cells[key]
                for (column, _), before, after in zip(self._columns, old, new):
                    if before != after:
                        self.update_cell(key, column, after)
        else:
            current = self.current_key
            self.clear()
            for key in keys:
                self.add_row(*cells[key], key=key)
            if current in cells:
                self.move_cursor(row=keys.index(current), animate=False)
        self._order, self._cells = keys, cells
