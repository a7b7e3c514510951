"""rex.job on jobconsole: the `job` table and `JobExecutor` (docs/architecture.md;
README "Coming from rex.asynctask and rex.job").

    from jobconsole.compat.rexjob import JobExecutor

The table is the view jobconsole.job (migration 013): inserting (owner, type, payload)
makes a task of the operation `type`, and deleting a job that has not started deletes
its task. So a job runs on any monitor that serves its type, with no daemon of its own,
and the console shows it as a task whose owner is the job's owner.
"""
from __future__ import annotations

import logging
from typing import Any, ClassVar

from ..errors import BadInput
from ..runtime import TaskRun
from . import classes

__all__ = ["JobExecutor"]


class JobExecutor:
    """Subclass with a `name` and `execute(self, code, owner, payload)`: defining the
    class declares the job type `name`. `self.logger` and what `execute` prints go to
    the task's log."""
    name: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.logger = logging.getLogger(f"rex.job.{self.name}")
        self._task: TaskRun | None = None
        self._facets: dict[str, dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        classes.declare(cls, "execute", _execute)

    def execute(self, code: int, owner: str | None, payload: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__}.execute")

    def update_facet(self, table: str, code: int, **values: Any) -> None:
        """Store `values` in the job's facet `table`, keeping the values stored there
        before: the console's task screen shows them under the table's name, and SQL
        reads them from jobconsole.job_facet."""
        if self._task is None or code != self._task.id:
            raise BadInput(f"update_facet: an executor stores the facets of the job it "
                           f"runs ({self._task.id if self._task else 'none'}), not of "
                           f"job {code!r}")
        if not isinstance(table, str) or not table:
            raise BadInput(f"update_facet: the table is a name, got {table!r:.60}")
        merged = {**self._facets.get(table, {}), **values}
        # the task's facet merges its top-level keys: the table's whole record goes
        self._task.update_facet(**{table: merged})
        self._facets[table] = merged


def _execute(executor: JobExecutor, task: TaskRun) -> None:
    executor._task = task
    executor.execute(task.id, task.owner, task.input)
