"""The `jobconsole` command as a script sees it: output, JSON, exit codes, one-line errors."""
import json
import os
import re
import subprocess
import sys

import psutil
import pytest
from helpers import OPS, task_pid, wait_for

from jobconsole import api
from jobconsole.schema import LATEST, migrations


def jc(dsn, *args, env=None, input=None):
    """Run `jobconsole ARGS` as a real process; returns (exit code, stdout, stderr)."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("JOBCONSOLE_DSN", None)
    if dsn is not None:
        full_env["JOBCONSOLE_DSN"] = dsn
    proc = subprocess.run([sys.executable, "-m", "jobconsole.console", *args], env=full_env,
                          capture_output=True, text=True, timeout=60, input=input)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(err):
    assert err.startswith("jobconsole: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_schedule_then_list_show_and_log(dsn, start_monitor):
    start_monitor()
    code, out, _ = jc(dsn, "schedule", "double", "--input", "21", "--owner", "bob", "--wait")
    assert code == 0
    assert re.search(r"^output\s+42$", out, re.M)
    tid = api.list_tasks(dsn)[0].id

    code, out, _ = jc(dsn, "list-tasks")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:4] == ["ID", "STATUS", "ERROR", "OPERATION"]
    assert row.split()[:3] == [str(tid), "done", "double"]

    # a listing carries a preview of each value and its size, never the value
    code, out, _ = jc(dsn, "list-tasks", "--json", "--owner", "bob")
    assert [(t["id"], t["status"], t["output_preview"], t["output_size"])
            for t in json.loads(out)] == [(tid, "done", "42", 2)]

    code, out, _ = jc(dsn, "show-task", str(tid), "--json")
    assert json.loads(out)["input"] == 21

    assert jc(dsn, "log-task", str(tid)) == (0, "doubling 21\n", "")


def test_schedule_wait_exits_1_when_the_task_fails(dsn, start_monitor):
    start_monitor()
    code, out, _ = jc(dsn, "schedule", "fail", "--input", '"x"', "--wait")
    assert code == 1
    assert re.search(r"^status\s+failed$", out, re.M)
    assert "ValueError: bad input: 'x'" in out


def test_log_task_follow_prints_until_the_task_ends(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "ticker", 5)
    code, out, _ = jc(dsn, "log-task", str(task.id), "--follow")
    assert code == 0
    assert out.splitlines() == [f"tick {i}" for i in range(5)]
    assert task.state == "done"


def test_log_task_shows_hostile_lines_without_their_escapes(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "chatty", {"lines": ["\x1b[2J[/]\x1b]8;;http://x/\x1b\\ok"]})
    task.join(timeout=30)
    code, out, _ = jc(dsn, "log-task", str(task.id))
    assert out.splitlines()[0] == "[/]ok"


def test_abort_relaunch_and_delete(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "sleep", 60)
    task_pid(task)
    assert jc(dsn, "abort-task", str(task.id))[:2] == (0, f"task {task.id} aborting\n")
    task.join(timeout=10)
    code, out, _ = jc(dsn, "relaunch-task", str(task.id))
    again = api.get_task(dsn, int(out))
    assert again.input == 60 and again.id != task.id
    again.abort()
    again.join(timeout=10)
    assert jc(dsn, "delete-task", str(task.id))[0] == 0
    assert [t.id for t in api.list_tasks(dsn)] == [again.id]


def test_delete_refuses_a_running_task(dsn, start_monitor):
    start_monitor()
    task = api.schedule(dsn, "sleep", 60)
    task_pid(task)
    code, _, err = jc(dsn, "delete-task", str(task.id))
    assert code == 6
    assert_one_line_error(err)
    assert "abort it first" in err


def test_processes_are_listed_and_steered(dsn, start_monitor):
    mon = start_monitor("--workers", "2")
    code, out, _ = jc(dsn, "list-monitors", "--json")
    (monitor,) = json.loads(out)
    assert (monitor["status"], monitor["workers"], monitor["pid"]) == ("running", 2, mon.pid)
    code, out, _ = jc(dsn, "list-workers")
    assert len(out.splitlines()) == 3
    worker = mon.workers()[0]
    assert jc(dsn, "kill-worker", str(worker.id))[0] == 0
    assert jc(dsn, "shutdown-monitor", str(monitor["id"]))[0] == 0
    assert mon.proc.wait(20) == 0


def test_a_workers_memory_is_a_share_of_its_monitors_limit_or_of_its_host(dsn, start_monitor):
    limited = start_monitor("--workers", "1", "--max-mem", "4000")
    [worker] = wait_for(lambda: [w for w in limited.workers() if w.mem_mb], 10,
                        "a heartbeat with the worker's memory")
    assert worker.mem_percent == pytest.approx(100 * worker.mem_mb / 4000, rel=0.01)
    code, out, _ = jc(dsn, "list-workers")
    assert f"{worker.mem_mb} MB" in out and "░" in out
    assert jc(dsn, "shutdown-monitor", "--now", str(worker.monitor_id))[0] == 0
    assert limited.proc.wait(20) == 0
    free = start_monitor("--workers", "1")
    [worker] = wait_for(lambda: [w for w in free.workers() if w.mem_mb], 10,
                        "a heartbeat with the worker's memory")
    total_mb = psutil.virtual_memory().total // 2**20
    assert worker.mem_percent == pytest.approx(100 * worker.mem_mb / total_mb, rel=0.01)


def test_operations_are_registered_listed_and_unregistered(dsn, tmp_path):
    ops = tmp_path / "more_ops.py"
    ops.write_text("from jobconsole import api\n\n@api.task(domain='reports', timeout=5)\n"
                   "def monthly(task):\n    pass\n")
    code, out, _ = jc(dsn, "register-operations", str(ops))
    assert code == 0 and "registered monthly (domain reports" in out
    code, out, _ = jc(dsn, "list-operations", "--domain", "reports", "--json")
    assert [(o["name"], o["timeout"]) for o in json.loads(out)] == [("monthly", 5.0)]
    assert jc(dsn, "unregister-operation", "monthly")[0] == 0
    assert jc(dsn, "unregister-operation", "monthly")[0] == 3


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("import nowhere_to_be_found\n", "cannot import"),
    ("def broken(:\n", "SyntaxError"),
    ("x = 1\n", "declares no operation"),
    ("from jobconsole import api\n@api.task(timeout=float('inf'))\ndef f(task): pass\n",
     "timeout must be positive, and at most ten years"),
    ("from jobconsole import api\n@api.task(name='op\\x1b]0;title\\x07')\ndef f(task): pass\n",
     "name must be printable text"),
])
def test_register_operations_explains_what_is_wrong(dsn, tmp_path, content, message):
    path = tmp_path / "ops_file.py"
    if content is not None:
        path.write_text(content)
    code, _, err = jc(dsn, "register-operations", str(path))
    assert code == 2
    assert_one_line_error(err)
    assert message in err


@pytest.mark.parametrize("args, code, message", [
    (["schedule", "nope"], 3, "unknown operation 'nope'"),
    (["schedule", "double", "--input", "{not json"], 2, "--input is not valid JSON"),
    (["schedule", "double", "--metadata", "[1,"], 2, "--metadata is not valid JSON"),
    (["show-task", "999"], 3, "no task 999"),
    (["log-task", "999"], 3, "no task 999"),
    (["abort-task", "999"], 3, "no task 999"),
    (["relaunch-task", "999"], 3, "no task 999"),
    (["kill-worker", "999"], 3, "no worker 999"),
    (["register-operations", "no_such_module_anywhere"], 2, "no module named"),
    (["schedule", "double", "--owner", b"caf\xe9".decode("utf-8", "surrogateescape")], 2,
     "not valid text"),
    # stored, these would break every monitor that computes a deadline from them
    (["schedule", "sleep", "--timeout", "inf"], 2, "timeout must be positive"),
    (["schedule", "fail", "--retries", "1", "--backoff", "nan"], 2, "backoff must be"),
    (["schedule", "double", "--delay", "1e300"], 2, "delay must be"),
    (["schedule", "double", "--priority", "99999999999"], 2, "priority must be"),
    (["schedule", "double", "--retries", "99999999999"], 2, "retries must be"),
    (["schedule", "double", "--input", "1" * 5000], 2, "cannot be read here"),
    (["schedule", "double", "--input", "[" * 5000 + "]" * 5000], 2, "cannot be read here"),
    (["schedule", "double", "--at", "0001-01-01T00:00"], 2, "cannot be placed in time"),
])
def test_bad_input_is_one_line_an_exit_code_and_changes_nothing(dsn, args, code, message):
    api.schedule(dsn, "double", 1)
    before = api.list_tasks(dsn)
    got, _, err = jc(dsn, *args)
    assert got == code
    assert_one_line_error(err)
    assert message in err
    assert api.list_tasks(dsn) == before


@pytest.mark.parametrize("dsn_value, message", [
    ("host=127.0.0.1 port=1 dbname=x user=postgres connect_timeout=2", "cannot connect"),
    ("nonsense=1", "invalid DSN"),
    ("postgresql://[bad", "invalid DSN"),
])
def test_a_bad_or_unreachable_database_is_exit_4(dsn_value, message):
    code, _, err = jc(dsn_value, "list-tasks")
    assert code == 4
    assert_one_line_error(err)
    assert message in err


def test_the_dsn_option_wins_over_the_environment(dsn):
    code, _, err = jc(dsn, "--dsn", "host=127.0.0.1 port=1 connect_timeout=2", "list-tasks")
    assert code == 4


def test_no_schema_says_to_run_init_db_and_init_db_is_idempotent(server_dsn, dsn, sql_conn):
    sql_conn.execute("drop schema jobconsole cascade")
    code, _, err = jc(dsn, "list-tasks")
    assert code == 5
    assert_one_line_error(err)
    assert "run `jobconsole init-db`" in err
    assert jc(dsn, "init-db")[:2] == (0, f"created schema jobconsole (version {LATEST})\n")
    assert jc(dsn, "init-db")[:2] == (0, f"schema jobconsole is up to date (version {LATEST})\n")
    assert jc(dsn, "register-operations", OPS)[0] == 0
    assert jc(dsn, "list-tasks")[0] == 0


def test_an_older_schema_is_refused_until_init_db_upgrades_it(dsn, sql_conn):
    sql_conn.execute("drop schema jobconsole cascade")
    sql_conn.execute("create schema jobconsole")
    sql_conn.execute("create table jobconsole.version "
                     "(version integer primary key, applied timestamptz not null default now())")
    sql_conn.execute(migrations()[0][1])             # as the first release left it
    sql_conn.execute("insert into jobconsole.version (version) values (1)")
    code, _, err = jc(dsn, "list-tasks")
    assert code == 5 and "run `jobconsole init-db` to upgrade" in err
    assert jc(dsn, "init-db")[:2] == (
        0, f"upgraded schema jobconsole from version 1 to {LATEST}\n")
    assert jc(dsn, "list-tasks")[0] == 0


def test_a_newer_schema_is_refused_with_what_to_do(dsn, sql_conn):
    sql_conn.execute("insert into jobconsole.version (version) values (99)")
    code, _, err = jc(dsn, "list-tasks")
    assert code == 5 and "upgrade jobconsole" in err
    code, _, err = jc(dsn, "init-db")
    assert code == 5 and "newer than this jobconsole" in err
    assert_one_line_error(err)


def test_a_second_monitor_for_the_same_host_and_domain_is_refused(dsn, start_monitor):
    start_monitor()
    code, _, err = jc(dsn, "monitor", "--workers", "1")
    assert code == 6
    assert "already runs" in err


def test_json_listings_are_strict_json_even_for_values_older_versions_stored(dsn):
    """Earlier versions accepted an infinite or NaN timeout: shown as null, not NaN."""
    import psycopg
    tid = api.schedule(dsn, "double", 1).id
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update jobconsole.task set timeout = 'NaN', backoff = 'Infinity' "
                     "where id = %s", (tid,))
    code, out, _ = jc(dsn, "list-tasks", "--json")
    strict = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert code == 0 and (strict[0]["timeout"], strict[0]["backoff"]) == (None, None)
