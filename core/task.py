"""A handle on a task, for the code that scheduled it: read its state, wait, abort."""
from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

from . import checks, db, tasks
from .records import FINISHED, Attempt, TaskInfo


class Task:
    """A task in the database. Every attribute read asks the database afresh."""

    def __init__(self, dsn: str, tid: int):
        # schedule_many makes a handle per task, a hundred thousand at a time: a str
        # dsn is taken as it is (api calls have checked theirs), the id is checked
        self.dsn = dsn if isinstance(dsn, str) else db.resolve(checks.dsn(dsn))
        self.id = checks.task_id(tid)

    @classmethod
    def byid(cls, dsn: Any, tid: int) -> Task:
        """rework's name for api.get_task: the Task with this id, or NotFound."""
        task = cls(dsn, tid)
        task.info()
        return task

    @property
    def tid(self) -> int:
        """rework's name for `id`."""
        return self.id

    def __repr__(self) -> str:
        return f"<Task {self.id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and (self.dsn, self.id) == (other.dsn, other.id)

    def __hash__(self) -> int:
        return hash((self.dsn, self.id))

    def info(self) -> TaskInfo:
        """Everything about the task but its log, as it is now."""
        with db.pooled(self.dsn) as conn:
            return tasks.get(conn, self.id)

    @property
    def state(self) -> str:
        with db.pooled(self.dsn) as conn:
            return str(tasks.status_of(conn, self.id))

    status = state

    @property
    def output(self) -> Any:
        info = self.info()
        return info.raw_output if info.raw_output is not None else info.output

    @property
    def input(self) -> Any:
        info = self.info()
        return info.raw_input if info.raw_input is not None else info.input

    @property
    def raw_input(self) -> bytes:
        """The input as stored: the bytes given as `rawinput`, else its JSON text in
        UTF-8 (rework's handle has it)."""
        info = self.info()
        if info.raw_input is not None:
            return bytes(info.raw_input)
        return tasks.to_json_text(info.input).encode()

    @property
    def traceback(self) -> str | None:
        return self.info().traceback

    @property
    def error_kind(self) -> str | None:
        return self.info().error_kind

    @property
    def metadata(self) -> dict | None:
        return self.info().metadata

    def dependencies(self) -> tuple[list[int], list[int]]:
        """(ids of the tasks this one waits for, ids of the tasks waiting for it)."""
        with db.pooled(self.dsn) as conn:
            return tasks.dependencies(conn, self.id)

    def attempts(self) -> list[Attempt]:
        """Its failed attempts that were retried, oldest first (Attempt); the task's own
        fields are its current or last attempt."""
        with db.pooled(self.dsn) as conn:
            return tasks.attempts(conn, self.id)

    def logs(self, fromid: int | None = None, limit: int | None = None,
             detailed: bool = False) -> list[tuple[Any, ...]]:
        """[(id, line)] in order; `fromid` returns only the lines after that id, and
        `limit` at most that many. `detailed`: [(id, line, time written, source)], the
        source being 'stdout:INFO', 'stderr:ERROR', '<logger>:<LEVEL>' or None (see
        capturelogs)."""
        checks.optional_count("fromid", fromid, 0, checks.INT8)
        checks.optional_count("limit", limit, 0, checks.INT8)
        checks.flag("detailed", detailed)
        with db.pooled(self.dsn) as conn:
            return tasks.logs(conn, self.id, after=fromid or 0, limit=limit, detailed=detailed)

    def abort(self) -> str:
        with db.pooled(self.dsn) as conn:
            return tasks.abort(conn, self.id)

    def join(self, timeout: float | None = None) -> Task:
        """Wait until the task is done, failed or aborted; returns self.

        Woken by the task's status notifications; a poll every second guards against
        a missed one. Raises TimeoutError after `timeout` seconds.
        """
        if timeout is not None:
            checks.number("timeout", timeout, 0, math.inf)
        deadline = None if timeout is None else time.monotonic() + timeout
        with db.connect(self.dsn) as conn:
            conn.execute("listen jobconsole_task")
            while tasks.status_of(conn, self.id) not in FINISHED:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"task {self.id} not finished after {timeout} s")
                self._wait_for_news(conn, deadline)
        return self

    def _wait_for_news(self, conn: Any, deadline: float | None) -> None:
        """Until a status notification names this task, for a second at most."""
        end = time.monotonic() + 1.0
        if deadline is not None:
            end = min(end, deadline)
        ids = str(self.id)
        while (left := end - time.monotonic()) > 0:
            for note in list(conn.notifies(timeout=left, stop_after=1)):
                if note.payload == "*" or ids in note.payload.split(","):
                    return

    def follow(self, fromid: int | None = None, poll: float = 1.0,
               detailed: bool = False) -> Iterator[tuple[Any, ...]]:
        """Yield (id, line) of the log as it is written, until the task has finished
        (`detailed`: as `logs` has it).

        Woken by `jobconsole_log` notifications; `poll` seconds is the safety net.
        """
        checks.optional_count("fromid", fromid, 0, checks.INT8)
        checks.number("poll", poll, 0, 3600, low_open=True)
        last = fromid or 0
        with db.connect(self.dsn) as conn:
            conn.execute("listen jobconsole_log")
            conn.execute("listen jobconsole_task")
            while True:
                # read the status before the lines: lines written before it finished
                # are then certain to be in the final read
                finished = tasks.status_of(conn, self.id) in FINISHED
                for row in tasks.logs(conn, self.id, after=last, detailed=detailed):
                    last = row[0]
                    yield row
                if finished:
                    return
                list(conn.notifies(timeout=poll, stop_after=1))
