"""Tasks in the database: create, read, list, abort, relaunch, delete.

The statements that change a task's status are in transitions.py; this module checks
what callers give and runs them.
"""
import json
import re
from dataclasses import fields
from datetime import datetime

from . import db, limits, query, transitions
from .errors import BadInput, Conflict, NotFound
from .operations import resolve_operation
from .records import LIVE_MONITOR, TASK_STATUSES, Attempt, TaskInfo, TaskSummary
from .registry import check_retries, check_seconds

COLUMNS = ", ".join(f.name for f in fields(TaskInfo))

# A summary reads what the triggers measured of the values (migration 016), never the
# values: a jsonb is read whole, however little of it is used. A traceback is read
# whole: the worker caps it (limits.MAX_TRACEBACK), and only rows written by older
# versions can be longer.
_TAIL = 4000
_PREVIEW = """case when raw_{v} is not null then '<' || {v}_size || ' bytes>'
                  when octet_length({v}_head) < {v}_size then {v}_head || '…'
                  else {v}_head end"""
_SUMMARIZED = {
    "input_preview": _PREVIEW.format(v="input"),
    "output_preview": _PREVIEW.format(v="output"),
    "traceback_tail": f"case when length(traceback) > {_TAIL} then '…' || right(traceback, {_TAIL}) "
                      "else traceback end",
}
SUMMARY_COLUMNS = ", ".join(_SUMMARIZED.get(f.name, f.name) for f in fields(TaskSummary))


def to_json_text(value, what="input", limited=True):
    """JSON text for a jsonb column, or BadInput saying how to pass other data, or that
    it is over the size limit (unless not `limited`)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what} is not JSON-serialisable ({exc}): {_instead(what)}") from None
    if limited:
        # ASCII (json.dumps escapes the rest): as many bytes as characters
        limits.check_size(len(text), what)
    # both checks below look for an escape first: every input and output passes here
    if "\\u0000" in text and _JSON_NUL.search(text):
        raise BadInput(f"{what} contains a NUL character, which PostgreSQL's jsonb cannot "
                       f"store: {_instead(what)}")
    # a lone surrogate (from undecodable bytes) is escaped as \udXXX, as are the halves
    # of a character beyond the BMP: only then does the slower check run
    if "\\ud" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(f"{what} contains text that is not valid Unicode (undecodable "
                           f"bytes from a file name?): {_instead(what)}") from None
    return text


def check_priority(priority):
    """BadInput unless `priority` fits the task table's integer column."""
    if isinstance(priority, bool) or not isinstance(priority, int) \
            or not -2**31 <= priority < 2**31:
        raise BadInput(f"priority must be a whole number from {-2**31:,} to {2**31 - 1:,}, "
                       f"got {priority!r}")


def _instead(what):
    return {"input": "pass bytes as rawinput= instead",
            "output": "save bytes with save_output(data, raw=True) instead"}.get(
                what, "make it plain JSON")


_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def one_input(input, rawinput):
    """(the input, whether it is raw bytes) of a call that takes input= or rawinput=."""
    if rawinput is not None and input is not None:
        raise BadInput("give input or rawinput, not both")
    return (rawinput, True) if rawinput is not None else (input, False)


def encode_inputs(inputs, raw=False):
    """([JSON text or None], [bytes or None]): each input as its jsonb or bytea column
    stores it, or BadInput for what neither can take."""
    if raw:
        if not all(isinstance(i, (bytes, bytearray, memoryview)) for i in inputs):
            raise BadInput("rawinput must be bytes")
        raws = [bytes(i) for i in inputs]
        for r in raws:
            limits.check_size(len(r), "rawinput")
        return [None] * len(inputs), raws
    return [to_json_text(i) for i in inputs], [None] * len(inputs)


def insert(conn, operation, inputs, *, raw=False, domain=None, host=None, owner=None,
           metadata=None, priority=0, timeout=None, retries=None, run_at=None, delay=None,
           backoff=None, retry_on=None, depends_on=(), workflow=None, fired=None,
           action_id=None, held=False, engine=None):
    """Insert one task per input in one statement; returns their ids in input order.

    The operation's domain and defaults are looked up inside the statement (one round
    trip: enqueueing one by one is a hot path); only when nothing was inserted does a
    second query find out why. `fired` is (schedule id, fire time) for a schedule's
    task: if that fire time already has its task, nothing is inserted and [] returned.
    With `action_id`, the one task runs that shipped function, and `operation` is only
    its name. `held`: the tasks wait until `release_held` (with no start time and no
    dependencies: nothing else promotes them). With `engine` ('slurm'), the tasks wait in
    that engine's domain for its tracker (engines/), and `operation` is only their name.
    """
    json_inputs, raw_inputs = encode_inputs(inputs, raw)
    meta = to_json_text(metadata, "metadata") if metadata is not None else None
    check_priority(priority)
    check_seconds(timeout, "timeout", zero_ok=False)
    if delay is not None and run_at is not None:
        raise BadInput("give a delay or run_at, not both")
    check_seconds(delay, "delay")
    if run_at is not None:
        if not isinstance(run_at, datetime):
            raise BadInput(f"run_at must be a datetime, got {run_at!r}")
        try:
            run_at = run_at.astimezone()     # a naive one is this machine's local time
        except (OverflowError, ValueError) as exc:
            raise BadInput(f"run_at {run_at} cannot be placed in time: {exc}") from None
    retry_on = check_retries(retries, backoff, retry_on)
    if len(json_inputs) == 1 and raw_inputs[0] is None and priority == 0 \
            and not (held or depends_on) \
            and all(v is None for v in (domain, host, owner, meta, timeout, retries, run_at,
                                        delay, backoff, retry_on, workflow, fired,
                                        action_id, engine)):
        # every option left to the operation: the statement with two parameters
        rows = conn.execute(transitions.ENQUEUE_PLAIN,
                            (operation, operation, json_inputs[0])).fetchall()
        if not rows:
            resolve_operation(conn, operation, None, None)   # raises the precise error
        return [r[0] for r in rows]
    params = dict(operation=operation, domain=domain, host=host, owner=owner, meta=meta,
                  priority=priority, timeout=timeout, retries=retries, run_at=run_at,
                  delay=delay, backoff=backoff,
                  retry_on=list(retry_on) if retry_on is not None else None, blocked=held,
                  workflow=workflow,
                  schedule_id=fired[0] if fired else None, fire_time=fired[1] if fired else None,
                  action_id=action_id, unregistered=action_id is not None or engine is not None)
    if engine is not None:
        params["domain"] = engine
    parents = sorted({int(getattr(d, "id", d)) for d in depends_on})
    if parents:
        with conn.transaction():
            # marking the parents locks them: one finishing now waits for this insert,
            # so its trigger sees the new dependents
            states = dict(conn.execute(
                "update jobconsole.task set has_dependents = true where id = any(%s) "
                "returning id, status", (parents,)).fetchall())
            missing = [p for p in parents if p not in states]
            if missing:
                raise NotFound(f"no task {', '.join(map(str, missing))} to depend on")
            params["blocked"] = held or any(s != "done" for s in states.values())
            ids = _insert(conn, operation, domain, host, params, json_inputs, raw_inputs)
            conn.execute(
                "insert into jobconsole.dependency (task_id, depends_on) "
                "select t, p from unnest(%s::bigint[]) t, unnest(%s::bigint[]) p", (ids, parents))
            gone = [p for p, s in states.items() if s in ("failed", "aborted")]
            if gone:
                conn.execute(transitions.FAIL_BORN_ORPHANS, (
                    f"task {gone[0]}, which it depends on, was {states[gone[0]]}", ids))
        return ids
    return _insert(conn, operation, domain, host, params, json_inputs, raw_inputs)


def _insert(conn, operation, domain, host, params, json_inputs, raw_inputs):
    if params["unregistered"]:
        params["input"] = json_inputs[0]
        return [conn.execute(transitions.ENQUEUE_SHIPPED, params).fetchone()[0]]
    many, fired = len(json_inputs) != 1, params["schedule_id"] is not None
    if many:
        params["inputs"], params["raws"] = json_inputs, raw_inputs
    else:
        params["input"], params["raw"] = json_inputs[0], raw_inputs[0]
    rows = conn.execute(transitions.ENQUEUE[many, fired], params).fetchall()
    if not rows and json_inputs:
        # the operation is unknown or in several domains: this raises the precise error;
        # if it does not, a fired task's fire time had its task already
        resolve_operation(conn, operation, domain, host)
    return [r[0] for r in rows]


def get(conn, tid):
    """The whole task, its values too, however big."""
    row = conn.execute(f"select {COLUMNS} from jobconsole.task where id = %s", (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return TaskInfo(*row)


def summary(conn, tid):
    """The task with its values cut short (TaskSummary)."""
    row = conn.execute(f"select {SUMMARY_COLUMNS} from jobconsole.task where id = %s",
                       (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return TaskSummary(*row)


def status_of(conn, tid):
    """The task's status alone: what waiting and checking need, without its values."""
    row = conn.execute("select status from jobconsole.task where id = %s", (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return row[0]


def abort(conn, tid):
    """Abort a task; returns its new status ('aborted' or 'aborting').

    A task not marked started (queued, or claimed ahead by a worker) is aborted at once
    and will never run: the worker's start is conditional on the status, and the row
    lock orders the two. A started one becomes 'aborting': if its code runs, the monitor
    that owns its worker kills that process; if it was started in a group of tiny tasks
    and its code has not begun, it ends 'aborted' too, having run only if its turn came
    within the group's first 50 ms (see core/worker.py).
    """
    with conn.transaction():
        row = conn.execute(transitions.ABORT, (tid,)).fetchone()
        if row is None:
            current = status_of(conn, tid)
            if current in ("aborting", "aborted"):
                return current
            raise Conflict(f"task {tid} is already {current}")
        if row[0] == "aborting":
            conn.execute("select pg_notify('jobconsole_control', 'abort')")
    return row[0]


def promote_due(conn, limit=1000):
    """Queue the waiting tasks whose start time has come; returns how many.

    Any monitor may run it, as often as it likes: SKIP LOCKED lets several share the
    work, and the status trigger wakes the workers of the domains concerned.
    """
    return conn.execute(transitions.PROMOTE_DUE, (limit,)).rowcount


def relaunch(conn, tid):
    """A new task with the same operation, input and settings; returns its id."""
    row = conn.execute(transitions.RELAUNCH, (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return row[0]


def release_held(conn, tid):
    """Queue a task inserted held; False if it was not waiting so (released already)."""
    return conn.execute(transitions.RELEASE_HELD, (tid,)).fetchone() is not None


def delete(conn, tid):
    """Delete a task that is not running (queued, waiting or finished), with its logs."""
    row = conn.execute(transitions.DELETE, (tid,)).fetchone()
    if row is None:
        raise Conflict(f"task {tid} is {status_of(conn, tid)}: abort it first")


def dependencies(conn, tid):
    """(the ids this task waits for, the ids that wait for it)."""
    row = conn.execute(
        "select array(select depends_on from jobconsole.dependency where task_id = %s "
        "order by 1), array(select task_id from jobconsole.dependency where depends_on = %s "
        "order by 1)", (tid, tid)).fetchone()
    return row[0], row[1]


def attempts(conn, tid):
    """[Attempt] of the task's failed attempts that were retried, oldest first (its
    current or last attempt is the task itself)."""
    return [Attempt(*r) for r in conn.execute(
        "select attempt, worker_id, started, finished, error_kind, traceback "
        "from jobconsole.attempt where task_id = %s order by attempt", (tid,))]


def logs(conn, tid, after=0, limit=None, detailed=False):
    """[(id, line)] of a task's log after line id `after`, oldest first; `detailed`:
    [(id, line, time written, source)] (see log.source)."""
    return conn.execute(
        f"select id, line{', ts, source' if detailed else ''} from jobconsole.log "
        "where task_id = %s and id > %s order by id limit %s", (tid, after, limit)).fetchall()


def vacuum(conn, days):
    """Delete tasks finished more than `days` days ago, and ended workers and monitors."""
    with conn.transaction():
        tasks = conn.execute(transitions.VACUUM, dict(days=days)).rowcount
        monitors = conn.execute(
            "delete from jobconsole.monitor where status not in "
            f"{db.sql_list(LIVE_MONITOR)} "
            "and coalesce(finished, heartbeat) < now() - make_interval(days => %s)",
            (days,)).rowcount
    return {"tasks": tasks, "monitors": monitors}


SORTABLE = ("id", "status", "operation", "domain", "owner", "priority", "queued",
            "started", "finished", "worker_id")
NULLABLE = ("owner", "started", "finished", "worker_id")




def list_tasks(conn, *, status=None, domain=None, owner=None, operation=None,
               workflow=None, text=None, sort="id", descending=True, limit=100,
               before=None, newest=None, where_query=None):
    """TaskSummary of the tasks with these column values, newest first (or sorted by `sort`), at most
    `limit`. `text` is a view's filter: a substring of id, status, operation, domain,
    owner, workflow or category (myjobs'), a leading '!' inverting it. `before` is the keyset cursor (an
    id: the page after it); with `newest`, only the tasks with the `newest` highest ids
    are searched (a view's widening search). `where_query` is a query (query.py)."""
    if status is not None and status not in TASK_STATUSES:
        raise BadInput(f"unknown status {status!r} (one of {', '.join(TASK_STATUSES)})")
    if sort not in SORTABLE:
        raise BadInput(f"cannot sort tasks by {sort!r} (one of {', '.join(SORTABLE)})")
    # only the conditions given: a query that names what it filters is planned for it
    where, params = [], dict(limit=limit)
    for column, value in (("status", status), ("domain", domain), ("owner", owner),
                          ("operation", operation), ("workflow", workflow)):
        if value is not None:
            where.append(f"{column} = %({column})s")
            params[column] = value
    if before is not None:
        where.append("id < %(before)s")
        params["before"] = before
    if newest is not None:
        where.append("id > (select max(id) from jobconsole.task) - %(newest)s")
        params["newest"] = newest
    pattern, invert = substring_filter(text)
    if pattern is not None:
        where.append(f"({query.SEARCHED} ilike %(pattern)s) <> %(invert)s")
        params.update(pattern=pattern, invert=invert)
    compiled = query.compile(where_query)
    if compiled is not None:
        where.append(compiled.sql)
        params.update(compiled.params)
    direction = "desc" if descending else "asc"
    # "nulls last" only where there can be nulls: on a not-null column it would stop
    # the planner from walking an index (the primary key, or status's) in order
    nulls = " nulls last" if sort in NULLABLE else ""
    rows = conn.execute(
        f"select {SUMMARY_COLUMNS} from jobconsole.task where {' and '.join(where) or 'true'} "
        f"order by {sort} {direction}{nulls}, id {direction} limit %(limit)s",
        params).fetchall()
    return [TaskSummary(*r) for r in rows]


def matching_ids(conn, where_query, owner=None):
    """The ids of the tasks a query matches (of one owner's, if given), oldest first:
    what a bulk action acts on, fixed when the user confirms (tasks that match later
    are not touched)."""
    compiled = query.compile(where_query)
    if compiled is None:
        raise BadInput("an empty query matches every task: say which tasks")
    return [r[0] for r in conn.execute(
        f"select id from jobconsole.task where {compiled.sql} "
        "and (%(owner)s::text is null or owner = %(owner)s) order by id",
        {**compiled.params, "owner": owner})]


def substring_filter(text):
    """(ILIKE pattern, inverted) for a filter typed in a view: the text matches as a
    substring, its wildcard characters literally; a leading '!' inverts it. No pattern
    for an empty filter (or a lone '!')."""
    invert = bool(text) and text.startswith("!")
    needle = text[1:] if invert else text
    if not needle:
        return None, invert
    return query.pattern(needle), invert


def id_span(conn):
    """How many ids lie between the lowest and the highest task id (0: no task)."""
    row = conn.execute("select max(id) - min(id) + 1 from jobconsole.task").fetchone()
    return row[0] or 0


