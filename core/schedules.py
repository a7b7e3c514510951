"""Cron schedules in the database: prepare, list, plan, pause, run now, and firing.

Every monitor calls `fire_due` on each turn of its loop. A due schedule's row is taken
with SKIP LOCKED, its fire times up to now become tasks and its next fire time moves
on, all in one transaction; the task table's unique (schedule_id, fire_time) index
makes a second task for one fire time impossible even so.

A fire time is *missed* when no monitor fired it within `grace` seconds (none was
running, say). The schedule's policy then decides: 'once' runs one task for all the
fire times missed in a row, 'skip' runs none; either way the schedule counts and dates
them (`missed_count`, `last_missed`) and the monitor logs them, so nothing goes silently.
"""
import hashlib
import json
import logging
from dataclasses import fields
from datetime import datetime, timedelta
from itertools import islice

from . import cron, tasks
from .errors import BadInput, JobconsoleError, NotFound
from .operations import resolve_operation
from .records import MISSED_POLICIES, ScheduleInfo

log = logging.getLogger("jobconsole.schedules")

_MOST = 1000      # fire times handled or counted per schedule and turn
PLAN_HOURS = 24 * 366

_COLUMNS = ", ".join(f"s.{f.name}" for f in fields(ScheduleInfo)[:-1]) + ", t.status"
_SELECT = (f"select {_COLUMNS} from jobconsole.schedule s "
           "left join jobconsole.task t on t.id = s.last_task_id")


def prepare(conn, operation, rule, *, input=None, rawinput=None, domain=None, host=None,
            owner=None, metadata=None, priority=0, missed="once", tz=None):
    """Create the schedule, or update the one with the same operation, domain, host,
    rule, time zone and input (its owner, metadata, priority and policy are replaced;
    its next fire time and pause are kept). Returns its ScheduleInfo."""
    tz = tz or cron.local_zone()
    rule = cron.normal(rule)
    cron.check(rule, tz)
    tasks.check_priority(priority)
    if missed not in MISSED_POLICIES:
        raise BadInput(f"missed must be one of {', '.join(MISSED_POLICIES)}, got {missed!r}")
    value, is_raw = tasks.one_input(input, rawinput)
    (json_input,), (raw,) = tasks.encode_inputs([value], is_raw)
    meta = tasks.to_json_text(metadata, "metadata") if metadata is not None else None
    domain = resolve_operation(conn, operation, domain, host)[0]
    # the input as jsonb will hold it: keys sorted, and all of them text
    identity = [operation, domain, host, rule, tz,
                json.dumps(json.loads(json_input), sort_keys=True) if raw is None else None,
                raw.hex() if raw is not None else None]
    key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    with conn.transaction():
        now = conn.execute("select now()").fetchone()[0]
        sid = conn.execute(
            "insert into jobconsole.schedule (key, operation, domain, host, rule, timezone, "
            "input, raw_input, owner, metadata, priority, missed, next_fire) "
            "values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb, %s, %s, %s) "
            "on conflict (key) do update set owner = excluded.owner, "
            "metadata = excluded.metadata, priority = excluded.priority, "
            "missed = excluded.missed returning id",
            (key, operation, domain, host, rule, tz, json_input, raw, owner, meta, priority,
             missed, cron.first_at_or_after(rule, tz, now))).fetchone()[0]
    return get(conn, sid)


def get(conn, sid):
    row = conn.execute(f"{_SELECT} where s.id = %s", (sid,)).fetchone()
    if row is None:
        raise NotFound(f"no schedule {sid}")
    return ScheduleInfo(*row)


def list_schedules(conn):
    return [ScheduleInfo(*r) for r in conn.execute(f"{_SELECT} order by s.id").fetchall()]


def unprepare(conn, sid):
    """Delete a schedule; the tasks it made stay."""
    if not conn.execute("delete from jobconsole.schedule where id = %s", (sid,)).rowcount:
        raise NotFound(f"no schedule {sid}")


def pause(conn, sid, paused=True):
    """Pause or resume a schedule. Fire times while paused are not missed: resuming
    starts from the next fire time after now."""
    with conn.transaction():
        info = get(conn, sid)
        next_fire = info.next_fire
        if info.paused and not paused:
            now = conn.execute("select now()").fetchone()[0]
            next_fire = cron.first_at_or_after(info.rule, info.timezone, now)
        conn.execute("update jobconsole.schedule set paused = %s, next_fire = %s where id = %s",
                     (paused, next_fire, sid))
    return get(conn, sid)


def run_now(conn, sid):
    """Queue a task of this schedule now, outside its rule; returns the task id."""
    with conn.transaction():
        tid = _task(conn, get(conn, sid), None)[0]
        conn.execute("update jobconsole.schedule set last_task_id = %s where id = %s", (tid, sid))
    return tid


def plan(conn, hours):
    """[(fire time, ScheduleInfo)] of the next `hours`, soonest first (paused ones left
    out; at most a thousand fire times per schedule)."""
    if not 0 < hours <= PLAN_HOURS:
        raise BadInput(f"hours must be more than 0 and at most {PLAN_HOURS} (a year), "
                       f"got {hours!r}")
    now = conn.execute("select now()").fetchone()[0]
    until = now + timedelta(hours=hours)
    found = []
    for info in list_schedules(conn):
        if not info.paused:
            start = max(info.next_fire, now)
            found += [(t, info) for t in islice(
                cron.fire_times(info.rule, info.timezone, start, until), _MOST)]
    return sorted(found, key=lambda pair: (pair[0], pair[1].id))


def fire_due(conn, grace, limit=100):
    """Make the tasks of every due schedule this caller could lock; returns how many."""
    made = 0
    with conn.transaction():
        now = conn.execute("select now()").fetchone()[0]
        due = conn.execute(
            f"{_SELECT} where s.id in (select id from jobconsole.schedule "
            "where not paused and next_fire <= %s order by next_fire limit %s "
            "for update skip locked)", (now, limit)).fetchall()
        for row in due:
            info = ScheduleInfo(*row)
            try:
                with conn.transaction():
                    made += _fire(conn, info, now, grace)
            except Exception as exc:   # noqa: BLE001 - one bad schedule must not stop a monitor
                log.exception("schedule %s (%s) could not fire", info.id, info.operation)
                conn.execute(
                    "update jobconsole.schedule set last_error = %s, "
                    "next_fire = %s + interval '1 minute' where id = %s",
                    (f"could not fire: {type(exc).__name__}: {exc}", now, info.id))
    return made


def _fire(conn, info, now, grace):
    rule, tz = info.rule, info.timezone
    cutoff = now - timedelta(seconds=grace)
    start, missed, last_missed = info.next_fire, 0, None
    if start < cutoff:
        last_missed = cron.last_before(rule, tz, cutoff)
        missed = sum(1 for _ in islice(cron.fire_times(rule, tz, start, last_missed), _MOST))
        start = cron.first_at_or_after(rule, tz, cutoff)
    times = list(islice(cron.fire_times(rule, tz, start, now), _MOST))
    # past a full turn's worth, carry on from the last one at the next turn
    after = times[-1] if len(times) == _MOST else now
    if missed:
        what = f"{missed}{'+' * (missed == _MOST)} fire time{'s' * (missed > 1)}"
        if info.missed == "once":
            log.warning("schedule %s (%s): %s missed, up to %s: running it once now",
                        info.id, info.operation, what, last_missed.isoformat())
            times.insert(0, last_missed)
        else:
            log.warning("schedule %s (%s): %s missed, up to %s: skipped, as its policy says",
                        info.id, info.operation, what, last_missed.isoformat())
    made, last_task, error = [], None, None
    for t in times:
        try:
            with conn.transaction():
                ids = _task(conn, info, t)
        except JobconsoleError as exc:   # its operation was unregistered, say
            error = f"{t.isoformat()}: {exc}"
            log.error("schedule %s (%s) made no task for %s", info.id, info.operation, error)
            continue
        made += ids
        last_task = ids[-1] if ids else last_task
    conn.execute(
        "update jobconsole.schedule set next_fire = %s, "
        "last_fire = case when %s::bigint is null then last_fire else %s end, "
        "last_task_id = coalesce(%s, last_task_id), "
        "missed_count = missed_count + %s, last_missed = coalesce(%s, last_missed), "
        "last_error = %s where id = %s",
        (cron.first_after(rule, tz, after), last_task,
         times[-1] if times else None, last_task,
         missed - (1 if missed and info.missed == "once" else 0), last_missed, error, info.id))
    return len(made)


def _task(conn, info, fire_time):
    return tasks.insert(
        conn, info.operation, [info.raw_input if info.raw_input is not None else info.input],
        raw=info.raw_input is not None, domain=info.domain, host=info.host, owner=info.owner,
        metadata=info.metadata, priority=info.priority, fired=(info.id, fire_time))
