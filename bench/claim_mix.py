"""Does the claim path slow down with priorities and dependencies? Processing rates of N
no-op tasks with 2 workers, for three mixes, run in turns so that noise hits all alike.

    python bench/claim_mix.py [--n 10000] [--rounds 3] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

  plain         every task priority 0, no dependency
  priorities    priorities 0-9 spread at random over the queue
  dependencies  one task in ten has nine dependents, queued the moment it is done
It prints each round and the median per mix; it asserts nothing.
"""
import argparse
import random
import statistics
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import (OPS, checkout, drop_database, new_database,  # noqa: E402
                        start_monitor, stop, wait_for)

from jobconsole import api  # noqa: E402


def plain(dsn, n):
    for start in range(0, n, 1000):
        api.schedule_many(dsn, "noop", range(start, min(n, start + 1000)))


def priorities(dsn, n):
    rng = random.Random(7)
    for start in range(0, n, 100):
        api.schedule_many(dsn, "noop", range(start, min(n, start + 100)),
                          priority=rng.randrange(10))


def dependencies(dsn, n):
    for start in range(0, n, 10):
        parent = api.schedule(dsn, "noop", start)
        api.schedule_many(dsn, "noop", range(start + 1, min(n, start + 10)), depends_on=[parent])


MIXES = {"plain": plain, "priorities": priorities, "dependencies": dependencies}


def run(conn, dsn, n, mix):
    conn.execute("truncate jobconsole.task restart identity cascade")
    MIXES[mix](dsn, n)
    conn.execute("vacuum analyze jobconsole.task")
    monitor = start_monitor(dsn)
    try:
        wait_for(lambda: not conn.execute(
            "select exists (select from jobconsole.task where status <> 'done')").fetchone()[0]
            or monitor.poll() is not None, 600, mix)
    finally:
        stop([monitor])
    done, span = conn.execute(
        "select count(*), extract(epoch from max(finished) - min(started)) "
        "from jobconsole.task where status = 'done'").fetchone()
    return done / float(span)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="jobconsole_bench_mix", help="throwaway database (dropped!)")
    args = ap.parse_args()
    dsn = new_database(args.dsn, args.db)
    commit = checkout()
    print(f"jobconsole {commit} claim mix: N={args.n}, {args.rounds} rounds", flush=True)
    rates = {mix: [] for mix in MIXES}
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for r in range(args.rounds):
                for mix in MIXES:
                    rates[mix].append(run(conn, dsn, args.n, mix))
                    print(f"round {r + 1} {mix:13} {rates[mix][-1]:8,.0f} tasks/s", flush=True)
    finally:
        api.db.close_pools()
        drop_database(args.dsn, args.db)
    base = statistics.median(rates["plain"])
    print(f"\n{'mix':13} {'median':>10}  vs plain")
    for mix, values in rates.items():
        med = statistics.median(values)
        print(f"{mix:13} {med:8,.0f}/s  {med / base:6.2f}x")


if __name__ == "__main__":
    main()
