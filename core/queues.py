"""The queues of payloads the console lists: those of the pgsql transport in this
database, read live, and what running daemons publish of their other transports."""
from . import db
from .records import QueueInfo

# a daemon publishes every two seconds (compat/asynctask.py): rows older than this
# belong to daemons that stopped
FRESH_SECONDS = 10


def own_queues(conn, dsn):
    """The pgsql transport's queues in this database (`dsn`)."""
    here = f"pgsql:{db.describe(dsn)}"
    return [QueueInfo(here, name, depth, age) for name, depth, age in conn.execute(
        "select queue, count(*), extract(epoch from now() - min(submitted))::float "
        "from jobconsole.payload group by queue order by queue")]


def list_queues(conn, dsn):
    seen = conn.execute(
        "select transport, queue, depth, oldest_age from jobconsole.queue_seen "
        "where seen > now() - make_interval(secs => %s)", (FRESH_SECONDS,)).fetchall()
    found = own_queues(conn, dsn) + [QueueInfo(*row) for row in seen]
    return sorted(found, key=lambda q: (q.transport, q.name))


def publish(conn, seen):
    """Record what a daemon sees of its queues on another transport ([QueueInfo]),
    renewing the rows it published before."""
    conn.execute(
        "insert into jobconsole.queue_seen (transport, queue, depth, oldest_age) "
        "select * from unnest(%s::text[], %s::text[], %s::bigint[], %s::float[]) "
        "on conflict (transport, queue) do update set depth = excluded.depth, "
        "oldest_age = excluded.oldest_age, seen = now()",
        ([q.transport for q in seen], [q.name for q in seen],
         [q.depth for q in seen], [q.oldest_age for q in seen]))
