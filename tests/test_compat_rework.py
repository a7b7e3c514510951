"""rework's calls, as rework's users write them: its quick start runs with only its
import lines changed, its command lines take the database URI where rework does, and
its API takes a SQLAlchemy engine or URL as the database."""
import os
import re
import subprocess
import sys
import textwrap
from urllib.parse import quote

import pytest
from psycopg import conninfo

from helpers import HERE, alive
from jobconsole import api
from jobconsole.errors import BadInput
from sqlalchemy_standin import URL, Engine
from test_cli import assert_one_line_error, jc

QUICK_START = '''
from jobconsole import api
from sqlalchemy_standin import create_engine

@api.task
def my_first_task(task):
    with task.capturelogs(std=True):
        print('I am running')
        somevalue = task.input * 2
        task.save_output(somevalue)
        print('I am done')


if __name__ == '__main__':
    engine = create_engine(
        '{uri}'
    )
    # now, schedule tasks
    t1 = api.schedule(engine, 'my_first_task', 'hello')
    t2 = api.schedule(engine, 'my_first_task', 100)

    # wait til they are completed
    t1.join()
    t2.join()

    assert t1.output == 'hellohello'
    assert t2.output == 200
'''


def postgres_uri(dsn):
    """The test database as rework's users write it: a postgres:// URI."""
    p = conninfo.conninfo_to_dict(dsn)
    host, port = p.get("host", ""), p.get("port")
    socket = host.startswith("/")
    auth = quote(p.get("user", ""), safe="")
    if p.get("password"):
        auth += ":" + quote(p["password"], safe="")
    netloc = f"{auth}@{'' if socket else host}{f':{port}' if port and not socket else ''}"
    query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "") if socket else ""
    return f"postgres://{netloc}/{p['dbname']}{query}"


def rework(*args, env=None):
    """`jobconsole ARGS` with no $JOBCONSOLE_DSN: the database only where rework puts it."""
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("JOBCONSOLE_DSN", None)
    full_env["PYTHONPATH"] = os.pathsep.join([HERE, full_env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "jobconsole.console", *args], env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_the_quick_start_runs_with_only_its_imports_changed(dsn, tmp_path):
    uri = postgres_uri(dsn)
    script = tmp_path / "test_rework.py"
    script.write_text(QUICK_START.replace("{uri}", uri))
    assert rework("init-db", uri).returncode == 0
    done = rework("register-operations", uri, str(script))
    assert done.returncode == 0, done.stderr
    listed = rework("list-operations", uri)
    assert "my_first_task" in listed.stdout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    env.pop("JOBCONSOLE_DSN", None)
    monitor = subprocess.Popen([sys.executable, "-m", "jobconsole.console", "monitor", uri],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ran = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                             text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        tasks = rework("list-tasks", uri)
        assert tasks.returncode == 0 and tasks.stdout.count("done") == 2
        first = min(t.id for t in api.list_tasks(dsn))
        log = rework("log-task", uri, str(first))
        assert log.stdout.splitlines() == ["I am running", "I am done"]
        log = rework("log-task", uri, str(first), "--prefix")
        assert [re.sub(r"\d", "0", line) for line in log.stdout.splitlines()] == [
            "stdout:INFO: 0000-00-00 00:00:00: I am running",
            "stdout:INFO: 0000-00-00 00:00:00: I am done"]
        workers = rework("list-workers", uri)
        assert workers.returncode == 0 and "running" in workers.stdout
    finally:
        monitor.terminate()
        monitor.wait(20)
    assert not alive(monitor.pid)


def test_abort_and_vacuum_take_the_uri_first_too(dsn):
    api.register_operations(dsn, os.path.join(HERE, "ops.py"))
    task = api.schedule(dsn, "double", 1)
    uri = postgres_uri(dsn)
    assert rework("abort-task", uri, str(task.id)).returncode == 0
    assert task.state == "aborted"
    assert rework("vacuum", uri).returncode == 0


def test_dsn_may_follow_the_command(dsn):
    api.register_operations(dsn, os.path.join(HERE, "ops.py"))
    task = api.schedule(dsn, "double", 1)
    code, out, err = jc(None, "list-tasks", "--dsn", dsn, "--json")
    assert code == 0, err
    assert str(task.id) in out
    code, _, err = jc(None, "list-operations", f"--dsn={dsn}")
    assert code == 0, err


@pytest.mark.parametrize("args, says", [
    (["log-task", "notauri", "1"], "'notauri' is not a database URI"),
    (["init-db", "localhost/db"], "'localhost/db' is not a database URI"),
    (["list-tasks", "--dsn", "a", "--dsn", "b"], "the database is named 2 times"),
])
def test_a_database_argument_that_is_not_one_is_one_line_and_exit_2(args, says):
    done = rework(*args)
    assert done.returncode == 2
    assert_one_line_error(done.stderr)
    assert says in done.stderr


def test_the_api_takes_an_engine_or_a_url_with_its_password(dsn):
    api.register_operations(dsn, os.path.join(HERE, "ops.py"))
    uri = postgres_uri(dsn).replace("postgres://", "postgresql+psycopg2://", 1)
    by_engine = api.schedule(Engine(uri), "double", 2)
    by_url = api.get_task(URL(uri), by_engine.id)
    assert by_url == by_engine
    assert api.Task.byid(Engine(uri), by_engine.id).tid == by_engine.id


@pytest.mark.parametrize("engine, says", [
    (object(), "a SQLAlchemy engine or URL"),
    (Engine("mysql://u:p@host/db"), "not a PostgreSQL one"),
    (Engine("not a url"), "not a PostgreSQL one"),
])
def test_an_engine_with_no_usable_url_is_refused_in_one_line(engine, says):
    with pytest.raises(BadInput, match=says):
        api.list_tasks(engine)


def test_the_handle_has_reworks_names(dsn):
    api.register_operations(dsn, os.path.join(HERE, "ops.py"))
    task = api.schedule(dsn, "double", {"n": 1})
    assert task.tid == task.id
    assert task.raw_input == b'{"n": 1}'
    raw = api.schedule(dsn, "double", rawinput=b"\x00\x01")
    assert raw.raw_input == b"\x00\x01"
