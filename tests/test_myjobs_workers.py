"""myjobs' workers on jobconsole: in the calling process, as subprocesses of a detached
monitor, and in windows of a tmux session (a real tmux server, on a private socket),
each supervised and shown with its kind; any number of processes may start them."""
import os
import shutil
import subprocess

import pytest

from helpers import alive, require, wait_for
from jobconsole import api
from jobconsole.compat import myjobs
from jobconsole.compat.myjobs import schedule
from jobconsole.errors import BadInput

import myjobs_funcs as funcs
from myjobs_funcs import addition


@pytest.fixture(autouse=True)
def database(dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))     # the monitors' log files
    myjobs.use(dsn)
    yield dsn
    myjobs.workers_stop()
    myjobs.use(None)


@pytest.fixture
def tmux_socket():
    """A tmux server of the test's own (tmux -L), killed afterwards."""
    require(None if shutil.which("tmux") else "tmux is not installed (apt install tmux)")
    socket = f"jobconsole-test-{os.getpid()}"
    yield socket
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def windows(socket):
    listed = subprocess.run(["tmux", "-L", socket, "list-windows", "-t", "=jobconsole", "-F",
                             "#{window_name}"], capture_output=True, text=True)
    return listed.stdout.split()


def test_an_inprocess_worker_runs_what_is_queued_here_and_returns(dsn):
    ok = schedule(addition, 2, 3)
    bad = schedule(funcs.divide, 1, 0)
    talk = schedule(funcs.talk, 4)
    assert myjobs.worker_inprocess_start() == 3
    assert (ok.load().state, ok.result) == ("OK", 5)
    assert (bad.load().error_cat, "ZeroDivisionError" in bad.error["traceback"]) == \
        ("ERROR", True)
    assert "printed 4" in [line for _, line in api.get_task(dsn, talk.id).logs()]
    [worker] = [w for w in api.list_workers(dsn, all=True) if w.kind == "inprocess"]
    assert (worker.pid, worker.status, worker.runs) == (os.getpid(), "stopped", 3)
    assert myjobs.worker_start() == 0       # myjobs' older name; nothing left


def test_subprocess_workers_may_be_started_by_any_number_of_callers(dsn):
    first = myjobs.workers_subprocess_start(nr_min=1, nr_max=1)
    second = myjobs.workers_subprocess_start(nr_min=1, nr_max=1)
    wait_for(lambda: len(myjobs.find()) == 2, 30, "a worker of each monitor")
    assert {w.kind for w in myjobs.find()} == {"subprocess"}
    assert len({m.label for m in api.list_monitors(dsn)}) == 2
    assert myjobs.results([schedule(addition, n, 1) for n in range(4)], timeout=60) \
        and alive(first) and alive(second)


def test_subprocess_workers_scale_up_with_queued_jobs(dsn):
    myjobs.workers_subprocess_start(nr_min=1, nr_max=3)
    jobs = [schedule(funcs.sleep_then, 3) for _ in range(3)]
    wait_for(lambda: len(myjobs.find()) == 3, 30, "three workers for three waiting jobs")
    myjobs.wait(jobs, die=True, timeout=60)


def test_tmux_workers_run_jobs_in_windows_of_the_jobconsole_session(dsn, tmux_socket):
    myjobs.workers_tmux_start(2, socket=tmux_socket)
    wait_for(lambda: len(myjobs.find()) == 2, 30, "two tmux workers")
    assert {w.kind for w in myjobs.find()} == {"tmux"}
    assert sorted(windows(tmux_socket)) == sorted(f"worker-{w.id}" for w in myjobs.find())
    job = schedule(funcs.talk, 5)
    assert job.wait(die=True, timeout=60).result == 5
    assert "printed 5" in [line for _, line in api.get_task(dsn, job.id).logs()]
    myjobs.workers_stop()
    wait_for(lambda: not windows(tmux_socket), 10, "the windows closed with their monitor")


def test_a_closed_tmux_window_ends_its_job_as_a_crash(dsn, tmux_socket):
    myjobs.worker_tmux_start(socket=tmux_socket)
    job = schedule(funcs.sleep_then, 60)
    wait_for(lambda: job.load().state == "RUNNING", 30, "the job to run")
    [worker] = myjobs.find()
    assert worker.task_id == job.id
    subprocess.run(["tmux", "-L", tmux_socket, "kill-window", "-t", f"=jobconsole:worker-{worker.id}"],
                   check=True)
    assert job.wait(timeout=30).error_cat == "CRASH"
    ended = [w for w in api.list_workers(dsn, all=True) if w.id == worker.id][0]
    assert (ended.status, ended.reason) == ("dead", "process ended (its tmux window was closed)")
    assert not alive(worker.pid)
    # its monitor starts another worker in a new window, which runs the next job
    assert schedule(addition, 1, 1).wait(die=True, timeout=60).result == 2


def test_a_tmux_worker_dies_with_its_monitor(dsn, tmux_socket):
    pid = myjobs.worker_tmux_start(socket=tmux_socket)
    [worker] = wait_for(lambda: [w for w in myjobs.find() if w.status == "running"], 30,
                        "a tmux worker")
    os.kill(pid, 9)
    wait_for(lambda: not alive(worker.pid), 20, "the worker to go with its monitor")


def test_tmux_workers_without_tmux_are_refused_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BadInput, match="tmux workers need tmux, which is not installed"):
        myjobs.workers_tmux_start(2)
    assert myjobs._started == []


@pytest.mark.parametrize("call, says", [
    (lambda: myjobs.workers_tmux_start(0), "nr must be"),
    (lambda: myjobs.workers_tmux_start(1, socket="a b"), "the tmux socket must be"),
])
def test_bad_worker_starts_are_refused_in_one_line(call, says):
    with pytest.raises(BadInput, match=says):
        call()
    assert myjobs._started == []


@pytest.mark.parametrize("args, says", [
    (["--tmux", "a:b"], "the tmux session must be"),
    (["--tmux", "jobs", "--tmux-socket", "a/b"], "the tmux socket must be"),
    (["--label", "x y"], "label must be"),
])
def test_the_monitor_cli_refuses_bad_names_in_one_line(dsn, args, says):
    from test_cli import assert_one_line_error, jc
    code, _, err = jc(dsn, "monitor", *args)
    assert code == 2 and says in err
    assert_one_line_error(err)
