"""Scaling curves: processing rate and start latency against workers and monitors.

    python bench/scale.py [--n 6000] [--workers 1,2,4,8,16,32] [--monitors 1,2,4,8]
                          [--per-monitor 2] [--dsn DSN]

A throwaway database (--db, default jobconsole_scale_curves) is dropped, created and
dropped again. For each configuration, one monitor with N workers (or M monitors, each
under a host name of its own as M machines would be, with --per-monitor workers each)
is started and waited for until every worker runs; then:
- processing: --n no-op tasks (bench/noop_ops.py) enqueued in one batch, drained; the
  rate is counted from the first task's start to the last one's end;
- latency: --lat-n tasks scheduled one at a time 20 ms apart to idle workers; their
  start minus their enqueue, p50 and p95;
- connections: the server's connections to the database while the tasks ran (most seen);
- where the time goes: pg_stat_activity sampled every 20 ms while the tasks ran, each
  active backend counted by its wait event (CPU: none), and this machine's CPU use.
At the end it says where each curve bends (the first step that gains less than a fifth
of what doubling could) and why: the machine's CPU, lock waits, or the clients. It
prints figures and asserts nothing.
"""
import argparse
import collections
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
from jobconsole import api, db  # noqa: E402

OPS = str(ROOT / "bench" / "noop_ops.py")


def wait_for(get, timeout, what, every=0.05):
    deadline = time.monotonic() + timeout
    while not (value := get()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(every)
    return value


class Sampler(threading.Thread):
    """Wait events of the database's active backends, the connections, and this
    machine's CPU, while `on` is set."""

    def __init__(self, dsn, dbname):
        super().__init__(daemon=True)
        self.dsn, self.dbname = dsn, dbname
        self.on = threading.Event()
        self.running = True
        self.reset()

    def reset(self):
        self.waits = collections.Counter()
        self.samples = 0
        self.connections = 0
        self.cpu = []

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while self.running:
                if not self.on.is_set():
                    time.sleep(0.01)
                    continue
                rows = conn.execute(
                    "select state, wait_event_type, wait_event from pg_stat_activity "
                    "where datname = %s and pid <> pg_backend_pid()", (self.dbname,)).fetchall()
                self.samples += 1
                self.connections = max(self.connections, len(rows))
                for state, kind, event in rows:
                    if state == "active":
                        self.waits["CPU" if kind is None else f"{kind}:{event}"] += 1
                self.cpu.append(psutil.cpu_percent(None))
                time.sleep(0.02)

    def summary(self):
        total = sum(self.waits.values()) or 1
        top = ", ".join(f"{k} {v * 100 / total:.0f}%" for k, v in self.waits.most_common(3))
        active = sum(self.waits.values()) / max(self.samples, 1)
        cpu = statistics.mean(self.cpu[1:]) if len(self.cpu) > 1 else 0.0
        return active, top, cpu, self.waits


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()


def run_config(dsn, conn, sampler, label, monitors, workers, n, lat_n):
    procs = []
    for m in range(monitors):
        host = f"scale-{m + 1}"
        # a monitor's workers load the operations registered for its host
        api.register_operations(dsn, OPS, host=host)
        env = dict(os.environ, JOBCONSOLE_DSN=dsn, JOBCONSOLE_HOST=host)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "jobconsole.console", "--dsn", dsn, "monitor",
             "--workers", str(workers)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        wait_for(lambda: conn.execute(
            "select count(*) from jobconsole.worker where status = 'running'").fetchone()[0]
            >= monitors * workers, 120, "workers up", 0.1)
        api.schedule_many(dsn, "noop", range(20))     # warm up
        wait_for(lambda: not open_tasks(conn), 60, "warm-up")
        conn.execute("delete from jobconsole.task")
        sampler.reset()
        sampler.on.set()
        api.schedule_many(dsn, "noop", range(n))
        wait_for(lambda: not open_tasks(conn), 600, "processing", 0.02)
        sampler.on.clear()
        done, span = conn.execute(
            "select count(*), extract(epoch from max(finished) - min(started))::float8 "
            "from jobconsole.task where status = 'done'").fetchone()
        time.sleep(0.5)
        ids, start = [], time.perf_counter()
        for i in range(lat_n):
            time.sleep(max(0.0, start + i * 0.02 - time.perf_counter()))
            ids.append(api.schedule(dsn, "noop", i).id)
        wait_for(lambda: not open_tasks(conn), 60, "latency tasks")
        lats = sorted(r[0] for r in conn.execute(
            "select extract(epoch from started - queued)::float8 * 1000 from jobconsole.task "
            "where id = any(%s)", (ids,)))
        conn.execute("delete from jobconsole.task")
    finally:
        stop(procs)
    active, top, cpu, waits = sampler.summary()
    return dict(label=label, monitors=monitors, workers=monitors * workers,
                rate=done / span, p50=statistics.median(lats),
                p95=lats[int(0.95 * (len(lats) - 1))], connections=sampler.connections,
                active=active, top=top, cpu=cpu, waits=waits)


def open_tasks(conn):
    return conn.execute("select exists (select from jobconsole.task "
                        "where status in ('queued', 'running', 'waiting'))").fetchone()[0]


def why(row):
    """The likeliest limit of a configuration, from what was sampled."""
    total = sum(row["waits"].values()) or 1
    locks = sum(v for k, v in row["waits"].items() if k.startswith(("Lock", "LWLock"))) / total
    io = sum(v for k, v in row["waits"].items() if k.startswith(("IO", "Client"))) / total
    if row["cpu"] >= 90:
        return f"the machine's CPU ({row['cpu']:.0f}% busy)"
    if locks >= 0.3:
        return f"lock waits ({locks * 100:.0f}% of active samples)"
    if io >= 0.3:
        return f"I/O and client waits ({io * 100:.0f}% of active samples)"
    return f"the clients (CPU {row['cpu']:.0f}%, {row['active']:.1f} backends active)"


def bend(rows, what):
    for before, after in zip(rows, rows[1:]):
        could = after[what] / before[what]       # 2 for a doubling
        gained = after["rate"] / before["rate"]
        if gained - 1 < (could - 1) / 5:
            return (f"{what} curve bends at {before[what]} -> {after[what]}: "
                    f"x{gained:.2f} of a possible x{could:.0f}; limit: {why(after)}")
    return f"{what} curve: no bend up to {rows[-1][what]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="jobconsole_scale_curves")
    ap.add_argument("--n", type=int, default=6000, help="tasks per configuration")
    ap.add_argument("--lat-n", type=int, default=100)
    ap.add_argument("--workers", default="1,2,4,8,16,32")
    ap.add_argument("--monitors", default="1,2,4,8")
    ap.add_argument("--per-monitor", type=int, default=2, help="workers of each monitor")
    args = ap.parse_args()
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(args.db)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(args.db)))
    dsn = conninfo.make_conninfo(args.dsn, dbname=args.db)
    api.init_db(dsn)
    sampler = Sampler(args.dsn, args.db)
    sampler.start()
    cpus = psutil.cpu_count()
    print(f"jobconsole scaling curves: {args.n:,} no-op tasks per configuration, "
          f"{cpus} CPUs, PostgreSQL on this machine", flush=True)
    header = (f"{'configuration':24} {'tasks/s':>9} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'conns':>5} {'active':>6} {'cpu%':>5}  top waits of active backends")
    curves = {}
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for kind, steps in (("workers", args.workers), ("monitors", args.monitors)):
                print(f"\n{header}", flush=True)
                for step in map(int, steps.split(",")):
                    label = (f"1 monitor, {step} workers" if kind == "workers"
                             else f"{step} monitors x {args.per_monitor}")
                    row = run_config(dsn, conn, sampler, label,
                                     1 if kind == "workers" else step,
                                     step if kind == "workers" else args.per_monitor,
                                     args.n, args.lat_n)
                    curves.setdefault(kind, []).append(row)
                    print(f"{label:24} {row['rate']:9,.0f} {row['p50']:7.1f} {row['p95']:7.1f} "
                          f"{row['connections']:5} {row['active']:6.1f} {row['cpu']:5.0f}  "
                          f"{row['top']}", flush=True)
    finally:
        sampler.running = False
        db.close_pools()
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(args.db)))
    print()
    for kind, rows in curves.items():
        print(bend(rows, "workers" if kind == "workers" else "monitors"))


if __name__ == "__main__":
    main()
