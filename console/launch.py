"""Start things: the console itself, and a monitor on this host as a detached process
that outlives its caller.

The console's `m` key and `jobconsole demo` start monitors. A monitor gets a session of
its own (a closed terminal or a Ctrl-C in the console does not reach it) and writes its
output to a log file beside the embedded server's data, or in the given directory.
"""
import os
import subprocess
import sys
from pathlib import Path

from jobconsole import api


def open_console(dsn, **options):
    """Run the console in this terminal until it quits."""
    from .app import JobConsole
    # a bad DSN or schema: one line here, not a broken screen
    dsn = api.check_database(dsn)
    JobConsole(dsn, **options).run()


def start_detached_monitor(dsn, domain="default", workers=None, min_workers=None,
                           max_workers=None, log_dir=None):
    """Popen of `jobconsole monitor ...`, detached; returns (pid, log path)."""
    args = [sys.executable, "-m", "jobconsole.console", "monitor", "--domain", domain]
    if workers is not None:
        args += ["--workers", str(workers)]
    if min_workers is not None:
        args += ["--min-workers", str(min_workers)]
    if max_workers is not None:
        args += ["--max-workers", str(max_workers)]
    log_dir = Path(log_dir) if log_dir else _default_log_dir()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"monitor-{domain}.log"
    env = dict(os.environ, JOBCONSOLE_DSN=dsn)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return proc.pid, log_path


def _default_log_dir():
    return api.data_dir() / "logs"
