"""Throughput and latency of jobconsole on one PostgreSQL server, against plain-SQL references.

    python bench/throughput.py [--n 10000] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

The dsn names the server: a throwaway database (--db, default jobconsole_bench) is dropped,
created, used and dropped again. Phases, all with N no-op tasks (bench/noop_ops.py):
  1. enqueue: api.schedule one by one, api.schedule_many in batches, and three plain
     INSERT loops (autocommit, one row per statement) as references: into a minimal
     queue table, the same with the NOTIFY that wakes workers (the peer harness's "raw"
     enqueue), and into jobconsole's own task table;
  2. processing: one monitor with 2 workers drains N queued tasks (default settings);
  3. baseline: 2 processes run a plain two-statement SKIP LOCKED loop over N rows;
  4. latency: idle workers, tasks scheduled one at a time ~20 ms apart; started - queued.
It prints figures and a table against the targets; it asserts nothing.
"""
import argparse
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
from jobconsole import api, db  # noqa: E402   (pip install -e .: this checkout)

OPS = str(ROOT / "bench" / "noop_ops.py")

PLAIN_TABLE = """
create table plain_q (
    id bigserial primary key,
    status text not null default 'queued',
    input jsonb,
    output jsonb,
    queued timestamptz not null default now(),
    started timestamptz,
    finished timestamptz
);
create index plain_q_queued on plain_q (id) where status = 'queued';
create table plain_n (like plain_q including all);   -- the NOTIFY loop's, same shape
"""
PLAIN_INSERT = "insert into plain_q (input) values (%s::jsonb)"
# a queue's whole enqueue: the row and a wake-up for idle workers
PLAIN_NOTIFY = ("with i as (insert into plain_n (input) values (%s::jsonb) returning id) "
                "select id, pg_notify('plain_q', '') from i")
# the same, into jobconsole's own task table (its indexes and insert trigger): what the
# schema costs, apart from what the API adds
TASK_INSERT = ("insert into jobconsole.task (operation, domain, input) "
               "values ('noop', 'default', %s::jsonb)")
PLAIN_CLAIM = """update plain_q set status = 'running', started = now()
where id = (select id from plain_q where status = 'queued' order by id
            for update skip locked limit 1)
returning id, input"""
PLAIN_FINISH = "update plain_q set status = 'done', output = %s::jsonb, finished = now() where id = %s"
MONITOR = "import sys; from jobconsole.monitor import Monitor; sys.exit(Monitor(sys.argv[1], min_workers=2).run())"


def new_database(server, name):
    """The dsn of database `name` on `server`, made anew (dropped first if it exists)."""
    drop_database(server, name)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return conninfo.make_conninfo(server, dbname=name)


def drop_database(server, name):
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


def checkout():
    """This checkout's commit, as `git describe` names it ('-dirty': with changes)."""
    return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip() or "?"


def rate(n, seconds):
    return n / seconds if seconds > 0 else float("inf")


def pct(sorted_values, p):
    """Nearest-rank percentile (as the peer harness computes it)."""
    k = math.ceil(p / 100 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, k))]


def baseline_worker(dsn):
    """One process of the plain loop: claim a row, mark it done, until the queue is empty."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while (row := conn.execute(PLAIN_CLAIM).fetchone()) is not None:
            conn.execute(PLAIN_FINISH, (json.dumps({"ok": True}), row[0]))


def start_monitor(dsn):
    return subprocess.Popen([sys.executable, "-c", MONITOR, dsn], cwd=ROOT,
                            stdin=subprocess.DEVNULL)


def stop(procs, grace=20.0):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for(cond, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(interval)
    return time.perf_counter()


class Bench:
    def __init__(self, dsn, n, batch, lat_n, lat_gap):
        self.dsn, self.n, self.batch, self.lat_n, self.lat_gap = dsn, n, batch, lat_n, lat_gap
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.procs = []
        self.fig = {}

    def q(self, query, params=None):
        return self.conn.execute(query, params).fetchone()

    def open_tasks(self):
        return self.q("select exists (select from jobconsole.task "
                      "where status in ('queued', 'running', 'aborting'))")[0]

    def enqueue(self):
        n = self.n
        one = lambda i: api.schedule(self.dsn, "noop", i)
        plain = lambda i: self.conn.execute(PLAIN_INSERT, (json.dumps(i),))
        notify = lambda i: self.conn.execute(PLAIN_NOTIFY, (json.dumps(i),))
        task_sql = lambda i: self.conn.execute(TASK_INSERT, (json.dumps(i),))
        loops = {"enqueue one-by-one": one, "plain INSERT loop": plain,
                 "plain INSERT + NOTIFY loop": notify,
                 "plain INSERT into the task table": task_sql}
        for i in range(20):   # warm up: the pool, the prepared statements
            for f in loops.values():
                f(i)
        self.conn.execute("truncate jobconsole.task restart identity cascade")
        self.conn.execute("truncate plain_q, plain_n restart identity")
        spent = dict.fromkeys(loops, 0.0)
        for start in range(0, n, 1000):   # interleaved: a noisy neighbour slows all alike
            for name, f in loops.items():
                t = time.perf_counter()
                for i in range(start, min(n, start + 1000)):
                    f(i)
                spent[name] += time.perf_counter() - t
        for name in loops:
            self.fig[name] = rate(n, spent[name])
        self.conn.execute("truncate jobconsole.task restart identity cascade")
        t = time.perf_counter()
        for start in range(0, n, self.batch):
            api.schedule_many(self.dsn, "noop", range(start, min(n, start + self.batch)))
        self.fig["enqueue batch"] = rate(n, time.perf_counter() - t)
        self.fig["one-by-one / plain"] = self.fig["enqueue one-by-one"] / self.fig["plain INSERT loop"]
        self.fig["one-by-one / plain + NOTIFY"] = (
            self.fig["enqueue one-by-one"] / self.fig["plain INSERT + NOTIFY loop"])
        self.fig["one-by-one / task-table INSERT"] = (
            self.fig["enqueue one-by-one"] / self.fig["plain INSERT into the task table"])
        self.conn.execute("vacuum analyze jobconsole.task")
        self.conn.execute("vacuum analyze plain_q")
        print(f"enqueue   one by one {self.fig['enqueue one-by-one']:,.0f}/s, batches of {self.batch} "
              f"{self.fig['enqueue batch']:,.0f}/s, plain INSERT loop {self.fig['plain INSERT loop']:,.0f}/s",
              flush=True)

    def process(self):
        t0 = time.perf_counter()
        monitor = start_monitor(self.dsn)
        self.procs.append(monitor)
        t1 = wait_for(lambda: not self.open_tasks() or monitor.poll() is not None, 600, "processing")
        stop([monitor])
        done, span, other = self.q(
            "select count(*) filter (where status = 'done'), "
            "extract(epoch from max(finished) filter (where status = 'done') "
            "- min(started) filter (where status = 'done')), "
            "count(*) filter (where status <> 'done') from jobconsole.task")
        if other:
            print(f"!! {other} tasks did not end 'done'", flush=True)
        self.fig["processing (DB span)"] = rate(done, float(span))
        self.fig["processing (wall, start-up incl.)"] = rate(done, t1 - t0)
        print(f"jobconsole 2 workers {done / float(span):8,.0f}/s first start to last finish "
              f"({float(span):.2f} s), {done / (t1 - t0):8,.0f}/s incl. start-up", flush=True)

    def baseline(self):
        t0 = time.perf_counter()
        workers = [subprocess.Popen([sys.executable, __file__, "--baseline-worker", self.dsn])
                   for _ in range(2)]
        self.procs += workers
        for w in workers:
            w.wait(600)
        t1 = time.perf_counter()
        done, span = self.q("select count(*), extract(epoch from max(finished) - min(started)) "
                            "from plain_q where status = 'done'")
        self.fig["baseline (DB span)"] = rate(done, float(span))
        self.fig["jobconsole / baseline"] = self.fig["processing (DB span)"] / self.fig["baseline (DB span)"]
        print(f"baseline 2 processes {done / float(span):8,.0f}/s first start to last finish "
              f"({float(span):.2f} s), {done / (t1 - t0):8,.0f}/s wall", flush=True)

    def latency(self):
        monitor = start_monitor(self.dsn)
        self.procs.append(monitor)
        wait_for(lambda: self.q("select count(*) from jobconsole.worker w join jobconsole.monitor m "
                                "on m.id = w.monitor_id where m.pid = %s and w.status = 'running'",
                                (monitor.pid,))[0] >= 2, 60, "workers up", 0.1)
        api.schedule_many(self.dsn, "noop", range(10))   # warm up, then let the workers idle
        wait_for(lambda: not self.open_tasks(), 60, "warm-up")
        time.sleep(1.0)
        ids, start = [], time.perf_counter()
        for i in range(self.lat_n):
            time.sleep(max(0.0, start + i * self.lat_gap - time.perf_counter()))
            ids.append(api.schedule(self.dsn, "noop", i).id)
        wait_for(lambda: not self.open_tasks(), 60, "latency tasks")
        stop([monitor])
        lats = sorted(float(r[0]) for r in self.conn.execute(
            "select extract(epoch from started - queued) * 1000 from jobconsole.task "
            "where id = any(%s)", (ids,)))
        for p in (50, 95, 99):
            self.fig[f"latency p{p}"] = pct(lats, p)
        self.fig["latency max"] = lats[-1]
        print(f"latency   {len(lats)} tasks {self.lat_gap * 1000:.0f} ms apart, started - queued: "
              + "  ".join(f"p{p} {self.fig[f'latency p{p}']:.1f}" for p in (50, 95, 99))
              + f"  max {lats[-1]:.1f} ms", flush=True)


TARGETS = [   # (figure, format, target, test)
    ("enqueue one-by-one", "{:,.0f}/s", "", None),
    ("plain INSERT loop", "{:,.0f}/s", "", None),
    ("one-by-one / plain", "{:.2f}x", ">= 0.8x", lambda v: v >= 0.8),
    # the same target against the two other readings of "a plain INSERT loop"
    ("plain INSERT + NOTIFY loop", "{:,.0f}/s", "", None),
    ("one-by-one / plain + NOTIFY", "{:.2f}x", ">= 0.8x", lambda v: v >= 0.8),
    ("plain INSERT into the task table", "{:,.0f}/s", "", None),
    ("one-by-one / task-table INSERT", "{:.2f}x", ">= 0.8x", lambda v: v >= 0.8),
    ("enqueue batch", "{:,.0f}/s", ">= 20,000/s", lambda v: v >= 20_000),
    ("processing (DB span)", "{:,.0f}/s", "", None),
    ("processing (wall, start-up incl.)", "{:,.0f}/s", "", None),
    ("baseline (DB span)", "{:,.0f}/s", "", None),
    ("jobconsole / baseline", "{:.2f}x", ">= 2.5x", lambda v: v >= 2.5),
    ("latency p50", "{:.1f} ms", "<= 5 ms", lambda v: v <= 5),
    ("latency p95", "{:.1f} ms", "", None),
    ("latency p99", "{:.1f} ms", "<= 20 ms", lambda v: v <= 20),
    ("latency max", "{:.1f} ms", "", None),
]


def table(fig):
    print(f"\n{'figure':36} {'value':>12}  {'target':12} result")
    for name, fmt, target, test in TARGETS:
        if name in fig:
            verdict = "" if test is None else ("pass" if test(fig[name]) else "MISS")
            print(f"{name:36} {fmt.format(fig[name]):>12}  {target:12} {verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="tasks per phase")
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="the server (its database is only used to create --db)")
    ap.add_argument("--db", default="jobconsole_bench", help="throwaway database (dropped!)")
    ap.add_argument("--batch", type=int, default=1000, help="schedule_many batch size")
    ap.add_argument("--lat-n", type=int, default=300, help="tasks in the latency phase")
    ap.add_argument("--lat-gap-ms", type=float, default=20.0, help="their spacing")
    ap.add_argument("--baseline-worker", metavar="DSN", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_worker:
        return baseline_worker(args.baseline_worker)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # clean up on SIGTERM too

    with psycopg.connect(args.dsn, autocommit=True) as admin:
        server = admin.execute("select version()").fetchone()[0].split(" on ")[0]
    dsn = new_database(args.dsn, args.db)
    print(f"jobconsole {checkout()} benchmark: N={args.n}, {server}, database {args.db}",
          flush=True)
    bench = None
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        bench = Bench(dsn, args.n, args.batch, args.lat_n, args.lat_gap_ms / 1000)
        bench.conn.execute(PLAIN_TABLE)
        bench.enqueue()
        bench.process()
        bench.baseline()
        bench.latency()
    finally:
        if bench is not None:
            stop(bench.procs)
            bench.conn.close()
            table(bench.fig)
        db.close_pools()
        drop_database(args.dsn, args.db)


if __name__ == "__main__":
    main()
