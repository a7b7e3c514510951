"""Tasks in the database: create, read, list, abort, relaunch, delete."""
import json
import re
from dataclasses import dataclass, fields
from datetime import datetime

from .errors import BadInput, Conflict, NotFound
from .operations import resolve_operation
from .registry import check_retries, check_seconds

FINISHED = ("done", "failed", "aborted")
STATUSES = ("waiting", "queued", "running", "aborting", "done", "failed", "aborted")


@dataclass(frozen=True)
class TaskInfo:
    id: int
    operation: str
    domain: str
    host: str | None
    status: str
    input: object
    raw_input: bytes | None
    output: object
    raw_output: bytes | None
    error_kind: str | None
    traceback: str | None
    owner: str | None
    metadata: dict | None
    priority: int
    timeout: float | None
    attempt: int
    retries: int
    worker_id: int | None
    queued: datetime
    claimed: datetime | None
    started: datetime | None
    finished: datetime | None
    run_at: datetime | None       # a delayed start: 'waiting' until then
    backoff: float                # seconds before a retry, doubled at each attempt
    retry_on: list                # the error kinds that retry
    progress_done: float | None
    progress_total: float | None
    progress_message: str | None
    facet: dict | None            # free results the task published while running
    has_dependents: bool
    schedule_id: int | None       # the schedule that made it
    fire_time: datetime | None    # the fire time it was made for (none: run by hand)
    workflow: str | None          # the group of tasks it belongs to

    @property
    def progress(self):
        """Done as a fraction of total (0..1), or None when the task gave no total."""
        if self.progress_done is None or not self.progress_total:
            return None
        return max(0.0, min(1.0, self.progress_done / self.progress_total))

    def as_json(self):
        return json_ready(self)


def json_ready(record):
    """A dataclass record as a JSON-ready dict (raw bytes shown by size, times in ISO 8601)."""
    out = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, (bytes, memoryview)):
            value = f"<{len(value)} bytes>"
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


COLUMNS = ", ".join(f.name for f in fields(TaskInfo))


def to_json_text(value, what="input"):
    """JSON text for a jsonb column, or BadInput saying how to pass other data."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what} is not JSON-serialisable ({exc}): {_instead(what)}") from None
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


def insert(conn, operation, inputs, *, raw=False, domain=None, host=None, owner=None,
           metadata=None, priority=0, timeout=None, retries=None, run_at=None, delay=None,
           backoff=None, retry_on=None, depends_on=(), workflow=None, fired=None):
    """Insert one task per input in one statement; returns their ids in input order.

    The operation's domain and defaults are looked up inside the statement (one round
    trip: enqueueing one by one is a hot path); only when nothing was inserted does a
    second query find out why. `fired` is (schedule id, fire time) for a schedule's
    task: if that fire time already has its task, nothing is inserted and [] returned.
    """
    if raw:
        if not all(isinstance(i, (bytes, bytearray, memoryview)) for i in inputs):
            raise BadInput("rawinput must be bytes")
        json_inputs, raw_inputs = [None] * len(inputs), [bytes(i) for i in inputs]
    else:
        json_inputs, raw_inputs = [to_json_text(i) for i in inputs], [None] * len(inputs)
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
    params = dict(operation=operation, domain=domain, host=host, owner=owner, meta=meta,
                  priority=priority, timeout=timeout, retries=retries, run_at=run_at,
                  delay=delay, backoff=backoff,
                  retry_on=list(retry_on) if retry_on is not None else None, blocked=False,
                  workflow=workflow,
                  schedule_id=fired[0] if fired else None, fire_time=fired[1] if fired else None)
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
            params["blocked"] = any(s != "done" for s in states.values())
            ids = _insert(conn, operation, domain, host, params, json_inputs, raw_inputs)
            conn.execute(
                "insert into jobconsole.dependency (task_id, depends_on) "
                "select t, p from unnest(%s::bigint[]) t, unnest(%s::bigint[]) p", (ids, parents))
            gone = [p for p, s in states.items() if s in ("failed", "aborted")]
            if gone:
                conn.execute(
                    "update jobconsole.task set status = 'failed', error_kind = 'dependency', "
                    "traceback = %s, finished = now() where id = any(%s)",
                    (f"task {gone[0]}, which it depends on, was {states[gone[0]]}", ids))
        return ids
    return _insert(conn, operation, domain, host, params, json_inputs, raw_inputs)


def _insert(conn, operation, domain, host, params, json_inputs, raw_inputs):
    many, fired = len(json_inputs) != 1, params["schedule_id"] is not None
    if many:
        params["inputs"], params["raws"] = json_inputs, raw_inputs
    else:
        params["input"], params["raw"] = json_inputs[0], raw_inputs[0]
    rows = conn.execute(_INSERTS[many, fired], params).fetchall()
    if not rows and json_inputs:
        # the operation is unknown or in several domains: this raises the precise error;
        # if it does not, a fired task's fire time had its task already
        resolve_operation(conn, operation, domain, host)
    return [r[0] for r in rows]


# The operation's domain and defaults, if it resolves to exactly one domain (else no
# row: nothing is inserted). Several hosts may register it: they share the domain.
_OPERATION = """
with one as (
    select min(domain) as domain, min(timeout) as timeout, min(retries) as retries,
           min(backoff) as backoff, min(retry_on) as retry_on,
           -- the server's clock decides when a delayed task is due, not the caller's
           coalesce(%(run_at)s::timestamptz,
                    now() + make_interval(secs => %(delay)s::float8)) as run_at
    from jobconsole.operation
    where name = %(operation)s and (%(domain)s::text is null or domain = %(domain)s)
      and (%(host)s::text is null or host = %(host)s)
    -- one domain; count(distinct domain) = 1 said the same but sorts, a tenth of
    -- the cost of enqueueing one task
    having min(domain) = max(domain)
)
"""
_COLUMNS_IN = ("operation, domain, host, input, raw_input, owner, metadata, priority, "
               "timeout, retries, run_at, status, backoff, retry_on, workflow")
_VALUES = ("%(operation)s, one.domain, %(host)s, {input}, {raw}, %(owner)s, %(meta)s::jsonb, "
           "%(priority)s, coalesce(%(timeout)s::float8, one.timeout), "
           "coalesce(%(retries)s::int, one.retries), one.run_at, "
           "case when one.run_at > now() or %(blocked)s then 'waiting' else 'queued' end, "
           "coalesce(%(backoff)s::float8, one.backoff), "
           "coalesce(%(retry_on)s::text[], one.retry_on), %(workflow)s")


def _insert_sql(many, fired):
    columns, values, conflict = _COLUMNS_IN, _VALUES, ""
    if fired:
        columns += ", schedule_id, fire_time"
        values += ", %(schedule_id)s, %(fire_time)s"
        conflict = "on conflict (schedule_id, fire_time) where fire_time is not null do nothing"
    if not many:
        # one row: the insert trigger announces it (cheaper than doing it here)
        values = values.format(input="%(input)s::jsonb", raw="%(raw)s::bytea")
        return _OPERATION + f"""insert into jobconsole.task ({columns})
select {values} from one
{conflict}
returning id
"""
    # many rows: the statement announces them, once per domain, and the trigger (one
    # call per row) stands aside, told so by a setting read before any row is inserted
    values = values.format(input="u.i", raw="u.r")
    return _OPERATION + f""", announce as (
    select set_config('jobconsole.insert_announced', statement_timestamp()::text, true)
), ins as (
    insert into jobconsole.task ({columns})
    select {values}
    from one, announce, unnest(%(inputs)s::jsonb[], %(raws)s::bytea[])
         with ordinality as u(i, r, n)
    order by u.n
    {conflict}
    returning id, domain, status
), told as (
    select pg_notify(case when q then 'jobconsole_queued' else 'jobconsole_task' end,
                     case when q then domain else 'new' end)
    from (select distinct domain, status = 'queued' as q from ins) d
)
select id from ins where (select count(*) from told) >= 0   -- runs told
"""


_INSERTS = {(many, fired): _insert_sql(many, fired)
            for many in (False, True) for fired in (False, True)}


def get(conn, tid):
    row = conn.execute(f"select {COLUMNS} from jobconsole.task where id = %s", (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return TaskInfo(*row)


def list_tasks(conn, *, status=None, domain=None, owner=None, operation=None, workflow=None,
               limit=100, before=None):
    """Newest first; `before` is the keyset cursor (an id) for the next page."""
    if status is not None and status not in STATUSES:
        raise BadInput(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
    rows = conn.execute(
        f"select {COLUMNS} from jobconsole.task where true "
        "and (%(status)s::text is null or status = %(status)s) "
        "and (%(domain)s::text is null or domain = %(domain)s) "
        "and (%(owner)s::text is null or owner = %(owner)s) "
        "and (%(operation)s::text is null or operation = %(operation)s) "
        "and (%(workflow)s::text is null or workflow = %(workflow)s) "
        "and (%(before)s::bigint is null or id < %(before)s) "
        "order by id desc limit %(limit)s",
        dict(status=status, domain=domain, owner=owner, operation=operation,
             workflow=workflow, before=before, limit=limit)).fetchall()
    return [TaskInfo(*r) for r in rows]


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
        row = conn.execute(
            "update jobconsole.task set "
            "status = case when started is not null then 'aborting' else 'aborted' end, "
            "error_kind = 'abort', "
            "finished = case when started is not null then null else now() end "
            "where id = %s and status in ('waiting', 'queued', 'running') returning status",
            (tid,)).fetchone()
        if row is None:
            current = get(conn, tid).status
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
    return conn.execute(
        "update jobconsole.task set status = 'queued' where id in ("
        "select t.id from jobconsole.task t where t.status = 'waiting' and t.run_at <= now() "
        "and not exists (select from jobconsole.dependency d join jobconsole.task p "
        "on p.id = d.depends_on where d.task_id = t.id and p.status <> 'done') "
        "order by t.run_at limit %s for update skip locked)", (limit,)).rowcount


def relaunch(conn, tid):
    """A new task with the same operation, input and settings; returns its id."""
    row = conn.execute(
        "insert into jobconsole.task (operation, domain, host, input, raw_input, owner, "
        "metadata, priority, timeout, retries, backoff, retry_on, workflow) "
        "select operation, domain, host, input, raw_input, owner, metadata, priority, "
        "timeout, retries, backoff, retry_on, workflow from jobconsole.task where id = %s "
        "returning id",
        (tid,)).fetchone()
    if row is None:
        raise NotFound(f"no task {tid}")
    return row[0]


def delete(conn, tid):
    """Delete a task that is not running (queued, waiting or finished), with its logs."""
    row = conn.execute(
        "delete from jobconsole.task where id = %s and status not in ('running', 'aborting') "
        "returning id", (tid,)).fetchone()
    if row is None:
        status = get(conn, tid).status
        raise Conflict(f"task {tid} is {status}: abort it first")


def dependencies(conn, tid):
    """(the ids this task waits for, the ids that wait for it)."""
    row = conn.execute(
        "select array(select depends_on from jobconsole.dependency where task_id = %s "
        "order by 1), array(select task_id from jobconsole.dependency where depends_on = %s "
        "order by 1)", (tid, tid)).fetchone()
    return row[0], row[1]


def logs(conn, tid, after=0, limit=None):
    """[(id, line)] of a task's log after line id `after`, oldest first."""
    return conn.execute(
        "select id, line from jobconsole.log where task_id = %s and id > %s order by id "
        "limit %s", (tid, after, limit)).fetchall()


def vacuum(conn, days):
    """Delete tasks finished more than `days` days ago, and ended workers and monitors."""
    with conn.transaction():
        tasks = conn.execute(
            "delete from jobconsole.task where status in ('done', 'failed', 'aborted') "
            "and finished < now() - make_interval(days => %s)", (days,)).rowcount
        monitors = conn.execute(
            "delete from jobconsole.monitor where status in ('stopped', 'dead') "
            "and coalesce(finished, heartbeat) < now() - make_interval(days => %s)",
            (days,)).rowcount
    return {"tasks": tasks, "monitors": monitors}


SORTABLE = ("id", "status", "operation", "domain", "owner", "priority", "queued",
            "started", "finished", "worker_id")
NULLABLE = ("owner", "started", "finished", "worker_id")


def window(conn, *, text=None, owner=None, sort="id", descending=True, limit=200,
           newest=None):
    """The rows a view shows: filtered by `text` (a substring of id, status, operation,
    domain, owner or workflow; a leading '!' inverts it), sorted by a column, at most
    `limit`; with `newest`, only among the tasks with the `newest` highest ids."""
    if sort not in SORTABLE:
        raise BadInput(f"cannot sort tasks by {sort!r} (one of {', '.join(SORTABLE)})")
    pattern, invert = substring_filter(text)
    direction = "desc" if descending else "asc"
    # "nulls last" only where there can be nulls: on a not-null column it would stop
    # the planner from walking an index (the primary key, or status's) in order
    nulls = " nulls last" if sort in NULLABLE else ""
    rows = conn.execute(
        f"select {COLUMNS} from jobconsole.task where true "
        "and (%(owner)s::text is null or owner = %(owner)s) "
        "and (%(newest)s::bigint is null or "
        "     id > (select max(id) from jobconsole.task) - %(newest)s) "
        "and (%(pattern)s::text is null or ((id::text || ' ' || status || ' ' || operation "
        "|| ' ' || domain || ' ' || coalesce(owner, '') || ' ' || coalesce(workflow, '')) "
        "ilike %(pattern)s) <> %(invert)s) "
        f"order by {sort} {direction}{nulls}, id {direction} limit %(limit)s",
        dict(owner=owner, pattern=pattern, invert=invert, limit=limit,
             newest=newest)).fetchall()
    return [TaskInfo(*r) for r in rows]


def substring_filter(text):
    """(ILIKE pattern, inverted) for a filter typed in a view: the text matches as a
    substring, its wildcard characters literally; a leading '!' inverts it. No pattern
    for an empty filter (or a lone '!')."""
    invert = bool(text) and text.startswith("!")
    needle = text[1:] if invert else text
    if not needle:
        return None, invert
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", invert


def id_span(conn):
    """How many ids lie between the lowest and the highest task id (0: no task)."""
    row = conn.execute("select max(id) - min(id) + 1 from jobconsole.task").fetchone()
    return row[0] or 0


def count_by_status(conn, owner=None):
    """{status: count} over all tasks (or one owner's)."""
    rows = conn.execute(
        "select status, count(*) from jobconsole.task "
        "where %(owner)s::text is null or owner = %(owner)s group by status",
        dict(owner=owner)).fetchall()
    return dict(rows)
