"""Shipped functions in the database (myjobs' actions): stored once per distinct
function, read by the workers that run them (core/worker.py)."""
from .shipped import Shipped


def store(conn, packed: Shipped) -> int:
    """The id of the action holding `packed`, stored now if it was not yet."""
    row = conn.execute(
        "insert into jobconsole.action (key, name, code) values (%s, %s, %s) "
        "on conflict (key) do nothing returning id", (packed.key, packed.name, packed.code)
    ).fetchone()
    if row is None:
        row = conn.execute("select id from jobconsole.action where key = %s",
                           (packed.key,)).fetchone()
    return row[0]


def source_of(conn, tid: int):
    """(name, code) of the shipped function task `tid` runs, or None."""
    return conn.execute(
        "select a.name, a.code from jobconsole.task t join jobconsole.action a "
        "on a.id = t.action_id where t.id = %s", (tid,)).fetchone()


def job_ids(conn, name=None, category=None):
    """Ids of the tasks that run shipped functions, oldest first, narrowed to a
    function's name and a myjobs category when given."""
    return [r[0] for r in conn.execute(
        "select id from jobconsole.task where action_id is not null "
        "and (%(name)s::text is null or operation = %(name)s) "
        "and (%(category)s::text is null or metadata->>'category' = %(category)s) "
        "order by id", dict(name=name, category=category))]


def reset(conn):
    """Delete every task that runs shipped code, and every action."""
    with conn.transaction():
        conn.execute("delete from jobconsole.task where action_id is not null")
        conn.execute("delete from jobconsole.action")
