"""`python -m jobconsole.console`: the `jobconsole` command, for when its script is not
on PATH (detached monitors and tests start it this way, with the same interpreter)."""
from .cli import main

main()
