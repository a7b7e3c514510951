"""The console's table (console/widgets/live_table.py), on its own: rows by key, a
cursor that keys and clicks move and that stays on its row, a header that stays on top,
cells shown as the text they are, and a change of one cell that draws one row again."""
from rich.text import Text
from textual.app import App

from jobconsole.console.widgets.live_table import LiveTable

COLUMNS = [("id", "ID"), ("name", "NAME")]


def rows(n, name="task"):
    return [(i, [Text(str(i)), Text(f"{name} {i}")]) for i in range(n, 0, -1)]


class TableApp(App):
    def __init__(self):
        super().__init__()
        self.events = []

    def compose(self):
        yield LiveTable(COLUMNS)

    def on_live_table_row_highlighted(self, event):
        self.events.append(("highlighted", event.row_key))

    def on_live_table_row_selected(self, event):
        self.events.append(("selected", event.row_key))


def screen_lines(app):
    table = app.query_one(LiveTable)
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_keys_move_the_cursor_and_the_view_follows_it():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.focus()
        table.set_rows(rows(50))
        await pilot.pause()
        assert table.current_key == "50"
        await pilot.press("down", "down")
        assert table.current_key == "48"
        await pilot.press("pagedown")
        assert table.cursor_row == 2 + (table.size.height - 1)
        await pilot.press("end")
        await pilot.pause()
        assert table.current_key == "1"
        lines = screen_lines(app)
        assert lines[0].split() == ["ID", "NAME"]          # the header stays on top
        assert lines[-1].split() == ["1", "task", "1"]      # the last row is in view
        await pilot.press("home", "enter")
        assert app.events[-1] == ("selected", "50")


async def test_the_cursor_stays_on_its_row_when_rows_arrive_above_it():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.focus()
        table.set_rows(rows(5))
        await pilot.press("down", "down")
        assert table.current_key == "3"
        table.set_rows(rows(7))
        assert table.current_key == "3" and table.cursor_row == 4
        table.set_rows(rows(2))                 # its row is gone: the cursor stays in range
        await pilot.pause()
        assert table.cursor_row == 1 and app.events[-1] == ("highlighted", "1")


async def test_a_click_on_a_row_selects_it():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        app.query_one(LiveTable).set_rows(rows(5))
        await pilot.pause()
        await pilot.click(LiveTable, offset=(3, 3))        # the header, then rows 5, 4, 3
        assert app.events[-1] == ("selected", "3")


async def test_cells_are_shown_as_written_and_columns_fit_the_widest():
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(LiveTable)
        table.set_rows([(1, [Text("1"), Text("[b]not bold[/b]")]), (2, [Text("2"), Text("x")])])
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[1].split() == ["1", "[b]not", "bold[/b]"]
        assert lines[0].index("NAME") == lines[1].index("[b]")


async def test_a_changed_cell_draws_its_row_again_and_no_other():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.set_rows(rows(5))
        await pilot.pause()
        drawn = dict(table._strips)
        changed = rows(5)
        changed[2] = (3, [Text("3"), Text("tick 3")])      # as a ticking duration does
        table.set_rows(changed)
        await pilot.pause()
        assert screen_lines(app)[3].split() == ["3", "tick", "3"]
        kept = {key for key, strip in table._strips.items() if drawn.get(key) is strip}
        assert {key[0] for key in kept} == {"5", "4", "2", "1"}


class WideApp(App):
    COLUMNS = [("id", "ID"), ("status", "STATUS"), ("operation", "OPERATION"),
               ("owner", "OWNER"), ("category", "CATEGORY")]

    def compose(self):
        yield LiveTable(self.COLUMNS, cut={"operation", "owner", "category"})


async def test_free_text_columns_are_cut_to_fit_a_narrow_table_widest_first():
    app = WideApp()
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.query_one(LiveTable)
        table.set_rows([(1, [Text("1"), Text("failed"), Text("import_invoices_" * 3),
                             Text("alice"), Text("SLURM hydrology: Running " * 2)])])
        await pilot.pause()
        header, row = screen_lines(app)[:2]
        # every column keeps its place, the narrow ones whole, the long ones cut by "…"
        assert header.split()[:2] == ["ID", "STATUS"] and "OWNER" in header
        assert header.split()[-1].startswith("CATEG")
        assert row.split()[:2] == ["1", "failed"] and "alice" in row
        assert row.count("…") == 2 and len(row.rstrip()) <= 60
        await pilot.resize_terminal(200, 6)     # room again: nothing is cut
        await pilot.pause()
        assert "…" not in screen_lines(app)[1]
        assert ("import_invoices_" * 3) in screen_lines(app)[1]
