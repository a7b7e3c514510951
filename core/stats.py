"""The overview's figures, for the console's overview and `jobconsole stats`.

They come from the per-minute counters the engine keeps as tasks end
(jobconsole.task_minute, migration 021), from the worker and monitor rows, and, for the
backlog, from the queued and waiting tasks alone (an index on status reaches them), so
that reading them costs the same on ten thousand tasks or ten million. Durations'
p50 and p95 come from the counters' histograms: to within a factor of two.
"""
from datetime import timedelta

from .records import Stats

WINDOW = 60         # minutes the overview looks back
KEEP_DAYS = 7       # counters older than this are pruned
BUCKETS = 28


def read(conn):
    rows = conn.execute(
        "select minute, operation, sum(done), sum(failed), sum(aborted), "
        "array_agg(hist) from jobconsole.task_minute "
        "where minute >= date_trunc('minute', now()) - make_interval(mins => %s) "
        "group by minute, operation", (WINDOW - 1,)).fetchall()
    now_minute = conn.execute("select date_trunc('minute', now())").fetchone()[0]
    by_minute = {now_minute - timedelta(minutes=i): [0, 0, 0] for i in range(WINDOW)}
    ops = {}
    for minute, operation, done, failed, aborted, hists in rows:
        counts = by_minute.setdefault(minute, [0, 0, 0])
        counts[0] += done
        counts[1] += failed
        counts[2] += aborted
        op = ops.setdefault(operation, [0, 0, [0] * BUCKETS])
        op[0] += done + failed + aborted
        op[1] += failed
        for hist in hists:
            op[2] = [a + b for a, b in zip(op[2], hist)]
    minutes = [(m, *c) for m, c in sorted(by_minute.items())][-WINDOW:]
    rates = {"5m": _rate(minutes[-5:], conn), "60m": _rate(minutes, conn)}
    operations = sorted(
        ((name, ended, failed, failed / ended if ended else 0.0,
          _percentile(hist, 0.5), _percentile(hist, 0.95))
         for name, (ended, failed, hist) in ops.items()), key=lambda o: -o[1])
    backlog = conn.execute(
        "select domain, count(*) filter (where status = 'queued'), "
        "count(*) filter (where status = 'waiting'), "
        "extract(epoch from now() - min(queued) filter (where status = 'queued'))::float8 "
        "from jobconsole.task where status in ('queued', 'waiting') "
        "group by domain order by domain").fetchall()
    hosts = conn.execute(
        "select m.host, count(*) filter (where w.task_id is not null), "
        "count(*) filter (where w.task_id is null), max(m.cpu_percent), max(m.mem_percent) "
        "from jobconsole.monitor m left join jobconsole.worker w on w.monitor_id = m.id "
        "and w.status = 'running' where m.status = 'running' group by m.host "
        "order by m.host").fetchall()
    return Stats(minutes, rates, [tuple(b) for b in backlog], operations,
                 [tuple(h) for h in hosts])


def _rate(minutes, conn):
    """(done, failed, aborted) per second over these minutes (the current one counts for
    the part of it that has passed)."""
    if not minutes:
        return (0.0, 0.0, 0.0)
    elapsed = conn.execute("select extract(epoch from now() - date_trunc('minute', now()))"
                           ).fetchone()[0]
    seconds = 60 * (len(minutes) - 1) + max(float(elapsed), 1.0)
    return tuple(sum(m[i] for m in minutes) / seconds for i in (1, 2, 3))


def _percentile(hist, q):
    """The upper bound, in seconds, of the bucket where the q-th quantile falls."""
    total = sum(hist)
    if not total:
        return None
    seen = 0
    for b, n in enumerate(hist):
        seen += n
        if seen >= q * total:
            return (2 ** b) / 1000
    return (2 ** (BUCKETS - 1)) / 1000


def prune(conn):
    """Drop counters older than KEEP_DAYS (monitors call it now and then)."""
    conn.execute("delete from jobconsole.task_minute where minute < now() - "
                 "make_interval(days => %s)", (KEEP_DAYS,))
