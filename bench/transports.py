"""rex.asynctask's transports: submit and process rates against the raw clients.

    python bench/transports.py [--n 50000] [--submit-n 3000] [--workers 2] [--only pgsql,filesys,redis,amqp]
                               [--dsn postgresql://postgres@127.0.0.1:5432/postgres]

The dsn names the server: a throwaway database (jobconsole_bench_transports) is made,
used and dropped. Redis (127.0.0.1:6379, db 15, flushed) and RabbitMQ (127.0.0.1:5672,
guest) are the machine's; the bench uses its own queue names and deletes them after.

For each transport:
  submit   --submit-n payloads one by one with transport.submit_task, against the raw client
           doing the same on the same server (an INSERT into jobconsole.payload, a write +
           fsync + rename, an RPUSH, a confirmed persistent publish), in alternating
           slices, so that drift in fsync times or a neighbour's load falls on both;
  process  an `asynctask-workers` daemon with W workers is started with N payloads
           waiting (put there in bulk) and drains them: each becomes a task, run by a
           no-op worker; its rate is N / (last task finished - the daemon's start);
against jobconsole's own processing: a monitor with W workers started with N tasks of
the same operation waiting (schedule_many), timed the same way, in the order own,
transport, transport, own, the ratio taken of the means: the machine's speed drifts
(other work shares it), and a lone measure of our own at the start misled by 40%.
Both pay one start-up (a process and its workers): use an N large enough that it does
not dominate.
Targets (issue 11): submit >= 0.8x the raw push; process >= 0.7x jobconsole's own.
It prints figures and a table against the targets; it asserts nothing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from unittest import mock
from pathlib import Path

import psycopg
from psycopg import conninfo, sql

ROOT = Path(__file__).resolve().parent.parent
from jobconsole import api, db  # noqa: E402   (pip install -e .: this checkout)

OPS = str(ROOT / "bench" / "transport_ops.py")
QUEUE = "bench_transports"
REDIS = "redis://127.0.0.1:6379?db=15"
AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


def interleaved(n, ours, raw, slices=6):
    """(payloads/s of `ours(i)`, of `raw(i)`), each called n times, in alternating slices:
    a disk's fsync times and a neighbour's load drift, and would otherwise fall on one."""
    took = [0.0, 0.0]
    step = max(1, n // slices)
    for start in range(0, n, step):
        for which in ((0, 1) if start // step % 2 == 0 else (1, 0)):
            push = (ours, raw)[which]
            began = time.perf_counter()
            for i in range(start, min(n, start + step)):
                push(i)
            took[which] += time.perf_counter() - began
    return n / took[0], n / took[1]


# -- the raw clients, each doing one transport's push by hand: (push, clean up) ----------

def raw_pgsql(dsn):
    conn = psycopg.connect(dsn, autocommit=True)

    def push(i):
        conn.execute("insert into jobconsole.payload (queue, payload) values (%s, %s::jsonb)",
                     (QUEUE + "_raw", json.dumps({"n": i})))

    def clean():
        conn.execute("delete from jobconsole.payload where queue = %s", (QUEUE + "_raw",))
        conn.close()
    return push, clean


def raw_filesys(root):
    folder = Path(root) / "raw"
    folder.mkdir(parents=True)

    def push(i):
        tmp = folder / f".{i}.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"n": i}))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, folder / f"{i}.json")
    return push, lambda: None


def raw_redis():
    import redis
    r = redis.Redis.from_url(REDIS)
    key = f"asynctask_{QUEUE}_raw"
    return (lambda i: r.rpush(key, json.dumps({"n": i}))), (lambda: r.delete(key))


def raw_amqp():
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    ch = conn.channel()
    ch.confirm_delivery()
    name = QUEUE + "_raw"
    ch.exchange_declare(name, "direct", durable=True)
    ch.queue_declare(name, durable=True)
    ch.queue_bind(name, name, routing_key=name)
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2)

    def push(i):
        ch.basic_publish(name, name, json.dumps({"n": i}).encode(), mandatory=True,
                         properties=props)

    def clean():
        ch.queue_delete(name)
        ch.exchange_delete(name)
        conn.close()
    return push, clean


def bulk(kind, uri, n, dsn):
    """Put n payloads on the queue at once, the fastest way each server offers, so that
    the daemon's processing, not the feeding, is what is timed."""
    bodies = [json.dumps({"n": i}) for i in range(n)]
    if kind == "pgsql":
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("insert into jobconsole.payload (queue, payload) "
                         "select %s, p::jsonb from unnest(%s::text[]) p", (QUEUE, bodies))
    elif kind == "redis":
        import redis
        redis.Redis.from_url(REDIS).rpush(f"asynctask_{QUEUE}", *bodies)
    elif kind == "amqp":    # unconfirmed: the broker takes them as fast as they come
        import pika
        conn = pika.BlockingConnection(pika.URLParameters(AMQP))
        ch = conn.channel()
        ch.exchange_declare(QUEUE, "direct", durable=True)
        ch.queue_declare(QUEUE, durable=True)
        ch.queue_bind(QUEUE, QUEUE, routing_key=QUEUE)
        props = pika.BasicProperties(content_type="application/json", delivery_mode=2)
        for body in bodies:
            ch.basic_publish(QUEUE, QUEUE, body.encode(), properties=props)
        conn.close()
    else:   # a directory: the transport's own files, without the wait for the disk
        transport = api.transport(dsn, uri)
        with mock.patch("os.fsync"):
            for i in range(n):
                transport.submit_task(QUEUE, {"n": i})


# -- processing ---------------------------------------------------------------------------

def drain_rate(dsn, n, command, workers):
    """Tasks per second of `jobconsole COMMAND --workers W`, started with its n tasks
    or payloads waiting: from its start to the last task finished. Each run pays the
    same start-up (a process, its workers), so the two rates compare."""
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobconsole.console", *command, "--workers", str(workers)],
        env=dict(os.environ, JOBCONSOLE_DSN=dsn), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            # the workers' run counts, a few rows: a count of the done tasks, 20 times a
            # second, cost a quarter of a core (here and in the server) while measuring
            while conn.execute(
                    "select coalesce(sum(w.runs), 0) from jobconsole.worker w "
                    "join jobconsole.monitor m on m.id = w.monitor_id where m.pid = %s",
                    (proc.pid,)).fetchone()[0] < n:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"{' '.join(command)}: not drained ({proc.poll()=})")
                time.sleep(0.05)
            last, made = conn.execute(
                "select extract(epoch from max(finished))::float8, "
                "extract(epoch from max(queued) - min(queued))::float8 from jobconsole.task").fetchone()
            # not a delete: the shared server does not autovacuum, and the next run would
            # claim past the dead entries of this one (tasks, and the pgsql transport's
            # payloads)
            conn.execute("truncate jobconsole.task, jobconsole.payload cascade")
    finally:
        proc.terminate()
        proc.wait(30)
    if os.environ.get("BENCH_VERBOSE"):
        print(f"  {n} tasks queued over {made:.2f} s, all done {last - started:.2f} s "
              f"after the start")
    return n / (last - started)


def own_rate(dsn, n, workers):
    api.schedule_many(dsn, "bench_noop", [{"n": i} for i in range(n)])
    return drain_rate(dsn, n, ["monitor"], workers)


def transport_rate(dsn, kind, uri, n, workers):
    bulk(kind, uri, n, dsn)
    settings = ["--set", f"asynctask_workers={json.dumps({QUEUE: 'bench_noop'})}",
                "--set", f"asynctask_transport={uri}"]
    return drain_rate(dsn, n, ["asynctask-workers", *settings], workers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--n", type=int, default=50000, help="payloads processed")
    parser.add_argument("--submit-n", type=int, default=3000, help="payloads submitted")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="pgsql,filesys,redis,amqp")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    kinds = args.only.split(",")

    name = "jobconsole_bench_transports"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    dsn = conninfo.make_conninfo(args.dsn, dbname=name)
    scratch = tempfile.TemporaryDirectory(prefix="jobconsole-bench-")
    uris = {"pgsql": dsn, "filesys": f"filesys:{scratch.name}/queues",
            "redis": REDIS, "amqp": AMQP}
    try:
        api.init_db(dsn)
        api.register_operations(dsn, OPS)
        rows = []
        for kind in kinds:
            transport = api.transport(dsn, uris[kind])
            n = args.submit_n
            push, clean = {"pgsql": lambda: raw_pgsql(dsn),
                           "filesys": lambda: raw_filesys(scratch.name),
                           "redis": raw_redis, "amqp": raw_amqp}[kind]()
            try:
                submit, raw = interleaved(
                    n, lambda i: transport.submit_task(QUEUE + "_sub", {"n": i}), push)
            finally:
                clean()
            while transport.get_task(QUEUE + "_sub") is not None:
                pass
            # own, transport, transport, own: a drift of the machine's speed over the
            # four drains falls on both sides alike
            rates = {"own": [], "transport": []}
            for side in ("own", "transport", "transport", "own"):
                rates[side].append(own_rate(dsn, args.n, args.workers) if side == "own" else
                                   transport_rate(dsn, kind, uris[kind], args.n, args.workers))
            own, process = (sum(rates[side]) / 2 for side in ("own", "transport"))
            print(f"{kind}: submit {submit:,.0f}/s (raw {raw:,.0f}/s), process "
                  f"{' and '.join(f'{r:,.0f}' for r in rates['transport'])}/s "
                  f"(own {' and '.join(f'{r:,.0f}' for r in rates['own'])}/s)", flush=True)
            rows.append((kind, submit / raw, process / own))
        print("\n| transport | submit / raw push (target >= 0.8) | process / own (target >= 0.7) |")
        print("|---|---:|---:|")
        for kind, s, p in rows:
            print(f"| {kind} | {s:.2f} {'pass' if s >= 0.8 else 'MISS'} | "
                  f"{p:.2f} {'pass' if p >= 0.7 else 'MISS'} |")
    finally:
        db.close_pools()
        scratch.cleanup()
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        if "redis" in kinds:
            import redis
            redis.Redis.from_url(REDIS).delete(f"asynctask_{QUEUE}", f"asynctask_{QUEUE}_sub")
        if "amqp" in kinds:
            import pika
            conn = pika.BlockingConnection(pika.URLParameters(AMQP))
            ch = conn.channel()
            for q in (QUEUE, QUEUE + "_sub"):
                ch.queue_delete(q)
                ch.exchange_delete(q)
            conn.close()


if __name__ == "__main__":
    main()
