"""jobconsole: a PostgreSQL job queue with monitors, workers and an operations console.

This folder (core/) is the package's headless part: no module of it imports the
`console` subpackage (the console/ folder) or Textual, which an import-linter contract
checks (tests/test_architecture.py). Users write `from jobconsole import api`.
"""
from . import api
from .errors import JobconsoleError

__all__ = ["api", "JobconsoleError"]
