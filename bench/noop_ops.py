"""The no-op operation the benchmarks run (registered with api.register_operations).

It does what a real task always does, short of work: captures its logs (stdout,
stderr and `logging`) and saves a small output. When $BENCH_LAT_FILE is set (the
peer harness's latency phase, see /work/shared/peer-bench/common.py) it first appends
"<input> <time.time()>" to that file, which is how the harness times a task's start.
"""
import os
import time

from jobconsole import api


@api.task
def noop(task):
    lat_file = os.environ.get("BENCH_LAT_FILE")
    if lat_file:
        with open(lat_file, "a") as f:
            f.write(f"{task.input} {time.time():.6f}\n")
    with task.capturelogs(std=True):
        pass
    task.save_output({"ok": True})
