"""A banner across the top while the database cannot be reached; gone when it can."""
from rich.text import Text
from textual.widgets import Static


class Banner(Static):
    DEFAULT_CSS = """
    Banner { display: none; height: auto; background: $error; color: $text; padding: 0 1;
             text-style: bold; }
    """

    def on_mount(self):
        self.watch(self.app, "problem", self._show)

    def _show(self, problem):
        self.display = bool(problem)
        if problem:
            self.update(Text(f"⚠ {problem}"))   # the text of an error is not markup
