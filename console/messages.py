"""Messages from background workers to the widgets that own the UI state."""
from dataclasses import dataclass

from textual.message import Message


@dataclass
class Changed(Message):
    """Data of these kinds changed in the database ('task', 'log', 'worker', ...)."""
    kinds: frozenset


@dataclass
class Loaded(Message):
    """A view's rows, fetched off the UI thread, by its load number `generation`."""
    rows: list
    generation: int = 0
    seconds: float = 0.0    # how long the fetch took
