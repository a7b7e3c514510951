"""Tethys' SLURM and DASK jobs against the raw tools, on the same machine in one run.

    python bench/engines.py [--slurm 50] [--dask 200] [--tracked 500] [--dsn DSN]

Needs a running one-node Slurm cluster (.ci/slurm-up) and Dask's distributed. A
throwaway database (--db, default jobconsole_bench_engines) is dropped, created and
dropped again; one monitor tracks the jobs (poll: $JOBCONSOLE_ENGINE_POLL, 0.25 s).

Figures, one job at a time so that queueing does not blur them:
- Slurm, raw: sbatch, then squeue polled at 20 Hz until RUNNING; the job writes the time
  it ends, and squeue is polled until it has ended. jobconsole: job.execute(), then the
  task's start time as the tracker recorded it; the same job's end time against the
  task's finish time (status 'Complete').
- Dask, raw: client.submit of a function that returns the times it started and ended,
  against the submit and the moment result() returns. jobconsole: job.execute() of the
  same function as a DASK job, and the task's finish time.
- Tracking: --tracked Slurm jobs submitted at once, then the squeue and sacct calls of
  10 s of polls are counted (shims on the monitor's PATH): the target is one call of
  each at most per poll, whatever the number of jobs.
Targets: jobconsole adds at most 0.3 s at p50 over the raw tool, to the start and to
the end. It prints figures and asserts nothing.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from jobconsole import api                              # noqa: E402
from jobconsole.compat.tethys import JobManager         # noqa: E402

TARGET = 0.3
POLL = 0.05    # the raw observer's polling period, seconds


def wait_for(get, timeout, what):
    """What `get` returns once it is true, polled every 20 ms."""
    deadline = time.monotonic() + timeout
    while not (value := get()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(0.02)
    return value


def percentiles(values):
    values = sorted(values)
    return (statistics.median(values), values[int(0.9 * (len(values) - 1))], values[-1])


def show(label, raw, ours):
    r50, r90, rmax = percentiles(raw)
    o50, o90, omax = percentiles(ours)
    verdict = "pass" if o50 - r50 <= TARGET else "MISS"
    print(f"{label:<28} raw p50 {r50:6.3f} p90 {r90:6.3f} max {rmax:6.3f} | jobconsole "
          f"p50 {o50:6.3f} p90 {o90:6.3f} max {omax:6.3f} | +{o50 - r50:6.3f} s at p50 "
          f"({verdict}, target +{TARGET} s)")


def squeue_state(jid):
    out = subprocess.run(["squeue", "--noheader", "--states=all", "-j", jid, "-o", "%T"],
                         capture_output=True, text=True).stdout.strip()
    return out or "GONE"


def raw_slurm(n, folder):
    starts, ends = [], []
    for i in range(n):
        stamp = folder / f"raw-{i}"
        began = time.time()
        jid = subprocess.run(["sbatch", "--parsable", f"--chdir={folder}", "--output=/dev/null",
                              "--wrap", f"sleep 1; date +%s.%N > {stamp}"],
                             capture_output=True, text=True, check=True).stdout.strip()
        while squeue_state(jid) in ("PENDING", "CONFIGURING"):
            time.sleep(POLL)
        starts.append(time.time() - began)
        while squeue_state(jid) in ("RUNNING", "COMPLETING"):
            time.sleep(POLL)
        ends.append(time.time() - float(stamp.read_text()))
    return starts, ends


def task_times(dsn, tid):
    with psycopg.connect(dsn) as conn:
        return conn.execute("select extract(epoch from started), extract(epoch from finished), "
                            "status from jobconsole.task where id = %s", (tid,)).fetchone()


def ours_slurm(manager, dsn, n, folder):
    starts, ends = [], []
    for i in range(n):
        stamp = folder / f"ours-{i}"
        job = manager.create_job(f"slurm-{i}", "bench", "SLURM", executable="sh",
                                 arguments=["-c", f"sleep 1; date +%s.%N > {stamp}"]).save()
        began = time.time()
        job.execute()
        times = wait_for(lambda: (t := task_times(dsn, job.id)) and t[2] == "done" and t,
                         120, "a Slurm job to complete")
        starts.append(float(times[0]) - began)
        ends.append(float(times[1]) - float(stamp.read_text()))
    return starts, ends


def raw_dask(client, n):
    from engine_funcs import stamp
    starts, ends = [], []
    for _ in range(n):
        began = time.time()
        started, ended = client.submit(stamp, 0.05, pure=False).result()
        seen = time.time()
        starts.append(started - began)
        ends.append(seen - ended)
    return starts, ends


def ours_dask(manager, dsn, n, address):
    starts, ends = [], []
    for i in range(n):
        job = manager.create_job(f"dask-{i}", "bench", "DASK", scheduler=address,
                                 function="engine_funcs:stamp", args=[0.05]).save()
        began = time.time()
        job.execute()
        times = wait_for(lambda: (t := task_times(dsn, job.id)) and t[2] == "done" and t,
                         60, "a Dask job to complete")
        started, ended = job.get_result()
        starts.append(started - began)
        ends.append(float(times[1]) - ended)
    return starts, ends


def shims(folder):
    """squeue and sacct that count their calls in folder/calls, then run the real ones."""
    for tool in ("squeue", "sacct"):
        real = shutil.which(tool)
        path = folder / tool
        path.write_text(f"#!/bin/sh\necho {tool} >> {folder}/calls\nexec {real} \"$@\"\n")
        path.chmod(0o755)


def tracking(manager, dsn, n, folder):
    """(polls, squeue calls, sacct calls) over 10 s with n Slurm jobs tracked."""
    jobs = [manager.create_job(f"tracked-{i}", "bench", "SLURM", executable="sleep",
                               arguments=["300"]) for i in range(n)]
    for job in jobs:
        job.execute()
    with psycopg.connect(dsn) as conn:
        wait_for(lambda: conn.execute("select count(*) from jobconsole.engine_job "
                                      "where external_id is not null").fetchone()[0] >= n,
                 600, f"{n} jobs submitted")
    calls = folder / "calls"
    calls.write_text("")
    time.sleep(10)
    said = calls.read_text().split()
    for job in jobs:
        job.stop()
    with psycopg.connect(dsn) as conn:
        wait_for(lambda: conn.execute("select count(*) from jobconsole.task where status "
                                      "in ('queued', 'running', 'aborting')").fetchone()[0] == 0,
                 300, "the tracked jobs to be cancelled")
    return said.count("squeue"), said.count("sacct")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slurm", type=int, default=50)
    ap.add_argument("--dask", type=int, default=200)
    ap.add_argument("--tracked", type=int, default=500)
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="jobconsole_bench_engines", help="throwaway database (dropped!)")
    args = ap.parse_args()
    from distributed import Client, LocalCluster
    admin = psycopg.connect(args.dsn, autocommit=True)
    name = sql.Identifier(args.db)
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(name))
    admin.execute(sql.SQL("create database {}").format(name))
    dsn = conninfo.make_conninfo(args.dsn, dbname=args.db)
    folder = Path(tempfile.mkdtemp(prefix="jobconsole-bench-engines-"))
    shims(folder)
    monitor = cluster = None
    try:
        api.init_db(dsn)
        os.environ["JOBCONSOLE_HOME"] = str(folder)
        monitor = subprocess.Popen(
            [sys.executable, "-m", "jobconsole.console", "monitor", "--workers", "1"],
            env={**os.environ, "JOBCONSOLE_DSN": dsn,
                 "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"},
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: any(w.status == "running" for w in api.list_workers(dsn)), 60,
                 "the monitor's worker")
        manager = JobManager("bench", dsn)
        print(f"{args.slurm} Slurm jobs, {args.dask} Dask calls, one at a time; seconds")
        # the raw tool first, then jobconsole; the first job of each warms up
        raw = raw_slurm(args.slurm + 1, folder)
        ours = ours_slurm(manager, dsn, args.slurm + 1, folder)
        show("Slurm submit -> running", raw[0][1:], ours[0][1:])
        show("Slurm end -> complete", raw[1][1:], ours[1][1:])
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
        raw = raw_dask(client, args.dask + 1)
        ours = ours_dask(manager, dsn, args.dask + 1, cluster.scheduler_address)
        show("Dask submit -> start", raw[0][1:], ours[0][1:])
        show("Dask end -> complete", raw[1][1:], ours[1][1:])
        client.close()
        squeues, saccts = tracking(manager, dsn, args.tracked, folder)
        print(f"{args.tracked} Slurm jobs tracked for 10 s: {squeues} polls (one squeue "
              f"call each), {saccts} sacct calls: {max(squeues, saccts) / max(squeues, 1):.2f} "
              f"calls of each tool per poll at most ({'pass' if saccts <= squeues else 'MISS'})")
    finally:
        if cluster is not None:
            cluster.close()
        if monitor is not None:
            monitor.terminate()
            monitor.wait(30)
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
