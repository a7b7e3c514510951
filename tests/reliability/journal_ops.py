"""The operations of the reliability tests: each journals what its code does.

Each run of a task appends `start`, `tick` and `end` lines (task id, attempt, pid, time)
to the journal file its metadata names, outside the database; appends of one short line
are atomic (O_APPEND), so many workers share one file. Loaded by path into workers, so
it imports nothing of the tests.
"""
import os
import subprocess
import time

from jobconsole import api


def write(path, event, task, extra=""):
    line = f"{event} {task.id} {task.attempt} {os.getpid()} {time.time():.6f} {extra}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@api.task(retries=2)
def work(task):
    """Runs for `input` seconds, journaling its start, a tick every 50 ms, and its end."""
    path = task.metadata["journal"]
    write(path, "start", task)
    deadline = time.monotonic() + task.input
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
        write(path, "tick", task)
    write(path, "end", task)


@api.task
def spawn(task):
    """Starts a `sleep` that would outlive it, journals its pid, and waits."""
    child = subprocess.Popen(["sleep", "300"])
    write(task.metadata["journal"], "start", task, f"child {child.pid}")
    time.sleep(300)
