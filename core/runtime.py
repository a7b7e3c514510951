"""What an operation sees while it runs: its input, its output, its log.

`TaskRun` is the argument every operation receives. Log lines are collected in a
`LogBuffer`, which the worker drains in batches: a background thread writes them every
few tenths of a second, and whatever is left goes out with the task's final status in
the same statement, so a finished task always has its whole log.
"""
from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple, TextIO

from . import capture
from .limits import check_size
from .tasks import to_json_text


class Lines(NamedTuple):
    """Log lines as the statements that write them take them (transitions._LOG_ROWS)."""
    log_tasks: list[int]
    ts: list[float]
    lines: list[str]
    sources: list[str | None]

    def only(self, task_ids: set[int]) -> Lines:
        """The lines of these tasks."""
        keep = [i for i, t in enumerate(self.log_tasks) if t in task_ids]
        return Lines([self.log_tasks[i] for i in keep], [self.ts[i] for i in keep],
                     [self.lines[i] for i in keep], [self.sources[i] for i in keep])


class LogBuffer:
    """Thread-safe list of log lines waiting to be written: (task id, timestamp, line,
    source), the source as log.source has it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[tuple[int, float, str, str | None]] = []
        self.task_id: int | None = None
        # task id -> (done, total, message), the latest only
        self._progress: dict[int, tuple[float, float | None, str | None]] = {}
        self._facets: dict[int, dict[str, Any]] = {}   # facet keys set since the last write

    def set_progress(self, task_id: int, done: float, total: float | None,
                     message: str | None) -> None:
        with self._lock:
            self._progress[task_id] = (done, total, message)

    def merge_facet(self, task_id: int, values: dict[str, Any]) -> None:
        with self._lock:
            self._facets.setdefault(task_id, {}).update(values)

    def take_state(self) -> tuple[list[tuple[int, float, float | None, str | None]],
                                  list[tuple[int, str]]]:
        """([(task id, done, total, message)], [(task id, facet json)]), emptying both."""
        with self._lock:
            progress, self._progress = self._progress, {}
            facets, self._facets = self._facets, {}
        return ([(tid, *p) for tid, p in progress.items()],
                # each key was checked when set; their sum, a facet, is the task's to make
                [(tid, to_json_text(f, "facet", limited=False)) for tid, f in facets.items()])

    def add(self, line: str, source: str | None = None) -> None:
        task_id = self.task_id
        if task_id is None:     # a thread still printing after its task ended
            return
        line = storable(line)
        with self._lock:
            self._lines.append((task_id, time.time(), line, source))

    def take_all(self) -> Lines:
        """Everything buffered, as parallel lists, emptying it."""
        with self._lock:
            lines, self._lines = self._lines, []
        return Lines([r[0] for r in lines], [r[1] for r in lines], [r[2] for r in lines],
                     [r[3] for r in lines])

    def put_back(self, taken: Lines) -> None:
        """Lines taken that could not be written: first again, in their order."""
        with self._lock:
            self._lines[:0] = list(zip(taken.log_tasks, taken.ts, taken.lines, taken.sources))

    def pending(self) -> bool:
        """Anything to write: log lines, progress or facet."""
        return bool(self._lines or self._progress or self._facets)


def storable(text: str) -> str:
    """`text` as PostgreSQL can store it: NUL and lone surrogates (undecodable bytes
    from a file name, say) become U+FFFD; everything else stays as written."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:   # a str code point in D800-DFFF is always a lone one
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


class _LineWriter(io.TextIOBase):
    """A text stream that turns writes into log lines (partial lines wait for '\\n')."""

    def __init__(self, buffer: LogBuffer, source: str, tee: TextIO | None = None) -> None:
        self._buffer = buffer
        self._source = source
        self._partial = ""
        self._tee = tee

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._tee is not None:
            self._tee.write(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._buffer.add(line, self._source)
        return len(text)

    def flush(self) -> None:
        if self._tee is not None:
            self._tee.flush()

    def close_line(self) -> None:
        if self._partial:
            self._buffer.add(self._partial, self._source)
            self._partial = ""


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: LogBuffer, level: int) -> None:
        super().__init__(level)
        self._buffer = buffer
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            source = f"{record.name}:{record.levelname}"
            for line in self.format(record).split("\n"):
                self._buffer.add(line, source)
        except Exception:
            self.handleError(record)


class TaskRun:
    """The running task handed to an operation."""

    def __init__(self, tid: int, operation: str, input: Any, raw_input: bytes | None,
                 metadata: dict | None, attempt: int, buffer: LogBuffer,
                 owner: str | None = None) -> None:
        self.id = tid
        self.operation = operation
        self.owner = owner
        self._input = input
        self.raw_input = raw_input
        self.metadata = metadata
        self.attempt = attempt
        self._buffer = buffer
        self._output: str | None = None
        self._raw_output: bytes | None = None

    @property
    def input(self) -> Any:
        """The JSON input, or the raw bytes when the task was given `rawinput`."""
        return self.raw_input if self.raw_input is not None else self._input

    def save_output(self, value: Any, raw: bool = False) -> None:
        """Record the task's output: JSON-serialisable data, or bytes with raw=True."""
        if raw:
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise TypeError("save_output(raw=True) takes bytes")
            data = bytes(value)
            check_size(len(data), "raw output")
            self._raw_output, self._output = data, None
        else:
            self._output, self._raw_output = to_json_text(value, "output"), None

    def progress(self, done: float, total: float | None = None,
                 message: str | None = None) -> None:
        """Say how far the task is: `done` out of `total` (any unit), and a short note.
        Cheap to call often: the latest value reaches the database a few times a second.
        """
        if total is not None and total < 0 or done is None:
            raise ValueError("progress needs done, and a total of 0 or more")
        note = storable(str(message))[:500] if message is not None else None
        self._buffer.set_progress(self.id, float(done),
                                  float(total) if total is not None else None, note)

    def update_facet(self, **values: Any) -> None:
        """Publish JSON results while running (merged into the task's facet)."""
        to_json_text(values, "facet")       # refuse what cannot be stored, here and now
        self._buffer.merge_facet(self.id, values)

    def log(self, *parts: Any) -> None:
        """Write one line to the task's log (without capturing anything)."""
        self._buffer.add(" ".join(str(p) for p in parts))

    @contextlib.contextmanager
    def capturelogs(self, std: bool = False, level: int = logging.INFO,
                    tee: bool = False) -> Iterator[TaskRun]:
        """Send `logging` records (at `level` and above) and, with std=True, stdout and
        stderr to the task's log. With tee=True the monitor's log gets them too,
        sanitised. (In a worker, what is written to stdout and stderr outside this
        reaches the task's log anyway, through file descriptors 1 and 2: see capture.)
        """
        root = logging.getLogger()
        handler = _BufferHandler(self._buffer, level)
        saved_level = root.level
        root.addHandler(handler)
        if root.level == logging.NOTSET or root.level > level:
            root.setLevel(level)
        streams = []
        try:
            if std:
                out = _LineWriter(self._buffer, "stdout:INFO",
                                  capture.outside(sys.stdout) if tee else None)
                err = _LineWriter(self._buffer, "stderr:ERROR",
                                  capture.outside(sys.stderr) if tee else None)
                streams = [out, err]
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    yield self
            else:
                yield self
        finally:
            for stream in streams:
                stream.close_line()
            root.removeHandler(handler)
            root.setLevel(saved_level)

    def result(self) -> tuple[str | None, bytes | None]:
        """(json output text or None, raw bytes or None)."""
        return self._output, self._raw_output

