"""Every statement that moves a task from one status to another, by name.

"What can move a task to 'failed'?" has its answer in this file: each statement says
which transitions it makes. The modules that run them (tasks.py for callers, worker.py
and monitor.py for the processes) hold no status-changing SQL of their own.

Two row triggers of schema.sql move tasks too, whoever changed them first:
- `retry()`: failed -> queued (or waiting, for a back-off), attempt + 1, when the error
  kind is one the task retries on and attempts remain;
- `release_dependents()`: a task's dependents, waiting -> queued once all they wait for
  are done, or waiting -> failed ('dependency') when one fails or is aborted.

The worker's hot path (the claim and the step) combines several transitions and their
bookkeeping in one statement, one round trip each; they live here all the same.
"""
from __future__ import annotations

from typing import Any

from . import db
from .records import FINISHED


def _aborting_or(status: str, kind: str, traceback: str, row: str = "") -> str:
    """SET clauses ending a task that was running: an abort or a timeout under way
    (status 'aborting') wins over `status`, `kind` and `traceback`, and ends the task
    'failed' for a timeout, 'aborted' for an abort, keeping the reason it recorded."""
    aborting = f"{row}status = 'aborting'"
    return f"""
    status = case when {aborting} then
                 case when {row}error_kind = 'timeout' then 'failed' else 'aborted' end
             else {status} end,
    error_kind = case when {aborting} then {row}error_kind else {kind} end,
    traceback = case when {aborting} then {row}traceback else {traceback} end"""


# -- enqueue: (none) -> queued, or waiting (a delayed start or unmet dependencies) ------

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


def _enqueue_sql(many: bool, fired: bool) -> str:
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
    # many rows: the statement announces and counts them, once per domain, and the
    # trigger (one call per row) stands aside, told so by a setting read before any row
    # is inserted
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
), counted as (
    select jobconsole.add_counts(array_agg(coalesce(%(owner)s, '')), array_agg(domain),
                                 array_agg(status), array_agg(1::bigint))
    from ins
)
select id from ins
where (select count(*) from told) >= 0 and (select count(*) from counted) >= 0  -- run both
"""


# (none) -> queued: one task with every option left to its operation, the commonest
# enqueue and the one scripts make in loops. Two parameters, (operation, JSON input):
# binding ENQUEUE's sixteen, most of them null, cost a one-by-one enqueue about a tenth.
ENQUEUE_PLAIN = """
with one as (
    select min(domain) as domain, min(timeout) as timeout, min(retries) as retries,
           min(backoff) as backoff, min(retry_on) as retry_on
    from jobconsole.operation
    where name = %s
    having min(domain) = max(domain)    -- one domain (see _OPERATION)
)
insert into jobconsole.task (operation, domain, input, priority, timeout, retries, status,
                             backoff, retry_on)
select %s, one.domain, %s::jsonb, 0, one.timeout, one.retries, 'queued', one.backoff,
       one.retry_on
from one
returning id
"""

# (none) -> queued | waiting: new tasks, one or many inputs, made by hand or by a
# schedule's fire time (`fired`: nothing if that fire time has its task already).
ENQUEUE = {(many, fired): _enqueue_sql(many, fired)
           for many in (False, True) for fired in (False, True)}

# (none) -> queued | waiting: a task that runs a shipped function (an action), whose
# operation, its name, is registered nowhere: the settings are the caller's or the
# columns' defaults. The insert trigger announces it.
ENQUEUE_SHIPPED = """
insert into jobconsole.task (operation, domain, host, input, owner, metadata, priority,
                             timeout, retries, run_at, status, backoff, retry_on, workflow,
                             action_id)
select %(operation)s, coalesce(%(domain)s, 'default'), %(host)s, %(input)s::jsonb, %(owner)s,
       %(meta)s::jsonb, %(priority)s, %(timeout)s, coalesce(%(retries)s::int, 0), t.run_at,
       case when t.run_at > now() or %(blocked)s then 'waiting' else 'queued' end,
       coalesce(%(backoff)s::float8, 0),
       coalesce(%(retry_on)s::text[], '{error,timeout,crash}'), %(workflow)s, %(action_id)s
from (select coalesce(%(run_at)s::timestamptz,
                      now() + make_interval(secs => %(delay)s::float8)) as run_at) t
returning id
"""

# (none) -> queued: a new task with the same operation, input and settings as another.
RELAUNCH = """
insert into jobconsole.task (operation, domain, host, input, raw_input, owner, metadata,
                             priority, timeout, retries, backoff, retry_on, workflow)
select operation, domain, host, input, raw_input, owner, metadata, priority, timeout,
       retries, backoff, retry_on, workflow
from jobconsole.task where id = %s
returning id
"""

# waiting -> failed ('dependency'): tasks just enqueued after a task they depend on,
# which had already failed or been aborted; they never run.
FAIL_BORN_ORPHANS = """
update jobconsole.task set status = 'failed', error_kind = 'dependency', traceback = %s,
    finished = now()
where id = any(%s)
"""

# -- waiting -> queued ------------------------------------------------------------------

# waiting -> queued: delayed tasks whose start time has come and whose dependencies are
# all done. Any monitor may run it, as often as it likes: SKIP LOCKED lets several share
# the work, and the update trigger wakes the workers of the domains concerned.
PROMOTE_DUE = """
update jobconsole.task set status = 'queued' where id in (
    select t.id from jobconsole.task t
    where t.status = 'waiting' and t.run_at <= now()
      and not exists (select from jobconsole.dependency d
                      join jobconsole.task p on p.id = d.depends_on
                      where d.task_id = t.id and p.status <> 'done')
    order by t.run_at limit %s
    for update skip locked)
"""

# waiting (held: no start time, nothing it depends on) -> queued: a task made to wait
# for its owner's word (`tasks.insert(held=True)`: a Tethys job saved, not executed) is
# released. The update trigger wakes the workers of its domain.
RELEASE_HELD = """
update jobconsole.task t set status = 'queued'
where id = %s and status = 'waiting' and run_at is null
  and not exists (select from jobconsole.dependency d where d.task_id = t.id)
returning id
"""

# -- a caller's abort -----------------------------------------------------------------

# waiting | queued | running not started (in a worker's hand) -> aborted, at once: it
# will never run, since a worker starts a task only while it is 'running' (the row lock
# orders the two). running, started -> aborting: its monitor kills the worker (KILL_...).
ABORT = """
update jobconsole.task set
    status = case when started is not null then 'aborting' else 'aborted' end,
    error_kind = 'abort',
    finished = case when started is not null then null else now() end
where id = %s and status in ('waiting', 'queued', 'running')
returning status
"""

# -- the worker's hot path ------------------------------------------------------------

# The queued tasks a worker may take, up to n, locked (CLAIM, CLAIM_STEP): `me` is the
# worker's row, if it still runs.
_NEXT = """next as (
    select id from jobconsole.task
    where status = 'queued' and domain = %(domain)s and (host is null or host = %(host)s)
      and (operation = any(%(ops)s) or (%(shipped)s and action_id is not null))
      and exists (select from me)
    order by priority desc, id
    limit %(n)s
    for update skip locked
)"""

# queued -> running (claimed, in the worker's hand, not started): up to n tasks.
# `me` locks this worker's row first: a monitor that is killing this worker holds that
# lock, so a claim racing with the kill waits, then finds the worker no longer running
# and claims nothing. When it claims something, the statement makes its own commit
# durable (the session's steps do not wait for the disk). It announces nothing (see
# NOTIFY_TASKS): the step that starts a claimed task announces it, at once for the
# first, and a console reads the state of every row it shows when it is told anything.
CLAIM = """
with me as (
    select id from jobconsole.worker where id = %(wid)s and status = 'running' for update
), """ + _NEXT + """, claimed as (
    update jobconsole.task t set status = 'running', claimed = now(), worker_id = %(wid)s
    from next where t.id = next.id
    returning t.priority, t.id, t.operation, t.input, t.raw_input, t.metadata, t.attempt, t.owner,
              t.action_id
), durable as (
    -- no notify here, see NOTIFY_TASKS
    select set_config('synchronous_commit', 'on', true)
    from claimed
    having count(*) > 0
)
select * from claimed where (select count(*) from durable) >= 0   -- runs durable
"""

# Log lines of running tasks, as four parallel arrays.
_LOG_ROWS = """insert into jobconsole.log (task_id, ts, line, source)
    select u.task, to_timestamp(u.t), u.l, u.s
    from unnest(%(log_tasks)s::bigint[], %(ts)s::float8[], %(lines)s::text[],
                %(sources)s::text[]) as u(task, t, l, s)"""

# (no transition) log lines a running task wrote, streamed while it runs.
INSERT_LOG = _LOG_ROWS

# What STEP and CLAIM_STEP share: record the results the worker holds (the worker row
# counts its runs and names the task its code runs now, if any).
_RECORD = """
with me as (
    update jobconsole.worker set runs = runs + %(finished)s, task_id = %(current)s
    where id = %(wid)s and status = 'running'
    returning id
), results as (
    select * from unnest(%(ids)s::bigint[], %(statuses)s::text[], %(outputs)s::jsonb[],
                         %(raws)s::bytea[], %(kinds)s::text[], %(tracebacks)s::text[])
        as r(id, status, output, raw_output, kind, traceback)
), finish as (
    update jobconsole.task t set {finish},
        output = r.output,
        raw_output = r.raw_output,
        finished = now()
    from results r
    where t.id = r.id and t.worker_id = %(wid)s and t.status in ('running', 'aborting')
      and exists (select from me)
    returning t.id, t.operation, t.status,
              extract(epoch from t.finished - t.started)::float8 as secs
), said as (
    -- the task trigger's counting stands aside: the worker counts what this statement
    -- ended, from what it returns (stats.Tally)
    select set_config('jobconsole.counted', statement_timestamp()::text, true)
), """

# running | aborting -> done | failed ('error') | aborted | failed ('timeout'): the
# results the worker holds; and running (in its hand) -> running (started): the next
# task or group. One statement per task, or per group of tiny ones, with the log's
# tail; it counts the worker's runs and names the task its code runs now. It may be
# sent again after a reconnect (the server may have lost it): it finishes a task only
# while it runs in this worker's name, and logs a finished task's lines only then.
# The session sets jobconsole.notifies_itself, so the task trigger stands aside and
# the statement announces its changes itself: a plain pg_notify is far cheaper than
# the trigger's transition tables.
_STEP = _RECORD + """{logged}started as (
    update jobconsole.task set started = now()
    where id = any(%(next)s::bigint[]) and worker_id = %(wid)s and status = 'running'
      and started is null and exists (select from me)
    returning id
)
select exists (select from me), array(select id from started),
       case when %(notify)s <> '' then pg_notify('jobconsole_task', %(notify)s) end,
       array(select operation from finish), array(select status from finish),
       array(select secs from finish)
where (select count(*) from said) >= 0   -- it runs
"""
_finish = _aborting_or("r.status", "r.kind", "r.traceback", row="t.")
STEP = _STEP.format(logged="", finish=_finish)
# the same, with log lines to write (the insert, and its trigger, only when there are)
_LOGGED = f"""logged as (
    {_LOG_ROWS}
    where exists (select from me)
      and (u.task <> all(%(ids)s::bigint[]) or u.task in (select id from finish))
), """
STEP_LOGGED = _STEP.format(logged=_LOGGED, finish=_finish)

# The step and the claim of tiny tasks, in one statement (see core/worker.py, groups):
# record the results the worker holds with their log tail, as STEP does, then
# queued -> running and started at once, up to n tasks, the group to run next. A task
# is then written twice instead of three times, and a group costs one statement. When
# it claims something it waits for the disk, as CLAIM does; the worker row names no
# task (current is null), as for every group.
_CLAIM_STEP = _RECORD + """{logged}""" + _NEXT + """, claimed as (
    update jobconsole.task t set status = 'running', claimed = now(), started = now(),
        worker_id = %(wid)s
    from next where t.id = next.id
    returning t.priority, t.id, t.operation, t.input, t.raw_input, t.metadata, t.attempt,
              t.owner, t.action_id
), told as (
    -- when it claims, the worker announces what ended afterwards (NOTIFY_TASKS)
    select case when count(*) > 0 then set_config('synchronous_commit', 'on', true)
                when %(notify)s <> '' then pg_notify('jobconsole_task', %(notify)s)::text end
    from claimed
)
-- one row per task claimed, or one row of nulls; the results' figures on the first row
-- only: sent on each of sixteen, their text cost the server and the worker more than
-- all the rest of the counting (see bench/counter_cost.py)
select exists (select from me),
       case when c.n is null or c.n = 1 then array(select operation from finish) end,
       case when c.n is null or c.n = 1 then array(select status from finish) end,
       case when c.n is null or c.n = 1 then array(select secs from finish) end,
       c.priority, c.id, c.operation, c.input, c.raw_input, c.metadata, c.attempt, c.owner,
       c.action_id
from (select) one left join (select *, row_number() over () as n from claimed) c on true
where (select count(*) from said) >= 0 and (select count(*) from told) >= 0   -- run both
order by c.n
"""
CLAIM_STEP = _CLAIM_STEP.format(logged="", finish=_finish)
CLAIM_STEP_LOGGED = _CLAIM_STEP.format(logged=_LOGGED, finish=_finish)
# What CLAIM_STEP ended, announced in a commit of its own once it has committed. A
# commit that notifies holds the server's notify lock until it ends, so a claim that
# notified would hold it while it waits for the disk, and every other worker's notify
# would wait as well: this commit does not wait for the disk. (Measured: 4 and 8
# workers on tiny tasks drain 7-37% faster.) The tasks it claimed and started are
# announced when they end, a few milliseconds later (they are tiny): a lone task waits
# for no round trip before it runs.
NOTIFY_TASKS = "select pg_notify('jobconsole_task', %s)"

# running, not started (in the worker's hand) -> queued: given back unrun, for idle
# workers to take (a slow task holds up what waits behind it; the worker stops).
# Announced here: the trigger stands aside on the worker's own connection.
GIVE_BACK_HAND = """
with back as (
    update jobconsole.task set status = 'queued', worker_id = null, claimed = null
    where id = any(%(ids)s) and worker_id = %(wid)s and status = 'running'
      and started is null
    returning id
)
select pg_notify('jobconsole_queued', %(domain)s) where exists (select from back)
"""

# running -> queued: what a worker finds in its name after a reconnect and does not
# hold, so never ran: a claim, or a step that started tasks, whose answer the broken
# connection lost (the steps it knows of were recorded again first).
RELEASE_UNHELD = """
with back as (
    update jobconsole.task set status = 'queued', worker_id = null, claimed = null,
        started = null
    where worker_id = %(wid)s and status = 'running'
      and id <> all(%(keep)s::bigint[])
    returning id
)
select pg_notify('jobconsole_queued', %(domain)s) where exists (select from back)
"""

# running | aborting, started in a group but its code not begun -> queued, or aborted
# if an abort came meanwhile (it never ran). Every SET expression reads the row as it
# was; a timeout, counted from the group's start, is undone with the start.
GIVE_BACK_STARTED = """
with back as (
    update jobconsole.task set
        status = case when error_kind = 'abort' then 'aborted' else 'queued' end,
        finished = case when error_kind = 'abort' then now() end,
        error_kind = case when error_kind = 'abort' then 'abort' end,
        traceback = null,
        worker_id = case when error_kind = 'abort' then worker_id end,
        claimed = case when error_kind = 'abort' then claimed end,
        started = null
    where id = any(%(ids)s) and worker_id = %(wid)s and status in ('running', 'aborting')
    returning status
)
select pg_notify('jobconsole_queued', %(domain)s)
where exists (select from back where status = 'queued')
"""

# -- the monitor ------------------------------------------------------------------------

# running -> aborting ('timeout'): a task past its timeout; its monitor then kills the
# worker, which ends it 'failed' (END_STARTED).
TIME_OUT = """
update jobconsole.task set status = 'aborting', error_kind = 'timeout',
    traceback = format('timed out after %%s s', timeout)
where id = %s and status = 'running'
"""

# What a dead or killed worker held, in two statements run together:
# running, not started -> queued: it never ran, since a worker records the start before
# running the code. That record may have been lost only if the server itself crashed
# since the claim, so those stay for END_STARTED instead.
RELEASE_UNSTARTED = """
update jobconsole.task set status = 'queued', worker_id = null, claimed = null
where worker_id = any(%(workers)s) and status = 'running' and started is null
  and claimed > pg_postmaster_start_time()
"""
# running -> failed ('crash'); aborting -> aborted, or failed ('timeout'): the abort or
# timeout under way wins over the crash its kill caused.
END_STARTED = f"""
update jobconsole.task set {_aborting_or("'failed'", "'crash'", "%(reason)s")},
    finished = now()
where worker_id = any(%(workers)s) and status in ('running', 'aborting')
returning id, status
"""


def end_tasks_of_workers(conn: Any, workers: list[int], reason: str) -> list[tuple[int, str]]:
    """Release or end what these dead workers held; returns [(task id, new status)]."""
    params = dict(workers=workers, reason=reason)
    conn.execute(RELEASE_UNSTARTED, params)
    return conn.execute(END_STARTED, params).fetchall()


# -- tasks of another engine (engines/tracker.py): no worker holds them -----------------

# queued -> running: the engine started it (a Slurm job went from PENDING to RUNNING).
ENGINE_STARTED = """
update jobconsole.task set status = 'running', claimed = coalesce(claimed, now()),
    started = coalesce(started, now())
where id = %s and status = 'queued'
"""

# queued | running | aborting -> done | failed | aborted: the engine said how it ended,
# or refused it. An abort or a timeout under way wins, as over a worker's result.
ENGINE_ENDED = f"""
update jobconsole.task t set {_aborting_or("%(status)s", "%(kind)s", "%(traceback)s")},
    output = %(output)s::jsonb, finished = now(), started = coalesce(started, now())
where id = %(id)s and status in ('queued', 'running', 'aborting')
returning status
"""


# -- removal ------------------------------------------------------------------------------

# waiting | queued | done | failed | aborted -> (deleted, with its log). Never a task a
# worker holds: it must be aborted first.
DELETE = """
delete from jobconsole.task where id = %s and status not in ('running', 'aborting')
returning id
"""

# done | failed | aborted, finished more than %(days)s days ago -> (deleted).
VACUUM = f"""
delete from jobconsole.task where status in {db.sql_list(FINISHED)}
  and finished < now() - make_interval(days => %(days)s)
"""
