"""Many consoles on one busy database: what they cost PostgreSQL and their own hosts.

    python bench/viewers.py [--consoles 5] [--rate 10000] [--seconds 60] [--tasks 1000000]

A throwaway database (--db, default jobconsole_viewers, kept between runs; --fresh
rebuilds it) on the server the dsn names holds a history of --tasks ended tasks, filled
as console_scale.py fills its own. One real monitor (2 workers)
runs no-op tasks, which this process feeds at --rate tasks a minute in batches every
0.1 s. --consoles real consoles (the app, headless, in processes of their own, each on
the tasks view) watch for --seconds. Each console's connections carry the application
name `jobconsole viewer N` (PGAPPNAME), so that the server's processes that serve them
are found in pg_stat_activity, sampled every second; their CPU time (from /proc: the
server is local) over the window is what the consoles cost PostgreSQL. Each console
measures its own CPU over the same window.

Meanwhile this process reads the overview's figures (what api.stats reads) every 2 s on
a connection of its own: what an overview's refresh costs the database with the history
at --tasks and tasks flowing at --rate (issue 14: under 50 ms of database time), as its
server process's CPU time per read, and each read's wall time.

Targets (issue 15): the consoles together cost PostgreSQL under 10% of one core, each
console under 5% of one core on its host. It prints figures and asserts nothing.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from jobconsole import api, stats  # noqa: E402
import console_scale  # noqa: E402   one history of tasks for both benchmarks


def prepare(server, name, n, fresh):
    """console_scale's database of --tasks tasks, as a history: its queued and running
    tasks end, so that the monitor takes only the tasks this run feeds."""
    dsn = console_scale.prepare(server, name, n, fresh)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update jobconsole.task set status = 'done', finished = now() "
                     "where status in ('queued', 'running')")
    return dsn


# -- one console, in a process of its own --------------------------------------------------

async def watch(dsn, seconds):
    from jobconsole.console.app import JobConsole
    from jobconsole.console.widgets.live_table import LiveTable
    app = JobConsole(dsn)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen.query_one(LiveTable).row_count:
            await pilot.pause(0.05)
        print("ready", flush=True)
        sys.stdin.readline()               # all consoles are up: the window opens
        me = psutil.Process()
        before, t0 = me.cpu_times(), time.perf_counter()
        await pilot.pause(seconds)
        after = me.cpu_times()
        loads = app.screen.loads
    used = after.user + after.system - before.user - before.system
    print(json.dumps({"cpu": used / (time.perf_counter() - t0), "loads": loads}), flush=True)


# -- the run ---------------------------------------------------------------------------------

class BackendCPU(threading.Thread):
    """CPU seconds of the server processes whose application name starts with `prefix`,
    sampled every second: each process's first and last reading count."""

    def __init__(self, dsn, prefix):
        super().__init__(daemon=True)
        self.dsn, self.prefix = dsn, prefix
        self.first, self.last = {}, {}
        self.running = True

    def sample(self, conn):
        pids = [r[0] for r in conn.execute(
            "select pid from pg_stat_activity where application_name like %s",
            (self.prefix + "%",))]
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            self.first.setdefault(pid, t.user + t.system)
            self.last[pid] = t.user + t.system

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while self.running:
                self.sample(conn)
                time.sleep(1.0)
            self.sample(conn)

    @property
    def seconds(self):
        return sum(self.last[p] - self.first[p] for p in self.first)


def time_stats(dsn, stop, took):
    """The overview's figures read every 2 s on a connection of its own (what api.stats
    does): each read's wall time appended to `took`, and at the end the database's CPU
    time for all of them (its server process's, from /proc), as ("server", seconds)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        server = psutil.Process(conn.info.backend_pid)
        before = server.cpu_times()
        while not stop.wait(2.0):
            t0 = time.perf_counter()
            stats.read(conn)
            took.append(time.perf_counter() - t0)
        after = server.cpu_times()
    took.append(("server", after.user + after.system - before.user - before.system))


def feed(dsn, rate, stop):
    """--rate tasks a minute, a batch every 0.1 s."""
    per_batch, carry = rate / 600.0, 0.0
    next_at = time.monotonic()
    while not stop.is_set():
        carry += per_batch
        n, carry = int(carry), carry - int(carry)
        if n:
            api.schedule_many(dsn, "noop", [None] * n)
        next_at += 0.1
        time.sleep(max(0.0, next_at - time.monotonic()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db", default="jobconsole_viewers")
    parser.add_argument("--consoles", type=int, default=5)
    parser.add_argument("--rate", type=int, default=10_000, help="tasks a minute")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tasks", type=int, default=1_000_000, help="the history's size")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--console", nargs=2, metavar=("DSN", "SECONDS"),
                        help=argparse.SUPPRESS)     # one console (a child of this script)
    args = parser.parse_args()
    if args.console:
        asyncio.run(watch(args.console[0], float(args.console[1])))
        return
    dsn = prepare(args.dsn, args.db, args.tasks, args.fresh)
    env = dict(os.environ, JOBCONSOLE_DSN=dsn)
    monitor = subprocess.Popen([sys.executable, "-m", "jobconsole.console", "--dsn", dsn,
                                "monitor", "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(dsn, args.rate, stop), daemon=True)
    consoles = []
    try:
        feeder.start()
        for i in range(args.consoles):
            consoles.append(subprocess.Popen(
                [sys.executable, __file__, "--console", dsn, str(args.seconds)],
                env=dict(env, PGAPPNAME=f"jobconsole viewer {i}"), text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        for c in consoles:
            assert c.stdout.readline().strip() == "ready"
        time.sleep(5)                      # the monitor's workers are at full speed
        server = BackendCPU(dsn, "jobconsole viewer")
        server.start()
        stats_took, stats_stop = [], threading.Event()
        timer = threading.Thread(target=time_stats, args=(dsn, stats_stop, stats_took),
                                 daemon=True)
        timer.start()
        ended_before = api.count_tasks(dsn).get("done", 0)
        t0 = time.perf_counter()
        for c in consoles:
            c.stdin.write("go\n")
            c.stdin.flush()
        results = [json.loads(c.stdout.readline()) for c in consoles]
        elapsed = time.perf_counter() - t0
        server.running = False
        server.join()
        stats_stop.set()
        timer.join()
        ran = api.count_tasks(dsn).get("done", 0) - ended_before
    finally:
        stop.set()
        for c in consoles:
            c.kill()
        monitor.terminate()
        monitor.wait(30)
        with psycopg.connect(dsn, autocommit=True) as conn:
            # the next run finds the history as it was (console_scale keeps it if so)
            conn.execute("delete from jobconsole.task where id > %s", (args.tasks,))
    pg = server.seconds / elapsed
    worst = max(r["cpu"] for r in results)
    print(f"{args.consoles} consoles, {elapsed:.0f} s, {ran * 60 / elapsed:,.0f} tasks a "
          f"minute ran, on {args.tasks:,} tasks of history")
    print(f"  PostgreSQL, all consoles' backends  {pg * 100:6.2f}% of a core   "
          f"target < 10%   {'pass' if pg < 0.10 else 'MISS'}")
    for i, r in enumerate(results):
        print(f"  console {i}: {r['cpu'] * 100:5.2f}% of a core, {r['loads']} loads")
    print(f"  worst console                       {worst * 100:6.2f}% of a core   "
          f"target < 5%    {'pass' if worst < 0.05 else 'MISS'}")
    server_seconds = dict(t for t in stats_took if isinstance(t, tuple)).get("server")
    ms = sorted(1000 * t for t in stats_took if not isinstance(t, tuple))
    if ms and server_seconds is not None:
        db = 1000 * server_seconds / len(ms)
        print(f"  the overview's figures (stats.read), {len(ms)} reads: database CPU "
              f"{db:.1f} ms a read   target < 50 ms   {'pass' if db < 50 else 'MISS'}")
        print(f"    wall time, round trips and this busy machine's waits included: median "
              f"{ms[len(ms) // 2]:.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
