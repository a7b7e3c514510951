"""This host: its name as monitors and operations record it, and its processes.

$JOBCONSOLE_HOST overrides the name: useful when one machine hosts several logical
hosts (containers sharing a hostname, or tests that play several hosts on one machine).

A row names a process by pid and start time: a pid is reused once its process is gone,
so a pid alone proves nothing. Start times are this host's own readings, compared only
on this host.
"""
import os
import signal
import socket

import psutil

# psutil reads start times in clock ticks: two readings of one process agree closely
_SAME_START = 0.5


def this_host():
    return os.environ.get("JOBCONSOLE_HOST") or socket.gethostname()


def started(pid):
    """When process `pid` started (seconds since the epoch), or None if there is none."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError):
        return None


def alive(pid, pid_started):
    """Whether the process a row names (pid, start time) still runs on this host (a
    row of an older version has no start time: its pid must do). A zombie is gone."""
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return pid_started is None or abs(proc.create_time() - pid_started) < _SAME_START
    except (psutil.Error, ValueError):
        return False


def kill_group(leader, leader_started):
    """SIGKILL what remains of the process group a worker led (the processes its tasks
    started, which outlive a worker killed with its monitor). Only processes that
    started after the worker: its pid may since lead another group. Returns how many."""
    if leader is None:
        return 0
    killed = 0
    for proc in psutil.process_iter(["pid", "create_time"]):
        try:
            if os.getpgid(proc.pid) != leader or proc.pid == os.getpid():
                continue
            if leader_started is not None and proc.info["create_time"] < leader_started - _SAME_START:
                continue
            proc.send_signal(signal.SIGKILL)
            killed += 1
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    return killed
