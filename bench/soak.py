"""Soak: a million no-op tasks through two real monitors; does the engine stay as fast,
and does the task table stay as small as its live rows?

    python bench/soak.py [--tasks 1000000] [--rate R] [--monitors 2] [--workers 2] [--profile]
                         [--server-setting NAME=VALUE ...]

It starts a PostgreSQL of its own (the embedded server in a temporary home, removed at
the end), with autovacuum on and WAL sized at PostgreSQL's stock settings rather than
the embedded server's, since most users run a server they did not tune for us. Then
`--monitors` real `jobconsole monitor` processes (each its own host name, as two
machines would be) run the tasks, while this process feeds them:

  - by default, in batches that keep the backlog (queued tasks) between --backlog/2
    and --backlog: the workers never wait for work, and the feeder costs little, so
    each chunk's rate is what the engine can do at that point of the run;
  - with --rate R, R tasks a second whatever happens, in batches every 0.1 s: set it
    a little under that capacity, and a growing backlog or latency shows the engine
    falling behind.

Every --chunk tasks (100,000) it prints the rate of that chunk (from the database's
own `finished` timestamps), the backlog, the latency (started - queued) and the sizes
of the task table and its indexes, dead tuples and autovacuum runs, and the same for
the worker and monitor tables, which take a write per heartbeat. With --profile, each
chunk also prints the CPU it cost per 1,000 tasks (the server, the monitors' process
trees, this process) and the statements that took the server's time
(pg_stat_statements, loaded for the run). It asserts nothing.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
from psycopg import conninfo

ROOT = Path(__file__).resolve().parent.parent
from jobconsole import api, db, embedded  # noqa: E402   (pip install -e .: this checkout)

OPS = str(ROOT / "bench" / "noop_ops.py")

# PostgreSQL's own defaults: the embedded server looks every 15 s with a scale factor of
# 0.05, which would hide a table that needs settings of its own, and checkpoints every
# 256 MB of WAL, where a stock server waits for 1 GB.
STOCK = {
    "autovacuum": "on",
    "autovacuum_naptime": "60s",
    "autovacuum_vacuum_scale_factor": "0.2",
    "autovacuum_vacuum_insert_scale_factor": "0.2",
    "autovacuum_analyze_scale_factor": "0.1",
    "max_wal_size": "1GB",
    "min_wal_size": "80MB",
}
# not a tuning: each autovacuum run then writes what it did, and took, to the server log
LOG_AUTOVACUUM = "alter system set log_autovacuum_min_duration = 0"
VACUUM_RUN = re.compile(r'automatic vacuum of table "soak\.jobconsole\.(\w+)".*?'
                        r'tuples: (\d+) removed.*?elapsed: ([\d.]+) s', re.DOTALL)

# Each worker counts the tasks it finished in its row: a handful of rows to add up, where
# counting the open tasks would walk the dead entries of the status index, and take
# more of the two cores the more bloated it grows.
FINISHED = "select coalesce(sum(runs), 0) from jobconsole.worker"

SIZES = """
select c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid),
       pg_total_relation_size(c.oid), s.n_live_tup, s.n_dead_tup,
       s.autovacuum_count + s.vacuum_count, s.autoanalyze_count + s.analyze_count
from pg_class c join pg_stat_user_tables s on s.relid = c.oid
where s.schemaname = 'jobconsole' and c.relname = any(%s)
"""
HOT_TABLES = ["task", "worker", "monitor"]

# What a worker's claim reads (its inner select, without the locks): dead entries at the
# head of the claim index, which the claim walks past, show here first.
CLAIM_PROBE = """
explain (analyze, buffers, format json)
select id from jobconsole.task
where status = 'queued' and domain = 'default' and (host is null or host = 'soak-1')
  and operation = any('{noop}') order by priority desc, id limit 16
"""

# WAL written so far, and how much of it is full-page images (a page's first change
# after a checkpoint): writes scattered over many pages cost far more than their bytes
WAL = ("select w.wal_bytes, w.wal_fpi, c.num_timed + c.num_requested "
       "from pg_stat_wal w, pg_stat_checkpointer c")

# the bytes the live rows hold, with their tuple headers and line pointers: the size a
# table without a single dead tuple or free byte would have
LIVE_BYTES = "select sum(pg_column_size(t.*) + 28) from jobconsole.task t"

INDEXES = """
select i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
from pg_index i where i.indrelid = 'jobconsole.task'::regclass order by 1
"""

# chunk k ends when its last task finished; the first begins when the first one started
CHUNK_ENDS = """
select n, extract(epoch from finished) from (
    select finished, row_number() over (order by finished) as n
    from jobconsole.task where status = 'done') x
where n %% %(chunk)s = 0 or n = %(total)s order by n
"""
CHUNK_LATENCY = """
select (id - 1) / %(chunk)s as k,
       percentile_cont(0.5) within group (order by extract(epoch from started - queued)),
       percentile_cont(0.99) within group (order by extract(epoch from started - queued))
from jobconsole.task where status = 'done' group by k order by k
"""


class Profile:
    """Where a chunk's time went, per 1,000 tasks: the CPU of the server (the postmaster,
    its live processes and those it reaped), of the monitors' process trees and of this
    process; and the statements that took most of the server's execution time."""
    STATEMENTS = ("select queryid, left(regexp_replace(query, '\\s+', ' ', 'g'), 70), "
                  "total_exec_time, calls from pg_stat_statements")

    def __init__(self, soak):
        self.soak = soak
        self.postmaster = psutil.Process(embedded.status(soak.home)["pid"])
        self.last = self.cpu()
        self.statements = self.read_statements()

    def cpu(self):
        def used(proc, reaped=False):
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                return 0.0      # it ended between the listing and now: its parent has it
            return t.user + t.system + ((t.children_user + t.children_system) if reaped else 0)

        def tree(proc, reaped=False):
            try:
                children = proc.children(recursive=True)
            except psutil.NoSuchProcess:
                return 0.0
            return used(proc, reaped) + sum(used(c) for c in children)
        monitors = sum(tree(psutil.Process(p.pid)) for p in self.soak.monitors
                       if p.poll() is None)
        me = psutil.Process().cpu_times()
        machine = psutil.cpu_times()
        return {"server": tree(self.postmaster, reaped=True), "monitors": monitors,
                "feeder": me.user + me.system,
                # all of the machine's cores: what the three above leave is other work's
                "machine": machine.user + machine.nice + machine.system + machine.irq
                + machine.softirq + machine.steal,
                "idle": machine.idle + machine.iowait}

    def read_statements(self):
        return {r[0]: r[1:] for r in self.soak.conn.execute(self.STATEMENTS)}

    def print(self, tasks):
        now, statements = self.cpu(), self.read_statements()
        per = 1000 / tasks
        spent_cpu = {k: now[k] - self.last[k] for k in now}
        others = spent_cpu["machine"] - sum(spent_cpu[k] for k in ("server", "monitors", "feeder"))
        print("      CPU s per 1,000 tasks: " + ", ".join(
            f"{k} {spent_cpu[k] * per:.3f}" for k in ("server", "monitors", "feeder"))
            + f", other work {others * per:.3f}, cores idle "
            f"{spent_cpu['idle'] / (spent_cpu['idle'] + spent_cpu['machine']):.0%}", flush=True)
        spent = []
        for query, (text, ms, calls) in statements.items():
            _, ms_before, calls_before = self.statements.get(query, (text, 0.0, 0))
            spent.append((ms - ms_before, calls - calls_before, text))
        for ms, calls, text in sorted(spent, reverse=True)[:6]:
            print(f"      {ms * per:8.1f} ms  {calls:>8,} calls  {ms / max(calls, 1):7.3f} ms/call"
                  f"  {text}", flush=True)
        self.last, self.statements = now, statements


def mb(n):
    return f"{n / 2**20:,.1f} MB"


class Soak:
    def __init__(self, args):
        self.args = args
        self.home = Path(tempfile.mkdtemp(prefix="jobconsole-soak-"))
        self.monitors = []
        self.conn = None
        self.snapshots = []       # (tasks done, {table: sizes}, claim probe) at each chunk
        self.backlog_max = []     # per chunk
        self.fed = 0

    # -- set up -------------------------------------------------------------------------

    def start_server(self):
        admin = embedded.ensure_running(self.home)
        with psycopg.connect(admin, autocommit=True) as conn:
            if not self.args.embedded_settings:
                for key, value in STOCK.items():
                    conn.execute(f"alter system set {key} = '{value}'")
            conn.execute(LOG_AUTOVACUUM)
            for key, value in self.args.server_setting:
                conn.execute(f"alter system set {key} = '{value}'")
            if self.args.profile:
                conn.execute("alter system set shared_preload_libraries = 'pg_stat_statements'")
            conn.execute("select pg_reload_conf()")
            time.sleep(0.5)
            conn.execute("create database soak")
        if self.args.profile or self.args.server_setting:   # some take effect at a start only
            embedded.stop(self.home)
            admin = embedded.ensure_running(self.home)
        with psycopg.connect(admin, autocommit=True) as conn:
            self.server = conn.execute("select version()").fetchone()[0].split(" on ")[0]
            self.settings = dict(conn.execute(
                "select name, current_setting(name) from pg_settings where name like "
                "'autovacuum%' or name in ('shared_buffers', 'max_wal_size', "
                "'min_wal_size')").fetchall())
        self.dsn = conninfo.make_conninfo(admin, dbname="soak")
        api.init_db(self.dsn)
        for n in range(self.args.monitors):
            api.register_operations(self.dsn, OPS, host=f"soak-{n + 1}")
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        if self.args.profile:
            self.conn.execute("create extension pg_stat_statements")
            self.profile = Profile(self)
        if self.args.task_options:
            self.conn.execute(f"alter table jobconsole.task set ({self.args.task_options})")

    def start_monitors(self):
        for n in range(self.args.monitors):
            env = {**os.environ, "JOBCONSOLE_HOST": f"soak-{n + 1}", "JOBCONSOLE_DSN": self.dsn}
            log = open(self.home / f"monitor-{n + 1}.log", "w")
            self.monitors.append(subprocess.Popen(
                [sys.executable, "-m", "jobconsole.console", "monitor",
                 "--workers", str(self.args.workers)],
                env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log))
        want = self.args.monitors * self.args.workers
        deadline = time.monotonic() + 60
        while self.q("select count(*) from jobconsole.worker where status = 'running'") < want:
            self.check_monitors()
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {want} workers running after 60 s")
            time.sleep(0.1)

    def check_monitors(self):
        for n, p in enumerate(self.monitors, 1):
            if p.poll() is not None:
                tail = (self.home / f"monitor-{n}.log").read_text()[-2000:]
                raise RuntimeError(f"monitor {n} exited ({p.returncode}):\n{tail}")

    # -- measuring ----------------------------------------------------------------------

    def q(self, query, params=None):
        return self.conn.execute(query, params).fetchone()[0]

    def sizes(self):
        return {r[0]: r[1:] for r in self.conn.execute(SIZES, (HOT_TABLES,))}

    def claim_probe(self):
        """(buffers read, ms) of the claim's select, now."""
        plan = self.q(CLAIM_PROBE)[0]
        top = plan["Plan"]
        return top["Shared Hit Blocks"] + top["Shared Read Blocks"], plan["Execution Time"]

    def print_sizes(self, label, sizes):
        for table in HOT_TABLES:
            heap, idx, total, live, dead, vacuums, analyzes = sizes[table]
            print(f"  {label:7} {table:8} heap {mb(heap):>10}  indexes {mb(idx):>10}  "
                  f"total {mb(total):>10}  live {live:>9,}  dead {dead:>8,}  "
                  f"vacuums {vacuums}  analyzes {analyzes}", flush=True)

    # -- the run ------------------------------------------------------------------------

    def feed(self, count):
        while count > 0:
            n = min(count, self.args.batch, self.args.tasks - self.fed)
            if n <= 0:
                return
            api.schedule_many(self.dsn, "noop", range(self.fed, self.fed + n))
            self.fed += n
            count -= n

    def run(self):
        a = self.args
        chunk_start = t0 = time.monotonic()
        next_chunk, backlog_max, last_check = a.chunk, 0, 0.0
        last_wal = self.conn.execute(WAL).fetchone()
        while True:
            now = time.monotonic()
            done = self.q(FINISHED)
            open_ = self.fed - done
            backlog_max = max(backlog_max, open_)
            if done >= min(next_chunk, a.tasks):
                wall = now - chunk_start
                chunk_start = now
                sizes = self.sizes()
                probe = self.claim_probe()
                wal = self.conn.execute(WAL).fetchone()
                self.snapshots.append((done, sizes, probe))
                self.backlog_max.append(backlog_max)
                heap, idx, total, _, dead, vacuums, _ = sizes["task"]
                size = min(next_chunk, a.tasks) - (next_chunk - a.chunk)
                print(f"{done:>10,} done  ~{size / wall:7,.0f}/s (wall)  backlog max "
                      f"{backlog_max:>6,}  task heap {mb(heap)}, indexes {mb(idx)}, "
                      f"dead {dead:,}, vacuums {vacuums}, claim reads {probe[0]} buffers "
                      f"({probe[1]:.1f} ms), WAL {mb(wal[0] - last_wal[0])} "
                      f"({wal[1] - last_wal[1]:,} full pages), checkpoints "
                      f"{wal[2] - last_wal[2]}", flush=True)
                last_wal = wal
                if a.profile:
                    self.profile.print(size)
                next_chunk += a.chunk
                backlog_max = 0
            if done >= a.tasks:
                return time.monotonic() - t0
            if now - last_check > 2:
                self.check_monitors()
                last_check = now
            if a.rate:
                self.feed(int(a.rate * (now - t0)) - self.fed)
            elif open_ < a.backlog // 2:
                self.feed(a.backlog - open_)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))

    def report(self, wall):
        a = self.args
        other = self.q("select count(*) from jobconsole.task where status <> 'done'")
        if other:
            print(f"!! {other:,} tasks did not end 'done'")
        first_start = self.q("select extract(epoch from min(started)) from jobconsole.task")
        ends = self.conn.execute(CHUNK_ENDS, dict(chunk=a.chunk, total=a.tasks)).fetchall()
        lats = self.conn.execute(CHUNK_LATENCY, dict(chunk=a.chunk)).fetchall()
        print(f"\n{'tasks':>10}  {'rate':>9}  {'vs first':>8}  {'backlog':>7}  {'lat p50':>8}  "
              f"{'lat p99':>8}  {'heap':>9}  {'indexes':>9}  {'total':>9}  {'dead':>8}  vac  claim")
        prev_n, prev_t, rates = 0, float(first_start), []
        for k, (n, t) in enumerate(ends):
            rates.append((n - prev_n) / (float(t) - prev_t))
            _, sizes, probe = (self.snapshots[k] if k < len(self.snapshots)
                               else (0, self.sizes(), self.claim_probe()))
            heap, idx, total, _, dead, vacuums, _ = sizes["task"]
            p50, p99 = (lats[k][1], lats[k][2]) if k < len(lats) else (0, 0)
            backlog = self.backlog_max[k] if k < len(self.backlog_max) else 0
            print(f"{n:>10,}  {rates[-1]:>7,.0f}/s  {rates[-1] / rates[0]:>7.2f}x  {backlog:>7,}  "
                  f"{p50 * 1000:>6.0f}ms  {p99 * 1000:>6.0f}ms  {mb(heap):>9}  {mb(idx):>9}  "
                  f"{mb(total):>9}  {dead:>8,}  {vacuums:>3}  {probe[0]} buf {probe[1]:.1f} ms")
            prev_n, prev_t = n, float(t)
        print(f"\nlast chunk / first chunk: {rates[-1] / rates[0]:.2f}x   overall "
              f"{a.tasks / wall:,.0f}/s wall ({wall:,.0f} s)")
        live = float(self.q(LIVE_BYTES))
        heap = self.sizes()["task"][0]
        print(f"task table: heap {mb(heap)}, its live rows {mb(live)} ({heap / live:.2f}x)")
        runs = [(float(e), int(n)) for t, n, e in VACUUM_RUN.findall(self.server_log())
                if t == "task"]
        print(f"autovacuum runs on the task table: {len(runs)}"
              + "".join(f", {e:.1f} s ({n:,} dead tuples)" for e, n in runs))
        print("task table's indexes at the end:")
        for name, size in self.conn.execute(INDEXES):
            print(f"  {name:32} {mb(size):>10}")

    def server_log(self):
        log = embedded._Paths(self.home).log
        return log.read_text(errors="replace") if log.exists() else ""

    def close(self):
        for p in self.monitors:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.monitors:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.conn is not None:
            self.conn.close()
        db.close_pools()
        embedded.stop(self.home)
        if self.args.keep:
            print(f"kept {self.home} (server stopped; its logs are there)")
        else:
            shutil.rmtree(self.home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=0,
                    help="tasks/s fed whatever the backlog (default: keep a bounded backlog)")
    ap.add_argument("--backlog", type=int, default=4000,
                    help="without --rate: top the queue up to this when it falls to half")
    ap.add_argument("--chunk", type=int, default=100_000, help="tasks per line of figures")
    ap.add_argument("--monitors", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="per monitor")
    ap.add_argument("--batch", type=int, default=1000, help="tasks per schedule_many")
    ap.add_argument("--embedded-settings", action="store_true",
                    help="keep the embedded server's autovacuum and WAL settings, not the stock ones")
    ap.add_argument("--task-options", metavar="OPTIONS",
                    help="try storage options on the task table first, e.g. 'fillfactor=70'")
    ap.add_argument("--server-setting", metavar="NAME=VALUE", action="append", default=[],
                    type=lambda s: tuple(s.split("=", 1)),
                    help="a setting of the server for this run, e.g. shared_buffers=1GB "
                         "(repeatable; the server restarts to take it)")
    ap.add_argument("--profile", action="store_true",
                    help="per chunk: CPU per 1,000 tasks (server, monitors, this process) "
                         "and the statements that took the server's time (pg_stat_statements)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary home and logs")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # clean up on SIGTERM too

    soak = Soak(args)
    try:
        soak.start_server()
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip() or "?"
        feeding = f"{args.rate:,} tasks/s" if args.rate else f"backlog <= {args.backlog:,}"
        print(f"jobconsole {commit} soak: {args.tasks:,} tasks, {args.monitors} monitors x "
              f"{args.workers} workers, fed {feeding}; {soak.server} in {soak.home}", flush=True)
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(soak.settings.items())
                               if k in STOCK or k in ("shared_buffers", "autovacuum_vacuum_threshold",
                                                      "autovacuum_vacuum_cost_limit",
                                                      "autovacuum_vacuum_cost_delay")),
              flush=True)
        print("  task table options: " + str(soak.q(
            "select reloptions from pg_class where oid = 'jobconsole.task'::regclass")), flush=True)
        soak.print_sizes("before", soak.sizes())
        soak.start_monitors()
        wall = soak.run()
        # the stats collector is a moment behind the last commits
        time.sleep(1.0)
        soak.print_sizes("after", soak.sizes())
        soak.report(wall)
    finally:
        soak.close()


if __name__ == "__main__":
    main()
