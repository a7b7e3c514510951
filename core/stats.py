"""The overview's figures, for the console's overview and `jobconsole stats`.

They come from the per-minute counters the engine keeps as tasks end
(jobconsole.task_minute, migration 021), from the worker and monitor rows, and, for the
backlog, from the counts by status (jobconsole.task_count, migration 024) and the
oldest queued task of each domain (the first of the status index's queued entries), so
that reading them costs the same on ten thousand tasks or ten million. The backlog's
and the workers' history over the hour comes from samples the monitors take of those
twice a minute (jobconsole.backlog_minute and host_minute, migration 026). Durations'
p50 and p95 come from the counters' histograms: to within a factor of two.

A worker counts what its steps end in its memory (Tally) and writes the counts once a
second, before a task of its proves slow (one that may be aborted, which kills it), and
before it idles (what a monitor's stop kills): a step then costs no more than before.
The price: the counts of a busy worker lag by up to a second, and one killed while busy
loses what it counted in that second.
Every other way a task ends is counted by the task trigger as it happens.
"""
import math
import threading
import time
from datetime import timedelta

from . import counts
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
    # the server's clock, read once: this minute, and how much of it has passed
    now_minute, elapsed = conn.execute(
        "select date_trunc('minute', now()), "
        "extract(epoch from now() - date_trunc('minute', now()))::float8").fetchone()
    by_minute = {now_minute - timedelta(minutes=i): [0, 0, 0] for i in range(WINDOW)}
    ops = {}
    for minute, operation, done, failed, aborted, hists in rows:
        ended = by_minute.setdefault(minute, [0, 0, 0])
        ended[0] += done
        ended[1] += failed
        ended[2] += aborted
        op = ops.setdefault(operation, [0, 0, [0] * BUCKETS])
        op[0] += done + failed + aborted
        op[1] += failed
        for hist in hists:
            op[2] = [a + b for a, b in zip(op[2], hist)]
    minutes = [(m, *c) for m, c in sorted(by_minute.items())][-WINDOW:]
    rates = {"5m": _rate(minutes[-5:], elapsed), "60m": _rate(minutes, elapsed)}
    operations = sorted(
        ((name, ended, failed, failed / ended if ended else 0.0,
          _percentile(hist, 0.5), _percentile(hist, 0.95))
         for name, (ended, failed, hist) in ops.items()), key=lambda o: -o[1])
    return Stats(minutes, rates, _backlog(conn), operations, _hosts(conn),
                 **_history(conn, [m for m, *_ in minutes]))


def _backlog(conn):
    """[(domain, queued, waiting, oldest queued age in seconds or None)]."""
    waiting = counts.by_domain(conn, ("queued", "waiting"))
    oldest = dict(conn.execute(
        "select d, (select extract(epoch from now() - t.queued)::float8 "
        "           from jobconsole.task t where t.status = 'queued' and t.domain = d "
        "           order by t.id limit 1) "
        "from unnest(%s::text[]) d",
        ([d for d, c in waiting.items() if c.get("queued")],)).fetchall())
    return [(d, c.get("queued", 0), c.get("waiting", 0), oldest.get(d))
            for d, c in sorted(waiting.items())]


def _hosts(conn):
    """[(host, busy workers, idle workers, cpu %, memory %)] of the running monitors."""
    return [tuple(h) for h in conn.execute(
        "select m.host, count(*) filter (where w.task_id is not null), "
        "count(*) filter (where w.task_id is null), max(m.cpu_percent), max(m.mem_percent) "
        "from jobconsole.monitor m left join jobconsole.worker w on w.monitor_id = m.id "
        "and w.status = 'running' where m.status = 'running' group by m.host "
        "order by m.host").fetchall()]


def _history(conn, minutes):
    """The sampled minutes (see `sample`) as series over `minutes`, a minute no monitor
    sampled counting 0: {domain: [queued + waiting]} and {host: [busy workers]}."""
    at = {m: i for i, m in enumerate(minutes)}

    def series(rows):
        found = {}
        for minute, name, value in rows:
            if minute in at:
                found.setdefault(name, [0] * len(minutes))[at[minute]] = value
        return found
    since = minutes[0] if minutes else None
    return dict(
        backlog_history=series(conn.execute(
            "select minute, domain, queued + waiting from jobconsole.backlog_minute "
            "where minute >= %s", (since,))),
        busy_history=series(conn.execute(
            "select minute, host, busy from jobconsole.host_minute where minute >= %s",
            (since,))))


def sample(conn):
    """Keep this minute's backlog per domain and workers per host, for the overview's
    history (monitors call it twice a minute; the first sample of a minute stays)."""
    backlog, hosts = _backlog(conn), _hosts(conn)
    with conn.transaction():
        if backlog:
            conn.execute(
                "insert into jobconsole.backlog_minute (minute, domain, queued, waiting, "
                "oldest) select date_trunc('minute', now()), u.* from unnest(%s::text[], "
                "%s::int[], %s::int[], %s::float8[]) u on conflict do nothing",
                [list(col) for col in zip(*backlog)])
        if hosts:
            conn.execute(
                "insert into jobconsole.host_minute (minute, host, busy, idle, cpu_percent, "
                "mem_percent) select date_trunc('minute', now()), u.* from unnest("
                "%s::text[], %s::int[], %s::int[], %s::real[], %s::real[]) u "
                "on conflict do nothing", [list(col) for col in zip(*hosts)])


def _rate(minutes, elapsed):
    """(done, failed, aborted) per second over these minutes (the current one counts for
    the `elapsed` seconds of it that have passed)."""
    if not minutes:
        return (0.0, 0.0, 0.0)
    seconds = 60 * (len(minutes) - 1) + max(elapsed, 1.0)
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
    """Drop counters and samples older than KEEP_DAYS (monitors call it now and then)."""
    for table in ("task_minute", "backlog_minute", "host_minute"):
        conn.execute(f"delete from jobconsole.{table} where minute < now() - "
                     "make_interval(days => %s)", (KEEP_DAYS,))


# A worker's counts, written in its own row (shard = its id) once a second.
FLUSH_TALLY = """
insert into jobconsole.task_minute as m (minute, domain, operation, shard, done, failed,
                                         aborted, seconds, hist)
select to_timestamp(u.minute), %(domain)s, u.operation, %(wid)s, u.done, u.failed,
       u.aborted, u.seconds, u.hist::integer[]
from unnest(%(minutes)s::float8[], %(operations)s::text[], %(done)s::int[],
            %(failed)s::int[], %(aborted)s::int[], %(seconds)s::float8[], %(hists)s::text[])
    as u(minute, operation, done, failed, aborted, seconds, hist)
on conflict (minute, domain, operation, shard) do update set
    done = m.done + excluded.done, failed = m.failed + excluded.failed,
    aborted = m.aborted + excluded.aborted, seconds = m.seconds + excluded.seconds,
    hist = jobconsole.hist_add(m.hist, excluded.hist)
"""


def bucket(seconds):
    """The histogram bucket of a duration, as jobconsole.histogram() puts it."""
    ms = max(seconds * 1000, 1.0)
    return min(BUCKETS - 1, max(0, math.ceil(math.log2(ms))))


class Tally:
    """What a worker's steps ended, counted in its memory and written once a second
    (`flush`): a counter updated by every step would cost each step a statement's
    worth of work, and the overview needs no more than the minute."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}          # (minute, operation) -> [done, failed, aborted, seconds, hist]

    def add(self, operations, statuses, seconds):
        """The tasks a step ended: tasks it sent back to the queue (a retry) do not count."""
        minute = time.time() // 60 * 60
        with self.lock:
            for op, status, secs in zip(operations, statuses, seconds):
                if status not in ("done", "failed", "aborted"):
                    continue
                row = self.rows.setdefault((minute, op), [0, 0, 0, 0.0, [0] * BUCKETS])
                row[("done", "failed", "aborted").index(status)] += 1
                if secs is not None:
                    row[3] += secs
                    row[4][bucket(secs)] += 1

    def flush(self, conn, wid, domain):
        """Write what was counted since the last flush (kept for the next one if the
        statement fails)."""
        with self.lock:
            rows, self.rows = self.rows, {}
        if not rows:
            return
        try:
            conn.execute(FLUSH_TALLY, dict(
                wid=wid, domain=domain, minutes=[m for m, _ in rows],
                operations=[op for _, op in rows], done=[r[0] for r in rows.values()],
                failed=[r[1] for r in rows.values()], aborted=[r[2] for r in rows.values()],
                seconds=[r[3] for r in rows.values()],
                hists=["{" + ",".join(map(str, r[4])) + "}" for r in rows.values()]))
        except BaseException:
            with self.lock:
                for key, row in rows.items():
                    mine = self.rows.setdefault(key, [0, 0, 0, 0.0, [0] * BUCKETS])
                    for i in range(4):
                        mine[i] += row[i]
                    mine[4] = [a + b for a, b in zip(mine[4], row[4])]
            raise
