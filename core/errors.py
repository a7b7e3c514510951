"""Errors a user can cause or fix, each with the exit code the CLI returns for it.

Anything raised as a JobconsoleError is shown as one line, never as a traceback:
it says what went wrong and, where it can, what to do about it.
"""


class JobconsoleError(Exception):
    exit_code = 1


class BadInput(JobconsoleError):
    """The caller gave something unusable: unparsable JSON, a bad option."""
    exit_code = 2


class QueryError(BadInput):
    """A task query (jobconsole.query) that does not parse: says what, and where."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


class NotFound(JobconsoleError):
    """An unknown task, worker, monitor or operation."""
    exit_code = 3


class DatabaseUnavailable(JobconsoleError):
    """Bad DSN, server down or unreachable, embedded server that will not start."""
    exit_code = 4


class SchemaError(JobconsoleError):
    """The jobconsole schema is missing, or from another version."""
    exit_code = 5


class Conflict(JobconsoleError):
    """The request is valid but the object's state forbids it (delete a running task)."""
    exit_code = 6


class Cancelled(JobconsoleError):
    """A call stopped by its caller, through the db.Cancel it was given (a search that
    the user has moved on from)."""


class EngineUnavailable(JobconsoleError):
    """Another engine a job runs on (Slurm's controller, a Dask scheduler) does not
    answer: nothing was submitted, and trying again later may work."""
    exit_code = 7


def first_line(exc: BaseException) -> str:
    """An error's message in one line (psycopg's run over several)."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
