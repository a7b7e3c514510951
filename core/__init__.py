"""jobconsole's headless core: a PostgreSQL job queue with monitors and workers.

No Textual and no console import may appear below this package (an import-linter
contract checks it in CI).
"""
from . import api
from .errors import JobconsoleError

__all__ = ["api", "JobconsoleError"]
