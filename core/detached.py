"""A monitor started on this host as a detached process that outlives its caller: the
console's `m` key, `jobconsole demo` and myjobs' worker starters use it.

It gets a session of its own (a closed terminal or a Ctrl-C in its caller does not reach
it) and writes its output to a log file beside the embedded server's data, or in the
given directory.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import embedded


def start_detached_monitor(dsn: str, domain: str = "default", workers: int | None = None,
                           min_workers: int | None = None, max_workers: int | None = None,
                           log_dir: str | os.PathLike[str] | None = None,
                           extra: tuple[str, ...] = (), label: str = "") -> tuple[int, Path]:
    """Start `jobconsole monitor ...` detached; returns (pid, log path). `extra`: more
    of the monitor's options."""
    args = [sys.executable, "-m", "jobconsole.console", "monitor", "--domain", domain]
    if workers is not None:
        args += ["--workers", str(workers)]
    if min_workers is not None:
        args += ["--min-workers", str(min_workers)]
    if max_workers is not None:
        args += ["--max-workers", str(max_workers)]
    if label:
        args += ["--label", label]
    args += list(extra)
    folder = Path(log_dir) if log_dir else embedded.home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"monitor-{domain}{'-' + label if label else ''}.log"
    env = dict(os.environ, JOBCONSOLE_DSN=dsn)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc.pid, log_path
