"""What the overview's per-minute counters cost the engine (issue 14: they may slow
claiming by no more than 5%). Two variants of this checkout run in turns, on one
throwaway database:

  counted    as shipped: each worker counts what its steps end in memory (stats.Tally)
             and writes its counts once a second; its step statements say so
             (jobconsole.counted) and return what they ended; the task trigger counts
             the tasks that anything else ends
  uncounted  all of that taken out: Tally does nothing, the step statements neither set
             jobconsole.counted nor return what they ended (a sitecustomize.py on the
             monitor's PYTHONPATH), and the task trigger's counting block is removed
             (CREATE OR REPLACE of its function). The steps' RETURNING list, which the
             counts read, stays: the uncounted variant is a little too dear, which
             makes the counters look cheaper by that much.

    python bench/counter_cost.py [--n 20000] [--rounds 6] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

Each round runs both variants, in the order AB then BA: a monitor with 2 workers waits,
idle, for N no-op tasks scheduled in one transaction and drains them. Per variant and
round it measures the rate (first start to last finish, from the rows) and the CPU time
the drain cost: the monitor's process tree and the server processes serving it (this
process's own connections are left out), per 1,000 tasks. On this 2-core machine rates
move 10-30% between neighbouring runs; CPU time per task moves far less, so it is the
figure that can resolve 5%. It prints each round, the medians and the ratios; it
checks that the counted variant counted every task and the uncounted one none, and
asserts nothing else.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import (MONITOR, OPS, ROOT, checkout, drop_database,  # noqa: E402
                        new_database, stop, wait_for)

from jobconsole import api  # noqa: E402

# Run in the monitor and its workers (they inherit PYTHONPATH): the counting taken out
# of the Python side. It fails the process loudly if the statements no longer have the
# shape it edits, rather than measuring a variant that still counts.
UNCOUNTED_SITE = r'''
import re
from jobconsole import stats, transitions
stats.Tally.add = lambda self, *args: None
stats.Tally.flush = lambda self, *args: None
edited = 0
for name, value in list(vars(transitions).items()):
    if not name.startswith("_") and isinstance(value, str) and "jobconsole.counted" in value:
        value, said = re.subn(r"select set_config\('jobconsole\.counted', "
                              r"statement_timestamp\(\)::text, true\)", "select 1", value)
        value, ended = re.subn(r"array\(select (operation|status|secs) from finish\)",
                               "null", value)
        if (said, ended) != (1, 3):
            raise SystemExit(f"counter_cost: transitions.{name} changed shape")
        setattr(transitions, name, value)
        edited += 1
if edited < 4:
    raise SystemExit("counter_cost: fewer step statements than expected")
'''

TRIGGER_BLOCK = re.compile(r"\n\s*if current_setting\('jobconsole\.counted'.*?end if;\n",
                           re.DOTALL)


def cpu(pids):
    """Seconds of CPU (user + system) the processes have used, those still alive."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def tree(pid):
    try:
        p = psutil.Process(pid)
        return [pid] + [c.pid for c in p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def backends(conn, ours):
    return {r[0] for r in conn.execute(
        "select pid from pg_stat_activity where datname = current_database()").fetchall()} - ours


def minute_counts(conn):
    return conn.execute("select coalesce(sum(done + failed + aborted), 0) "
                        "from jobconsole.task_minute").fetchone()[0]


def drain(conn, dsn, n, env, ours):
    """One variant's round: (tasks/s, client CPU ms per 1,000, server CPU ms per 1,000)."""
    conn.execute("truncate jobconsole.task restart identity cascade")
    conn.execute("vacuum analyze jobconsole.task")
    monitor = subprocess.Popen([sys.executable, "-c", MONITOR, dsn], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: conn.execute(
            "select count(*) from jobconsole.worker w join jobconsole.monitor m "
            "on m.id = w.monitor_id where m.pid = %s and w.status = 'running'",
            (monitor.pid,)).fetchone()[0] >= 2 or monitor.poll() is not None, 60,
            "workers up", 0.1)
        if monitor.poll() is not None:
            raise SystemExit(f"the monitor exited ({monitor.returncode})")
        time.sleep(1.0)     # their start-up done: what follows is the drain's
        clients, servers = tree(monitor.pid), backends(conn, ours)
        before = cpu(clients), cpu(servers)
        api.schedule_many(dsn, "noop", range(n))
        wait_for(lambda: not conn.execute(
            "select exists (select from jobconsole.task where status <> 'done')").fetchone()[0]
            or monitor.poll() is not None, 600, "the drain", 0.05)
        # processes that came up meanwhile (a replaced worker) count from zero
        clients, servers = set(clients) | set(tree(monitor.pid)), servers | backends(conn, ours)
        after = cpu(clients), cpu(servers)
    finally:
        stop([monitor])
    done, span = conn.execute(
        "select count(*), extract(epoch from max(finished) - min(started)) "
        "from jobconsole.task where status = 'done'").fetchone()
    if done != n:
        raise SystemExit(f"{n - done} tasks did not end 'done'")
    return (done / float(span), 1000 * (after[0] - before[0]) / n * 1000,
            1000 * (after[1] - before[1]) / n * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="jobconsole_bench_counters",
                    help="throwaway database (dropped!)")
    args = ap.parse_args()
    # stopped with SIGTERM too, it stops its monitor (the `finally` clauses run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    dsn = new_database(args.dsn, args.db)
    commit = checkout()
    print(f"jobconsole {commit} counter cost: N={args.n}, {args.rounds} rounds, "
          "CPU in ms per 1,000 tasks", flush=True)
    site = tempfile.mkdtemp(prefix="counter_cost_")
    Path(site, "sitecustomize.py").write_text(UNCOUNTED_SITE)
    path = os.environ.get("PYTHONPATH")
    envs = {"counted": dict(os.environ),
            "uncounted": dict(os.environ, PYTHONPATH=site + (os.pathsep + path if path else ""))}
    figures = {v: [] for v in envs}
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        api.schedule_many(dsn, "noop", range(10))     # the pool's connection, opened now
        with psycopg.connect(dsn, autocommit=True) as conn:
            ours = backends(conn, set())
            counted_fn = conn.execute(
                "select pg_get_functiondef('jobconsole.task_changed'::regproc)").fetchone()[0]
            uncounted_fn, found = TRIGGER_BLOCK.subn("\n", counted_fn)
            if found != 1:
                raise SystemExit("the task trigger's counting block changed shape")
            functions = {"counted": counted_fn, "uncounted": uncounted_fn}
            for r in range(args.rounds):
                for variant in (envs if r % 2 == 0 else reversed(envs)):
                    conn.execute(functions[variant])
                    counted_before = minute_counts(conn)
                    figures[variant].append(drain(conn, dsn, args.n, envs[variant], ours))
                    time.sleep(1.5)     # the workers' last once-a-second flush is in
                    counted = minute_counts(conn) - counted_before
                    expected = args.n if variant == "counted" else 0
                    if counted != expected:
                        print(f"!! {variant}: counted {counted} tasks, expected {expected}",
                              flush=True)
                    rate, client, server = figures[variant][-1]
                    print(f"round {r + 1} {variant:9} {rate:8,.0f} tasks/s   CPU client "
                          f"{client:6.1f}  server {server:6.1f}  total {client + server:6.1f}",
                          flush=True)
            conn.execute(functions["counted"])
    finally:
        api.db.close_pools()
        drop_database(args.dsn, args.db)
    print(f"\n{'':10} {'tasks/s':>9} {'client':>7} {'server':>7} {'total':>7}   (medians)")
    med = {}
    for variant, rows in figures.items():
        med[variant] = [statistics.median(col) for col in zip(*rows)]
        rate, client, server = med[variant]
        print(f"{variant:10} {rate:9,.0f} {client:7.1f} {server:7.1f} {client + server:7.1f}")
    pairs = list(zip(figures["counted"], figures["uncounted"]))
    rate_ratios = [c[0] / u[0] for c, u in pairs]
    cpu_ratios = [(c[1] + c[2]) / (u[1] + u[2]) for c, u in pairs]
    print(f"\ncounted / uncounted, per round: rate "
          + ", ".join(f"{x:.3f}" for x in rate_ratios)
          + "; CPU per task " + ", ".join(f"{x:.3f}" for x in cpu_ratios))
    print(f"medians: rate {statistics.median(rate_ratios):.3f}x, "
          f"CPU per task {statistics.median(cpu_ratios):.3f}x "
          "(target: rate >= 0.95x, CPU per task <= 1.05x)")


if __name__ == "__main__":
    main()
