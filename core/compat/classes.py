"""Operations declared by subclassing, as rex.asynctask's workers and rex.job's executors
are: defining a subclass with a `name` declares the operation `name`, which
`jobconsole register-operations` records as it does `@task` functions."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import registry
from ..runtime import TaskRun


def declare(cls: type, method: str, call: Callable[[Any, TaskRun], None]) -> None:
    """Declare the operation `cls.name` when the class defines one: each of its tasks
    makes an instance of `cls` and runs `call(instance, task)`, with the instance's
    logging, stdout and stderr going to the task's log."""
    name = cls.__dict__.get("name")
    if name is None:
        return      # an abstract base, for others to subclass

    def run(task: TaskRun) -> None:
        with task.capturelogs(std=True):
            call(cls(), task)
    # the worker process imports the class's module to find its operation again
    run.__module__ = cls.__module__
    run.__qualname__ = f"{cls.__qualname__}.{method}"
    registry.task(name=name)(run)
