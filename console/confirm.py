"""A yes/no question for destructive actions; anything but `y` means no."""
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class Confirm(ModalScreen[bool]):
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: auto; max-width: 70; height: auto; border: thick $warning;
                         background: $surface; padding: 1 2; }
    Confirm #question { text-style: bold; }
    Confirm #keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape,enter", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question):
        super().__init__()
        self.question = question

    def compose(self):
        with Vertical():
            yield Label(self.question, id="question", markup=False)
            yield Label("y: yes    n / esc / enter: no", id="keys", markup=False)

    def action_answer(self, yes):
        self.dismiss(yes)
