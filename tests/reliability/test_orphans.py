"""No process a task started outlives its task, whatever killed the monitor.

A worker leads a process group, which holds what its task starts; the worker's row
records its pid and start time. A monitor killed with SIGKILL takes its workers with it
(they die with their parent), and the next monitor on the host, reaping their rows,
kills what is left of their groups.
"""
import signal

import pytest

from helpers import alive, wait_for
from jobconsole import api

pytestmark = pytest.mark.slow


def children(journal_path):
    try:
        with open(journal_path) as f:
            return [int(line.split()[-1]) for line in f if " child " in line]
    except FileNotFoundError:
        return []


def test_what_a_task_started_dies_when_the_next_monitor_reaps_its_killed_worker(
        rdsn, monitors, journal_path):
    first = monitors("--workers", "2")
    workers = first.child_pids()
    tasks = [api.schedule(rdsn, "spawn", metadata={"journal": journal_path}) for _ in range(2)]
    grandchildren = wait_for(lambda: len(children(journal_path)) == 2 and children(journal_path),
                             20, "the tasks' `sleep` processes")

    first.stop(signal.SIGKILL)
    for pid in workers:
        wait_for(lambda: not alive(pid), 10, f"worker {pid} to die with its monitor")

    monitors("--workers", "1")
    for pid in grandchildren:
        wait_for(lambda: not alive(pid), 10, f"the task's process {pid} to be killed")
    assert {t.join(10).error_kind for t in tasks} == {"crash"}
