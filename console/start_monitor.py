"""Ask for a domain and a number of workers, for a monitor started on this host."""
from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class StartMonitor(ModalScreen):
    DEFAULT_CSS = """
    StartMonitor { align: center middle; }
    StartMonitor > Vertical { width: 60; height: auto; border: thick $accent;
                              background: $surface; padding: 1 2; }
    StartMonitor Label { margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="start_monitor.cancel")]

    def compose(self):
        with Vertical():
            yield Label("Start a monitor on this host", markup=False)
            yield Label("Domain", markup=False)
            yield Input(value="default", id="domain")
            yield Label("Workers", markup=False)
            yield Input(value="2", id="workers", type="integer")
            yield Label("enter: start    esc: cancel", markup=False)

    @on(Input.Submitted)
    def _submitted(self):
        domain = self.query_one("#domain", Input).value.strip()
        workers = self.query_one("#workers", Input).value.strip()
        if not domain or not workers.isdigit() or int(workers) < 1:
            self.notify("give a domain and a number of workers (1 or more)", severity="error")
            return
        self.dismiss((domain, int(workers)))

    def action_cancel(self):
        self.dismiss(None)
