"""An operations module that writes raw output when a worker imports it (and only
there: the tests' own process imports it too, to register it)."""
import os

from jobconsole import api

RAW = "\x1b]0;pwned title\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H\x07"   # as in ops.py

if os.environ.get("JOBCONSOLE_MONITOR_PID"):
    print(f"imported {RAW}noisy")
    os.write(2, f"fd2 at import {RAW}noisy\n".encode())


@api.task
def quiet(task):
    task.save_output("quiet")
