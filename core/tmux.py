"""Workers in windows of a tmux session, where an operator can attach and watch one run
(`tmux attach -t jobconsole`; myjobs' tmux workers).

Such a worker is not a child of its monitor but of the tmux server, so the monitor
handles it through `Window`, which answers what it asks of a child process (`pid`,
`poll`, `wait`). tmux runs the command itself, without a shell, so the pane's process
is the worker, the leader of its own process group as a child worker is: the monitor
signals and reaps that group alike. The window stays once the worker has ended
(remain-on-exit), so that its exit status can be read, and the monitor closes it then.
An operator who closes a window kills the worker in it (SIGHUP): the monitor finds the
window gone and records the worker dead, with the task it ran.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence

from . import hosts
from .errors import BadInput

SESSION = "jobconsole"
ENV_FILE = "JOBCONSOLE_ENV_FILE"
_TO_START = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LANG", "LC_ALL")


def check_installed() -> None:
    """Refuse, in one line, to start tmux workers where there is no tmux."""
    if shutil.which("tmux") is None:
        raise BadInput("tmux workers need tmux, which is not installed here "
                       "(apt install tmux, or use subprocess workers)")


def _tmux(socket: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["tmux"] + (["-L", socket] if socket else []) + list(args)
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=10)


class Window:
    """A worker running in a new window of `session` (created if need be)."""

    def __init__(self, session: str, socket: str | None, name: str, command: Sequence[str],
                 env: Mapping[str, str]) -> None:
        self.session, self.socket = session, socket
        self.returncode: int | None = None
        self.closed = False        # the window went away with the worker in it
        # The tmux server's environment is whoever started it first's: the worker needs
        # `env`, its monitor's (its settings, the database). Not on tmux's command line,
        # where any user's `ps` would read the database's password: in a file only
        # this user can read, which the worker reads and removes (worker.main). Only
        # what Python needs to start and find jobconsole goes on the command line.
        fd, path = tempfile.mkstemp(prefix="jobconsole-worker-", suffix=".env")
        with os.fdopen(fd, "w") as file:
            json.dump(dict(env), file)
        options = ["-d", "-n", name, "-P", "-F", "#{pane_id} #{pane_pid}",
                   "-e", f"{ENV_FILE}={path}"]
        for key in _TO_START:
            if key in env:
                options += ["-e", f"{key}={env[key]}"]
        # remain-on-exit in the same call: set later, a worker that died at once would
        # take its exit status with it
        keep = [";", "set-option", "-w", "-t", f"={session}:{name}", "remain-on-exit", "on"]
        made = _tmux(socket, "new-window", "-t", f"={session}:", *options, "--", *command, *keep)
        if made.returncode != 0:
            # no such session yet: it starts with this window (should another monitor
            # have made it meanwhile, the window goes in it)
            made = _tmux(socket, "new-session", "-s", session, *options, "--", *command, *keep)
            if made.returncode != 0 and "duplicate session" in made.stderr:
                made = _tmux(socket, "new-window", "-t", f"={session}:", *options, "--",
                             *command, *keep)
        if made.returncode != 0:
            os.unlink(path)
            raise OSError(f"tmux could not open a window: {made.stderr.strip()}")
        pane, pid = made.stdout.split()[:2]
        self.pane, self.pid = pane, int(pid)

    @property
    def where(self) -> str:
        socket = f" -L {self.socket}" if self.socket else ""
        return f"tmux{socket} session {self.session}, pane {self.pane}"

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if hosts.alive(self.pid, getattr(self, "pid_started", None)):
            return None
        listed = _tmux(self.socket, "list-panes", "-a", "-F",
                       "#{pane_id} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}")
        for line in listed.stdout.splitlines():
            pane, dead, status, sig = (line.split() + ["", "", ""])[:4]
            if pane != self.pane:
                continue
            if dead != "1":
                return None     # still alive: tmux has not reaped it yet
            self.returncode = -int(sig) if sig else int(status or 1)
            _tmux(self.socket, "kill-pane", "-t", self.pane)
            return self.returncode
        # the window is gone, and the worker with it (the SIGHUP of its closing)
        self.closed = True
        self.returncode = -signal.SIGHUP
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"worker in {self.where}", timeout or 0)
            time.sleep(0.05)
        return code
