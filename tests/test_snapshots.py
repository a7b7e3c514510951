"""Snapshot tests of the main screens: fixed data, a frozen clock, no live refresh.

The SVGs under __snapshots__/ are the accepted renderings; after a deliberate change,
look at the new ones and accept them with `pytest tests/test_snapshots.py --snapshot-update`.
"""
from datetime import datetime, timedelta, timezone

import pytest

from jobconsole.console import render
from jobconsole.console.app import JobConsole
from jobconsole.console.source import Source
from jobconsole.records import Stats

SIZE = (100, 30)
T0 = "2026-01-05 09:00:00+00"

SEED = f"""
insert into jobconsole.monitor (id, host, domain, pid, status, started, heartbeat, options)
values (1, 'db-1', 'default', 4242, 'running', '{T0}', '{T0}', '{{"max_mem": 64}}');
insert into jobconsole.worker (id, monitor_id, host, domain, pid, status, runs, mem_mb,
                               cpu_percent, started, heartbeat)
values (1, 1, 'db-1', 'default', 5001, 'running', 12, 48, 97, '{T0}', '{T0}'),
       (2, 1, 'db-1', 'default', 5002, 'running', 3, 51, 4, '{T0}', '{T0}');
insert into jobconsole.task (id, operation, domain, status, input, output, owner, metadata,
                             queued, claimed, started, finished, worker_id, error_kind, traceback)
values
 (1, 'resize_images', 'default', 'done', '{{"count": 5}}', '{{"resized": 5}}', 'alice', null,
  '{T0}', '{T0}', '{T0}', timestamptz '{T0}' + interval '2 seconds', 1, null, null),
 (2, 'import_invoices', 'default', 'failed', '{{"file": "nov.csv"}}', null, 'bob', null,
  '{T0}', '{T0}', '{T0}', timestamptz '{T0}' + interval '1 second', 2, 'error',
  E'Traceback (most recent call last):\\n  File "ops.py", line 9, in import_invoices\\nValueError: could not convert string to float: ''twelve'''),
 (3, 'train_model', 'default', 'aborted', '{{"epochs": 60}}', null, 'carol',
  '{{"dataset": "churn"}}', '{T0}', '{T0}', '{T0}', timestamptz '{T0}' + interval '95 seconds',
  1, 'abort', null),
 (4, '[b]x[/b]', 'default', 'queued', '"[@click=app.quit]"', null, '[red]eve[/]', null,
  '{T0}', null, null, null, null, null, null);
insert into jobconsole.log (task_id, ts, line)
select 3, timestamptz '{T0}' + make_interval(secs => i), line
from unnest(array['INFO demo: epoch 1: loss 0.9120', 'INFO demo: epoch 2: loss 0.8031',
                  '[/] [@click=app.quit] [bold red]not markup[/bold red]',
                  E'\\x1b[2J\\x1b[Hcursor home and clear?',
                  E'\\x1b]8;;http://evil.example/\\x1b\\\\an OSC 8 link\\x1b]8;;\\x1b\\\\',
                  E'\\x1b[32mgreen stays green\\x1b[0m']) with ordinality as u(line, i);
update jobconsole.task set progress_done = 5, progress_total = 5,
    progress_message = 'resized 5 of 5' where id = 1;
update jobconsole.task set progress_done = 23, progress_total = 60,
    progress_message = 'epoch 23: loss 0.4121', facet = '{{"best_loss": 0.4121}}' where id = 3;
update jobconsole.task set workflow = 'nightly-import' where id in (1, 2, 3);
insert into jobconsole.schedule (id, key, operation, domain, rule, timezone, input, owner,
    missed, paused, next_fire, last_fire, last_task_id, missed_count, last_missed,
    last_error, created)
values
 (1, 'k1', 'resize_images', 'default', '*/5 * * * *', 'UTC', '{{"count": 3}}', 'alice',
  'once', false, timestamptz '{T0}' + interval '35 minutes',
  timestamptz '{T0}' + interval '30 minutes', 1, 0, null, null, '{T0}'),
 (2, 'k2', 'import_invoices', 'default', '0 2 * * *', 'Europe/Paris', '{{"file": "day.csv"}}',
  'bob', 'skip', false, '2026-01-06 01:00+00', '2026-01-05 01:00+00', 2, 3,
  '2026-01-04 01:00+00', null, '{T0}'),
 (3, 'k3', '[b]x[/b]', 'default', '*/10 * * * * *', 'UTC', '"[@click=app.quit]"', null,
  'once', true, '{T0}', null, null, 0, null, 'unknown operation ''[b]x[/b]''', '{T0}');
"""


@pytest.fixture
def frozen(dsn, sql_conn, monkeypatch):
    sql_conn.execute(SEED)
    monkeypatch.setattr(render, "now", lambda: datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc))
    monkeypatch.setattr(Source, "name", property(lambda self: "postgres@db-1:5432/jobs"))
    monkeypatch.setenv("TZ", "UTC")
    return JobConsole(dsn, watch=False, refresh=3600)


async def loaded(pilot):
    deadline = 200
    while not getattr(pilot.app.screen, "loads", 0) and deadline:
        await pilot.pause(0.05)
        deadline -= 1
    await pilot.pause(0.2)


def after(*keys, screen_loads=True):
    """run_before for snap_compare: wait for the data, press keys, wait again."""
    async def run(pilot):
        await loaded(pilot)
        await pilot.press(*keys)
        if screen_loads:
            await loaded(pilot)
        else:
            await pilot.pause(0.2)
    return run


def test_tasks_view(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=loaded)


def test_task_screen_with_hostile_log_lines(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=after("down", "enter"))


def test_failed_task_with_its_traceback(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=after("down", "down", "enter"))


def test_workers_view(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=after("2"))


def test_schedules_view(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=after("4"))


def test_abort_confirmation(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE, run_before=after("a", screen_loads=False))


def test_help(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=SIZE,
                        run_before=after("question_mark", screen_loads=False))


def test_tasks_view_in_80_by_24(frozen, snap_compare):
    assert snap_compare(frozen, terminal_size=(80, 24), run_before=loaded)


def overview_figures(_source):
    """The overview's figures as an hour of a busy queue leaves them (its counters are
    read with the server's clock, which a snapshot cannot freeze: the figures are
    tested against real tasks in test_stats.py and test_console.py)."""
    start = datetime(2026, 1, 5, 8, 31, tzinfo=timezone.utc)
    minutes = [(start + timedelta(minutes=i), 400 + (i * 37) % 150, (i * 7) % 11,
                1 if i % 13 == 0 else 0) for i in range(60)]
    return Stats(
        minutes=minutes, rates={"5m": (7.9, 0.12, 0.01), "60m": (7.7, 0.09, 0.02)},
        backlog=[("default", 1520, 12, 754.0), ("gpu", 3, 0, 4.2)],
        operations=[("resize_images", 21000, 31, 0.0015, 0.032, 0.256),
                    ("[b]x[/b]", 310, 310, 1.0, 0.004, 0.008)],
        hosts=[("db-1", 2, 0, 97.0, 41.5), ("gpu-2", 1, 3, 12.0, 88.0)],
        backlog_history={"default": [max(0, 1532 - (i - 40) ** 2) for i in range(60)],
                         "gpu": [i % 4 for i in range(60)]},
        busy_history={"db-1": [2] * 60, "gpu-2": [min(i // 10, 4) for i in range(60)]})


def test_overview(frozen, snap_compare, monkeypatch):
    monkeypatch.setattr(Source, "stats", overview_figures)
    assert snap_compare(frozen, terminal_size=(100, 40), run_before=after("0"))
