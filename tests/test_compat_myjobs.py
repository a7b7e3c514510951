"""Jumpscale's myjobs on jobconsole: plain functions scheduled as jobs, travelling as
their source, run only by monitors that allow shipped code; waiting, results, errors
in myjobs' words, dependencies, and the subprocess workers."""
import importlib.util
import time

import pytest

from helpers import MonitorProcess, alive, wait_for
from jobconsole import api
from jobconsole.compat import myjobs
from jobconsole.compat.myjobs import JobError, schedule
from jobconsole.errors import BadInput

import myjobs_funcs as funcs
from myjobs_funcs import addition


@pytest.fixture(autouse=True)
def database(dsn):
    myjobs.use(dsn)
    yield dsn
    myjobs.workers_stop()
    myjobs.use(None)


@pytest.fixture
def workers(dsn):
    """A monitor that runs shipped code, with two workers."""
    mon = MonitorProcess(dsn, "--workers", "2", "--allow-shipped-code")
    mon.wait_workers(2)
    yield mon
    mon.stop_with_workers()


def test_the_documents_example(workers, capsys):
    job = schedule(addition, a=1, b=2)
    job.wait(die=False)  # if die is passed as true excpetion will be propagated
    if job.state == "OK":
        print(job.result)
    else:
        print("Job failed")
    assert capsys.readouterr().out == "3\n"
    assert (job.error, job.error_cat, job.name) == ({}, "NA", "addition")
    assert 0 < job.time_start <= job.time_stop


def test_a_function_need_not_be_importable_where_it_runs(workers, tmp_path):
    # a file the workers cannot import: not on their path, and gone before they run
    source = tmp_path / "elsewhere.py"
    source.write_text("def shout(word):\n    return word.upper() + '!'\n")
    spec = importlib.util.spec_from_file_location("elsewhere", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    job = schedule(module.shout, "hello")
    source.unlink()
    assert job.wait(die=True).result == "HELLO!"


def test_wait_with_die_raises_with_the_remote_traceback(workers):
    job = schedule(funcs.divide, 1, 0)
    with pytest.raises(JobError) as failed:
        job.wait(die=True)
    assert "ZeroDivisionError" in failed.value.traceback
    assert "return a / b" in failed.value.traceback      # its source, quoted
    assert (job.state, job.error_cat) == ("ERROR", "ERROR")
    assert "ZeroDivisionError" in job.error["traceback"]


def test_schedule_with_wait_and_die_raises_too(workers):
    with pytest.raises(JobError, match="ZeroDivisionError"):
        schedule(funcs.divide, 1, 0, wait=True, die=True)
    assert schedule(funcs.divide, 1, 4, wait=True).result == 0.25


def test_timeout_crash_and_halt_have_their_error_cat(workers, dsn):
    timed_out = schedule(funcs.sleep_then, 30, timeout=1)
    crashed = schedule(funcs.crash)
    halted = schedule(funcs.sleep_then, 30)
    wait_for(lambda: halted.load().state == "RUNNING", 20, "the job to halt running")
    api.abort(dsn, halted.id)
    cats = {j.id: j.wait().error_cat for j in (timed_out, crashed, halted)}
    assert cats == {timed_out.id: "TIMEOUT", crashed.id: "CRASH", halted.id: "HALTED"}


def test_a_job_runs_after_its_dependencies_and_sees_them(workers):
    first = schedule(funcs.sleep_then, 0.5, "first")
    second = schedule(addition, 1, 1)
    after = schedule(funcs.my_dependencies, dependencies=[first, second.id])
    assert after.wait(die=True).result == [first.id, second.id]
    assert after.time_start >= first.load().time_stop


def test_a_job_whose_dependency_fails_fails_without_running(workers):
    bad = schedule(funcs.divide, 1, 0)
    never = schedule(funcs.talk, 1, dependencies=[bad])
    never.wait()
    assert never.state == "ERROR"
    assert never.error["dependency_failure"] == bad.id
    assert never.time_start == 0


def test_wait_and_results_of_many(workers):
    ids = [schedule(addition, n, n).id for n in range(4)]
    assert [j.state for j in myjobs.wait(ids)] == ["OK"] * 4
    assert myjobs.results(ids) == {i: 2 * n for n, i in enumerate(ids)}


def test_jobs_are_found_by_name_and_category(workers):
    a = schedule(addition, 1, 2, category="sums")
    schedule(funcs.talk, 1, category="chatter")
    a.wait()
    assert [j.id for j in myjobs.jobs.find(category="sums")] == [a.id]
    assert [j.id for j in myjobs.model_job.find(name="addition", state="OK")] == [a.id]
    assert myjobs.jobs.get(a.id).result == 3


def test_a_jobs_category_is_shown_and_matched_by_the_filter(dsn):
    from jobconsole.console import columns
    job = schedule(addition, 1, 2, category="sums")
    schedule(funcs.talk, 1, category="chatter")
    [found] = api.list_tasks(dsn, text="sums")
    assert found.id == job.id
    [shown] = [c for c in columns.TASKS if c.key == "category"]
    assert shown.text(found) == "sums"
    assert [t.id for t in api.list_tasks(dsn, text="!chatter")] == [job.id]


def test_a_jobs_output_goes_to_its_task_log(workers, dsn):
    job = schedule(funcs.talk, 7, wait=True, die=True)
    lines = [line for _, line in api.get_task(dsn, job.id).logs()]
    assert "printed 7" in lines and any("logged 7" in line for line in lines)


def test_inprocess_runs_here_and_returns_the_result(dsn):
    assert schedule(addition, 2, 3, inprocess=True) == 5
    assert api.list_tasks(dsn) == []


def test_a_monitor_without_the_option_leaves_shipped_jobs_waiting(dsn):
    plain = MonitorProcess(dsn, "--workers", "1")
    try:
        plain.wait_workers(1)
        job = schedule(addition, 1, 2)
        time.sleep(2)
        assert job.load().state == "NEW"
    finally:
        plain.stop()
    allowed = MonitorProcess(dsn, "--workers", "1", "--allow-shipped-code")
    try:
        assert job.wait(die=True, timeout=30).result == 3
    finally:
        allowed.stop()


def test_subprocess_workers_start_detached_and_stop(dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))
    pid = myjobs.workers_subprocess_start(nr_min=1, nr_max=2)
    job = schedule(addition, 20, 22)
    assert job.wait(die=True, timeout=60).result == 42
    assert [w.status for w in myjobs.find()] == ["running"]
    myjobs.workers_stop()
    assert not alive(pid)


def test_stop_with_reset_removes_jobs_and_actions(dsn, sql_conn):
    schedule(addition, 1, 2)
    myjobs.stop(reset=True)
    assert sql_conn.execute("select (select count(*) from jobconsole.task), "
                            "(select count(*) from jobconsole.action)").fetchone() == (0, 0)


@pytest.mark.parametrize("call, says", [
    (lambda: schedule(lambda: 1), "a lambda cannot travel"),
    (lambda: schedule(len, "abc"), "is not a Python function"),
    (lambda: schedule(addition, object(), 1), "the arguments is not JSON-serialisable"),
    (lambda: schedule(addition, 1, 2, dependencies=["x"]), "a dependency must be a Job"),
    (lambda: schedule(addition, 1, 2, die="yes"), "die must be"),
    (lambda: schedule(addition, 1, 2, timeout=-1), "timeout must be"),
    (lambda: myjobs.workers_subprocess_start(nr_min=3, nr_max=2), "nr_min (3) must not be"),
])
def test_bad_input_is_one_line_and_stores_nothing(call, says, sql_conn):
    with pytest.raises(BadInput) as refused:
        call()
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert sql_conn.execute("select (select count(*) from jobconsole.task), "
                            "(select count(*) from jobconsole.action)").fetchone() == (0, 0)


async def test_the_task_screen_shows_the_source_that_runs(dsn):
    from test_console import SIZE, details, until

    from jobconsole.console.app import JobConsole
    from jobconsole.console.task_screen import TaskScreen
    job = schedule(funcs.talk, 1)
    app = JobConsole(dsn)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TaskScreen(job.id))
        await until(pilot, lambda: isinstance(app.screen, TaskScreen)
                    and app.screen._source is not None, what="the source")
        await until(pilot, lambda: "source" in details(app.screen), what="the source shown")
        assert 'print(f"printed {n}")' in details(app.screen)
