"""Help generated from the bindings themselves: what the keys say is what they do."""
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class Help(ModalScreen):
    DEFAULT_CSS = """
    Help { align: center middle; }
    Help > VerticalScroll { width: 72; max-height: 90%; border: thick $accent;
                            background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, sections, keymap=None):
        """sections: [(title, [Binding])]; keymap: the user's {binding id: keys}"""
        super().__init__()
        self.sections = sections
        self.keymap = keymap or {}

    def compose(self):
        with VerticalScroll():
            for title, bindings in self.sections:
                table = Table(title=title, title_justify="left", show_header=False,
                              box=None, padding=(0, 2))
                table.add_column(style="bold cyan", no_wrap=True)
                table.add_column()
                for binding in bindings:
                    keys = self.keymap.get(binding.id, binding.key)
                    keys = ", ".join(_key_name(k) for k in keys.split(","))
                    table.add_row(Text(keys), Text(binding.description or binding.action))
                yield Static(table)


def _key_name(key):
    names = {"slash": "/", "less_than_sign": "<", "greater_than_sign": ">", "space": "space",
             "question_mark": "?", "colon": ":", "escape": "esc"}
    return names.get(key, key)


def binding_ids():
    """Every binding id of the console's screens and widgets: what a keymap may name."""
    from . import app, bulk, confirm, start_monitor, task_screen
    from .views import operations, overview, processes, queues, schedules, table_view, tasks
    ids = set()
    for module in (app, bulk, confirm, start_monitor, task_screen, operations, overview,
                   processes, queues, schedules, table_view, tasks):
        for klass in vars(module).values():
            for binding in getattr(klass, "__dict__", {}).get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    ids.add("help.close")
    return ids


def bindings_of(obj):
    """The Binding objects jobconsole's classes declare (Textual's own are left out)."""
    seen, out = set(), []
    for klass in type(obj).__mro__:
        if not klass.__module__.startswith(f"{__package__}."):
            continue
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.key not in seen:
                seen.add(binding.key)
                out.append(binding)
    return out
