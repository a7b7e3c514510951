"""Shipped functions (myjobs' jobs) against registered operations, processed on the
same machine by the same monitor.

    python bench/shipped.py [--n 5000] [--rounds 3] [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

A throwaway database (--db, default jobconsole_bench_shipped) is dropped, created and
dropped again. One monitor with 2 workers that allows shipped code drains, in turn, N
queued tasks of the no-op operation (bench/noop_ops.py) and N myjobs jobs of a no-op
function, for each round; the two phases alternate, so that drift of a noisy machine
falls on both. A worker reads and compiles an action once, not per job: the target is
jobs at >= 0.8x the registered operation's rate, in every round. It prints figures and
asserts nothing.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from jobconsole import actions, api, shipped, tasks     # noqa: E402
from throughput import stop, wait_for      # noqa: E402

OPS = str(ROOT / "bench" / "noop_ops.py")
TARGET = 0.8


def noop_job(i):
    """What noop_ops.noop does, shipped: its output is saved, its prints captured."""
    return {"ok": True}


def drain(conn, n, timeout=600):
    began = time.perf_counter()
    ended = wait_for(lambda: conn.execute(
        "select count(*) from jobconsole.task where status = 'done'").fetchone()[0] >= n,
        timeout, f"{n} tasks done")
    return n / (ended - began)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="tasks per phase")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="jobconsole_bench_shipped", help="throwaway database (dropped!)")
    args = ap.parse_args()
    admin = psycopg.connect(args.dsn, autocommit=True)
    name = sql.Identifier(args.db)
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(name))
    admin.execute(sql.SQL("create database {}").format(name))
    dsn = conninfo.make_conninfo(args.dsn, dbname=args.db)
    monitor = None
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        conn = psycopg.connect(dsn, autocommit=True)
        monitor = subprocess.Popen(
            [sys.executable, "-m", "jobconsole.console", "monitor", "--workers", "2",
             "--allow-shipped-code"], env={**os.environ, "JOBCONSOLE_DSN": dsn},
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len([w for w in api.list_workers(dsn) if w.status == "running"]) == 2,
                 60, "two workers")
        ratios = []
        for r in range(args.rounds):
            rates = {}
            for phase in ("registered", "shipped"):
                conn.execute("truncate jobconsole.task cascade")
                # each phase's tasks become visible at once, as one transaction
                if phase == "registered":
                    api.schedule_many(dsn, "noop", list(range(args.n)))
                else:
                    with conn.transaction():
                        action = actions.store(conn, shipped.pack(noop_job))
                        for i in range(args.n):     # what myjobs.schedule inserts
                            tasks.insert(conn, "noop_job", [{"args": [i], "kwargs": {}}],
                                         action_id=action)
                conn.execute("vacuum analyze jobconsole.task")
                rates[phase] = drain(conn, args.n)
            ratio = rates["shipped"] / rates["registered"]
            ratios.append(ratio)
            print(f"round {r + 1}: registered {rates['registered']:,.0f} tasks/s, "
                  f"shipped {rates['shipped']:,.0f} jobs/s: {ratio:.2f}x", flush=True)
        verdict = "pass" if min(ratios) >= TARGET else "MISS"
        print(f"shipped/registered: {min(ratios):.2f}-{max(ratios):.2f}x "
              f"(target >= {TARGET}x in every round): {verdict}")
    finally:
        if monitor is not None:
            stop([monitor])
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(name))


if __name__ == "__main__":
    main()
