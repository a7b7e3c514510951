"""Big inputs and outputs: listings show a preview and a size, never the value; the
size limit refuses what is over it, where the value is made; tracebacks are capped.
"""
import json
import os
import re
import uuid

import psycopg
import pytest

from jobconsole import api, limits, tasks
from jobconsole.console.app import JobConsole
from jobconsole.console.task_screen import TaskScreen
from jobconsole.errors import BadInput

from psycopg import conninfo

from jobconsole import schema
from test_cli import assert_one_line_error, jc
from test_console import SIZE, details, until
from test_schema import made_by_version

# hex of random bytes: compresses too little to stay in the row, so it is stored out
# of line (TOAST), as any big value is
BIG = os.urandom(300_000).hex()         # 600,000 characters


def toast_blocks_read(conn):
    """Blocks of the task table's out-of-line storage read in this transaction."""
    return conn.execute(
        "select pg_stat_get_xact_blocks_fetched(reltoastrelid) from pg_class "
        "where oid = 'jobconsole.task'::regclass").fetchone()[0]


def test_a_listing_reads_no_value_only_its_preview_and_size(dsn):
    tid = api.schedule(dsn, "double", {"blob": BIG}).id
    whole = len(json.dumps({"blob": BIG}))
    with psycopg.connect(dsn) as conn:
        [row] = tasks.list_tasks(conn)
        one = tasks.summary(conn, tid)
        assert toast_blocks_read(conn) == 0
        tasks.get(conn, tid)                                # what reading it whole costs
        assert toast_blocks_read(conn) > 0
    assert row == one
    assert row.input_size == whole
    assert row.input_preview == '{"blob": "' + BIG[:limits.PREVIEW_CHARS - 10] + "…"
    assert len(repr(row)) < 2000


def test_list_tasks_json_shows_previews_and_sizes(dsn):
    small = api.schedule(dsn, "double", [1, 2]).id
    big = api.schedule(dsn, "double", BIG).id
    raw = api.schedule(dsn, "rawecho", rawinput=b"\x00\x01\x02").id
    code, out, _ = jc(dsn, "list-tasks", "--json")
    assert code == 0 and len(out) < 10_000
    rows = {t["id"]: t for t in json.loads(out)}
    assert (rows[small]["input_preview"], rows[small]["input_size"]) == ("[1, 2]", 6)
    assert rows[big]["input_preview"].endswith("…") and rows[big]["input_size"] == len(BIG) + 2
    assert (rows[raw]["input_preview"], rows[raw]["input_size"]) == ("<3 bytes>", 3)
    assert "input" not in rows[big] and "raw_input" not in rows[big]
    # one task, asked for by id, is shown whole
    code, out, _ = jc(dsn, "show-task", str(big), "--json")
    assert json.loads(out)["input"] == BIG


def test_a_finished_task_lists_its_output_by_preview_and_a_retry_clears_it(dsn, sql_conn,
                                                                          start_monitor):
    start_monitor()
    task = api.schedule(dsn, "double", BIG).join(timeout=30)
    [row] = api.list_tasks(dsn)
    assert row.output_size == 2 * len(BIG) + 2 and row.output_preview.endswith("…")
    assert task.output == BIG * 2
    # a failure that retries drops the output and its measure with it
    sql_conn.execute("update jobconsole.task set status = 'failed', error_kind = 'error', "
                     "retries = 1 where id = %s", (task.id,))
    [row] = api.list_tasks(dsn)
    assert (row.status, row.output_preview, row.output_size) == ("queued", None, None)


async def test_the_task_screen_shows_a_head_and_the_whole_size(dsn):
    api.schedule(dsn, "double", BIG)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.table.row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen.loads)
        text = details(app.screen)
    assert re.search(rf'^ input +\(585\.9 KB\) "{BIG[:20]}', text, re.M)
    assert len(text) < 5000


@pytest.fixture
def limit_1mb(monkeypatch):
    monkeypatch.setenv(limits.ENV_MAX_VALUE_MB, "1")


def test_an_input_over_the_limit_is_refused_and_nothing_is_stored(dsn, limit_1mb):
    over = "x" * (2**20)            # with its quotes, two bytes over
    with pytest.raises(BadInput, match=r"^input is 1\.0 MB, over the limit of 1\.0 MB "
                                       r"\(JOBCONSOLE_MAX_VALUE_MB raises it\)$"):
        api.schedule(dsn, "double", over)
    with pytest.raises(BadInput, match="^rawinput is"):
        api.schedule(dsn, "rawecho", rawinput=b"x" * (2**20 + 1))
    with pytest.raises(BadInput, match="^input is"):
        api.schedule_many(dsn, "double", [1, over, 2])
    with pytest.raises(BadInput, match="^input is"):
        api.prepare(dsn, "double", "* * * * *", over)
    assert api.list_tasks(dsn) == [] and api.list_scheduled(dsn) == []
    assert api.schedule(dsn, "double", "x" * (2**20 - 2)).id     # at the limit: taken


def test_the_cli_refuses_an_input_over_the_limit_in_one_line(dsn):
    # a command-line argument is at most 128 KiB: a limit of 0.05 MB (52,428 bytes)
    code, out, err = jc(dsn, "schedule", "double", "--input", json.dumps("x" * 60_000),
                        env={limits.ENV_MAX_VALUE_MB: "0.05"})
    assert (code, out) == (2, "")
    assert_one_line_error(err)
    assert "input is 58.6 KB, over the limit of 51.2 KB (JOBCONSOLE_MAX_VALUE_MB" in err
    assert api.list_tasks(dsn) == []


def test_an_output_over_the_limit_fails_the_task_instead_of_being_stored(dsn, limit_1mb,
                                                                        start_monitor):
    start_monitor()
    task = api.schedule(dsn, "double", "x" * 600_000).join(timeout=30)   # output 1.2 MB
    info = task.info()
    assert (info.status, info.error_kind, info.output) == ("failed", "error", None)
    assert info.traceback.rstrip().endswith(
        "BadInput: output is 1.1 MB, over the limit of 1.0 MB (JOBCONSOLE_MAX_VALUE_MB "
        "raises it)")
    assert api.schedule(dsn, "double", "x" * 100).join(timeout=30).state == "done"


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "1025", "1e9"])
def test_a_bad_limit_setting_is_a_clear_error(dsn, monkeypatch, value):
    monkeypatch.setenv(limits.ENV_MAX_VALUE_MB, value)
    message = (r"^JOBCONSOLE_MAX_VALUE_MB must be a number of megabytes above 0 and at "
               r"most 1024, got ")
    with pytest.raises(BadInput, match=message):
        api.schedule(dsn, "double", 1)
    with pytest.raises(BadInput, match=message):
        api.run_monitor(dsn)
    assert api.list_tasks(dsn) == []


def test_the_cli_says_what_is_wrong_with_the_limit_setting(dsn):
    for command in (["schedule", "double", "--input", "1"], ["monitor"]):
        code, _, err = jc(dsn, *command, env={limits.ENV_MAX_VALUE_MB: "16MB"})
        assert code == 2
        assert_one_line_error(err)
        assert "JOBCONSOLE_MAX_VALUE_MB must be a number of megabytes" in err


def test_the_limit_defaults_to_16_mb_and_takes_fractions(monkeypatch):
    monkeypatch.delenv(limits.ENV_MAX_VALUE_MB, raising=False)
    assert limits.max_value_bytes() == 16 * 2**20
    monkeypatch.setenv(limits.ENV_MAX_VALUE_MB, " 0.5 ")
    assert limits.max_value_bytes() == 2**19


def test_a_traceback_is_capped_keeping_its_start_and_its_end(dsn, start_monitor):
    start_monitor()
    info = api.schedule(dsn, "fail", BIG).join(timeout=30).info()
    tb = info.traceback
    assert len(tb) <= limits.MAX_TRACEBACK + 100
    assert tb.startswith("Traceback (most recent call last):")
    assert tb.rstrip().endswith(BIG[-1000:] + "'")
    assert "characters cut …" in tb
    [row] = api.list_tasks(dsn)
    assert row.traceback_tail.startswith("…") and len(row.traceback_tail) == 4001


def test_a_short_traceback_is_kept_whole():
    assert limits.cap_traceback("short") == "short"
    text = "a" * limits.MAX_TRACEBACK
    assert limits.cap_traceback(text) == text
    capped = limits.cap_traceback("h" * 100_000 + "t" * 100_000)
    assert capped.startswith("h" * limits.TRACEBACK_HEAD + "\n… 134,464 characters cut …\n")
    assert capped.endswith("t" * (limits.MAX_TRACEBACK - limits.TRACEBACK_HEAD))


def test_tasks_stored_before_the_previews_are_measured_by_the_migration(server_dsn):
    name = f"jobconsole_bigvalues_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f"create database {name} template template0")
        try:
            dsn = conninfo.make_conninfo(server_dsn, dbname=name)
            with psycopg.connect(dsn, autocommit=True) as conn:
                made_by_version(conn, 12)
                conn.execute(
                    "insert into jobconsole.task (operation, domain, input, output, raw_input, "
                    "raw_output) values ('a', 'd', %s, '[1, 2]', null, null), "
                    "('b', 'd', null, null, '\\x0102', '\\x03')", (json.dumps(BIG),))
                schema.init_db(conn)
                rows = conn.execute("select input_size, left(input_head, 5), output_size, "
                                    "output_head from jobconsole.task order by id").fetchall()
        finally:
            admin.execute(f"drop database {name} with (force)")
    assert rows == [(len(BIG) + 2, '"' + BIG[:4], 6, "[1, 2]"), (2, None, 1, None)]
