# pip: -e /work/main
"""jobconsole (this checkout, installed editable). Client: api.schedule (one task per call) and
api.schedule_many (one INSERT per batch of ENQ_BATCH).

Workers: one monitor, `Monitor(dsn, min_workers=W)` (W = WORKERS, default 2), which spawns W worker
processes, each running one task at a time; idle workers wake on LISTEN/NOTIFY (5 s safety poll);
heartbeats on (default timing). The task is bench/noop_ops.py `noop`: it appends to BENCH_LAT_FILE
in the latency phase (as common.mark_start does), captures its logs and saves a small output.
Run with the peer harness: PEER_DIRS=/work/main/bench/peers /work/shared/peer-bench/run_all.sh
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # the checkout: bench/peers/ -> repo

from common import (BATCH, DSN, N, WORKERS, emit, log, measure_latency,  # noqa: E402
                    spawn, time_processing, timed, wait_until)
from jobconsole import api, db  # noqa: E402

PEER = "jobconsole"
OPS = str(ROOT / "bench" / "noop_ops.py")
MONITOR = ("import sys; from jobconsole.monitor import Monitor; "
           "sys.exit(Monitor(sys.argv[1], min_workers=int(sys.argv[2])).run())")


def main():
    api.init_db(DSN)
    api.register_operations(DSN, OPS)
    cn = db.connect(DSN)
    sql = lambda q: cn.execute(q).fetchone()[0]
    reset = lambda: cn.execute("TRUNCATE jobconsole.task RESTART IDENTITY CASCADE")
    ended = lambda: sql("SELECT count(*) FROM jobconsole.task WHERE status IN ('done', 'failed', 'aborted')")
    span = lambda: sql("SELECT extract(epoch FROM max(finished) - min(started)) FROM jobconsole.task")
    monitor = lambda: spawn([sys.executable, "-c", MONITOR, DSN, str(WORKERS)], 1)
    enqueue_one = lambda x: api.schedule(DSN, "noop", x)

    # (a) enqueue: one task per call, then batches of BATCH; the batch's N stay queued for (b)
    emit(PEER, "enqueue_single", N / timed(lambda: [enqueue_one(i) for i in range(N)]), "tasks/s")
    reset()
    chunks = [range(i, min(i + BATCH, N)) for i in range(0, N, BATCH)]
    emit(PEER, "enqueue_batch", N / timed(lambda: [api.schedule_many(DSN, "noop", c) for c in chunks]),
         "tasks/s", batch=BATCH)

    # (b) processing: N queued; a monitor and its W workers start, run them all
    time_processing(PEER, ended, monitor, span, workers=WORKERS, note="monitor + W worker processes")
    bad = sql("SELECT count(*) FROM jobconsole.task WHERE status <> 'done'")
    assert bad == 0, f"{bad} jobconsole tasks did not end 'done'"
    reset()

    # (c) latency with idle workers
    def warmup():
        api.schedule_many(DSN, "noop", [-1, -2, -3, -4])
        wait_until(lambda: ended() >= 4, timeout=60)
    measure_latency(PEER, enqueue_one, monitor, warmup=warmup, settle=2.0)
    reset()
    cn.close()
    db.close_pools()


if __name__ == "__main__":
    from importlib.metadata import version
    log(f"{PEER}: jobconsole {version('jobconsole')} from {ROOT}, psycopg {version('psycopg')}, "
        f"N={N}, workers={WORKERS}")
    main()
