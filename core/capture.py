"""Where a worker's raw output goes: never to the operator's terminal as written.

A worker inherits its monitor's stdout and stderr, often the terminal of `jobconsole
monitor` in the foreground, where one print of a task could set the title, write the
clipboard (OSC 52) or clear the screen. So `start` points file descriptors 1 and 2 of
the worker process at a pipe the worker reads itself: what the task, a C extension or
a child process writes there is caught, not only `sys.stdout`. Complete lines go to the
running task's log (stored as written, like every log line); written outside a task
(an operations module printing at import, a thread outliving its task), they go to the
monitor's log, sanitised, under the worker's name. The worker's own messages (`say`)
take that way too.

Reading in the worker, not in the monitor: only the worker knows which task a line
belongs to, and a worker killed with SIGKILL takes its reader with it, so nothing in the
monitor waits on a pipe whose writers may outlive it (a task's orphaned children).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import os
import select
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from .sanitize import sanitize

if TYPE_CHECKING:
    from .runtime import LogBuffer

MAX_LINE = 16384   # bytes of a line kept; a runaway line without newline is cut here
_CHUNK = 65536
_CHUNKS = 16       # chunks read per turn: a flood cannot keep the lock from the other reader

_active: Capture | None = None


class Capture:
    def __init__(self, buffer: LogBuffer, label: str, echo: bool = False) -> None:
        self.buffer = buffer
        self.label = label
        self.echo = echo
        self.lock = threading.Lock()   # one reader at a time: the pump, or the task's end
        self.partial = bytearray()
        self.dropped = 0               # bytes of the current line past MAX_LINE
        self.closing = False
        for fd in (1, 2):
            # a closed descriptor would be reused by the pipe below, and clobbered
            try:
                os.fstat(fd)
            except OSError:
                os.open(os.devnull, os.O_WRONLY)
        _flush_all()
        self.real = os.dup(2)          # the monitor's stderr: its terminal or its log file
        read, write = os.pipe()
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.close(write)
        os.set_blocking(read, False)
        self.read_fd = read
        self.ready = select.poll()     # cheaper than a read that fails, twice per task
        self.ready.register(read, select.POLLIN)
        # Python buffers a pipe in blocks: a print would reach the log only at the task's end
        for stream in (sys.__stdout__, sys.__stderr__):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(line_buffering=True)
        threading.Thread(target=self._pump, name="jobconsole-capture", daemon=True).start()
        # a traceback that kills the worker is written after its last task: have it too
        atexit.register(self.close)

    def _pump(self) -> None:
        while True:
            select.select([self.read_fd], [], [])
            with self.lock:
                if not self._read():
                    return

    def settle(self) -> None:
        """Read and route what was written so far, the last partial line too: at a
        task's end its lines are its own, and none is taken for the next one's."""
        _flush_all()
        with self.lock:
            self._read()
            if self.partial or self.dropped:
                self._emit()

    def close(self) -> None:
        self.closing = True
        self.settle()

    def _read(self) -> bool:
        """Route what the pipe holds (a bounded amount); False at its end."""
        for _ in range(_CHUNKS):
            if not self.ready.poll(0):
                return True
            try:
                chunk = os.read(self.read_fd, _CHUNK)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            *complete, rest = chunk.split(b"\n")
            for piece in complete:
                self._add(piece)
                self._emit()
            self._add(rest)
        return True

    def _add(self, piece: bytes) -> None:
        room = MAX_LINE - len(self.partial)
        self.partial += piece[:room]
        self.dropped += max(0, len(piece) - room)

    def _emit(self) -> None:
        line = self.partial.decode("utf-8", errors="replace")
        if self.dropped:
            line += f"… [{self.dropped} more bytes]"
        self.partial.clear()
        self.dropped = 0
        if self.buffer.task_id is not None and not self.closing:
            self.buffer.add(line)
            if self.echo:
                self.say(line)
        else:
            self.say(f"{self.label}: {line}")

    def say(self, text: str) -> None:
        data = (sanitize(text, keep_colours=False) + "\n").encode("utf-8", errors="replace")
        with contextlib.suppress(OSError):    # a closed terminal must not kill the worker
            while data:
                data = data[os.write(self.real, data):]


class _ToMonitor(io.TextIOBase):
    """A text stream whose lines go to the monitor's log (a task's `tee`)."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._capture.say(f"{self._capture.label}: {line}")
        return len(text)


def start(buffer: LogBuffer, label: str, echo: bool = False) -> None:
    """Capture this process's fds 1 and 2 for good: lines go to the task `buffer` names
    as running, else to the monitor's log as `label: line`. With `echo`, a task's lines
    are shown there too, sanitised: a tmux worker's window, which an operator watches."""
    global _active
    _active = Capture(buffer, label, echo)


def settle() -> None:
    if _active is not None:
        _active.settle()


def say(text: str) -> None:
    """A line for the monitor's log, sanitised: the worker's real stderr, never a task's."""
    if _active is not None:
        _active.say(text)
    else:
        print(sanitize(text, keep_colours=False), file=sys.__stderr__, flush=True)


def outside(stream: TextIO) -> TextIO:
    """Where a task's tee goes: `stream`, unless that is captured (then the monitor's
    log, or the lines would come back into the task log twice)."""
    return stream if _active is None else _ToMonitor(_active)  # type: ignore[return-value]


def _flush_all() -> None:
    for stream in (sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()   # type: ignore[union-attr]
    if _libc is not None:
        _libc.fflush(None)   # C stdio buffers of extensions: a pipe is block-buffered too


try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(None)
except OSError:
    _libc = None
