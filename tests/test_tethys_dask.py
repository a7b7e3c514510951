"""Tethys' DASK jobs on a real Dask cluster (a distributed.LocalCluster with process
workers): the monitors submit the function, record its result through the
process_results hook, bring its output into the task's log, really stop a running call,
and end a call whose Dask worker died as a crash instead of running it twice."""
import os
import signal
import subprocess
import types

import pytest

from helpers import require, wait_for
from jobconsole import api
from jobconsole.compat.tethys import JobManager, WorkflowJobNode
from jobconsole.errors import BadInput, EngineUnavailable

ALICE = types.SimpleNamespace(username="alice")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    try:
        from distributed import LocalCluster
    except ImportError:
        require("Dask's distributed is not installed (pip install -e '.[dev]')")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    yield cluster
    cluster.close()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_HOME", str(tmp_path))
    monkeypatch.setenv("JOBCONSOLE_ENGINE_POLL", "0.1")
    return tmp_path


@pytest.fixture
def manager(dsn):
    return JobManager("my_first_app", dsn)


def log_lines(dsn, job):
    return [line for _, line in api.get_task(dsn, job.id).logs()]


def test_a_dask_job_runs_its_function_and_stores_the_processed_result(
        manager, dsn, start_monitor, cluster):
    import dask_funcs
    job = manager.create_job("dask_1", ALICE, "DASK", scheduler=cluster.scheduler_address,
                             function=dask_funcs.add, args=[1, 2])
    job.set_attribute("process_results_function", dask_funcs.dollars)
    job.save()
    assert job.status == "Pending"
    start_monitor()
    job.execute()
    wait_for(lambda: job.status == "Complete", 60, "the Dask job to complete")
    assert job.get_result() == "$3"
    task = api.get_task(dsn, job.id).info()
    assert (task.domain, task.operation) == ("dask", "dask:add")
    wait_for(lambda: "adding 1 and 2" in log_lines(dsn, job), 10, "its output in its log")
    assert "a warning" in log_lines(dsn, job)


def test_the_scheduler_may_come_from_the_environment(manager, start_monitor, cluster,
                                                      monkeypatch):
    monkeypatch.setenv("JOBCONSOLE_DASK_SCHEDULER", cluster.scheduler_address)
    start_monitor()
    job = manager.create_job("from_env", ALICE, "DASK", function="dask_funcs:add",
                             args=[20], kwargs={"b": 22}).execute()
    wait_for(lambda: job.status == "Complete", 60, "the Dask job to complete")
    assert job.get_result() == 42


def test_a_failing_call_is_error_with_its_traceback(manager, dsn, start_monitor, cluster):
    start_monitor()
    job = manager.create_job("fails", ALICE, "DASK", scheduler=cluster.scheduler_address,
                             function="dask_funcs:fail", args=["no good"]).execute()
    wait_for(lambda: job.status == "Error", 60, "the Dask job to fail")
    info = api.get_task(dsn, job.id).info()
    assert info.error_kind == "error" and "ValueError: no good" in info.traceback


def test_stop_ends_a_running_call(manager, dsn, start_monitor, cluster, tmp_path):
    start_monitor()
    marker = tmp_path / "pids"
    job = manager.create_job("long", ALICE, "DASK", scheduler=cluster.scheduler_address,
                             function="dask_funcs:sleep_marked",
                             args=[300, str(marker)]).execute()
    wait_for(lambda: job.status == "Running" and marker.exists(), 60, "the call to run")
    call_pid = int(marker.read_text().split()[1])
    job.stop()
    wait_for(lambda: job.status == "Aborted", 60, "the job to be aborted")
    wait_for(lambda: not pid_alive(call_pid), 30, "the call's process to end")


def test_a_call_whose_dask_worker_dies_ends_as_a_crash_and_does_not_run_again(
        manager, dsn, start_monitor, cluster, tmp_path):
    start_monitor()
    marker = tmp_path / "pids"
    job = manager.create_job("killed", ALICE, "DASK", scheduler=cluster.scheduler_address,
                             function="dask_funcs:sleep_marked",
                             args=[300, str(marker)]).execute()
    wait_for(lambda: job.status == "Running" and marker.exists(), 60, "the call to run")
    worker_pid, call_pid = map(int, marker.read_text().split())
    marker.unlink()
    os.kill(worker_pid, signal.SIGKILL)
    wait_for(lambda: job.status == "Error", 60, "the job to end")
    info = api.get_task(dsn, job.id).info()
    assert info.error_kind == "crash"
    wait_for(lambda: not pid_alive(call_pid), 30, "the orphaned call to end")
    assert not marker.exists(), "the call ran a second time"
    cluster.wait_for_workers(2, timeout=60)


def test_an_unreachable_scheduler_leaves_the_job_pending(manager):
    job = manager.create_job("nowhere", ALICE, "DASK", scheduler="tcp://127.0.0.1:9",
                             function="dask_funcs:add", args=[1, 2])
    with pytest.raises(EngineUnavailable, match="stays Pending.*tcp://127.0.0.1:9"):
        job.execute()
    assert job.status == "Pending"


def test_bad_dask_jobs_are_refused_in_one_line(manager, cluster):
    address = cluster.scheduler_address
    with pytest.raises(BadInput, match="needs a function"):
        manager.create_job("a", ALICE, "DASK", scheduler=address).save()
    with pytest.raises(BadInput, match="cannot be imported"):
        manager.create_job("b", ALICE, "DASK", scheduler=address,
                           function="no_such_module:f").save()
    with pytest.raises(BadInput, match="cannot be imported by the Dask workers"):
        manager.create_job("c", ALICE, "DASK", scheduler=address,
                           function=lambda: 1).save()
    with pytest.raises(BadInput, match="needs a scheduler"):
        manager.create_job("d", ALICE, "DASK", function="dask_funcs:add").save()
    with pytest.raises(BadInput, match="not JSON-serialisable"):
        manager.create_job("e", ALICE, "DASK", scheduler=address, function="dask_funcs:add",
                           args=[object()]).save()
    assert manager.list_jobs() == []


def test_a_workflow_mixes_dask_and_basic_nodes(manager, dsn, start_monitor, cluster):
    flow = manager.create_job("mixed", ALICE, "WORKFLOW")
    first = WorkflowJobNode("first", flow, "DASK", scheduler=cluster.scheduler_address,
                            function="dask_funcs:add", args=[1, 1])
    then = WorkflowJobNode("then", flow, "BASIC", operation="double", input=2)
    then.add_parent(first)
    start_monitor()
    flow.execute()
    wait_for(lambda: flow.status == "Complete", 60, "the workflow to complete")
    assert flow.get_result() == {"first": 2, "then": 4}


def pid_alive(pid):
    return subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode == 0


def test_delete_stops_a_running_call_and_removes_the_job(manager, dsn, start_monitor,
                                                         cluster, tmp_path):
    start_monitor()
    marker = tmp_path / "pids"
    job = manager.create_job("doomed", ALICE, "DASK", scheduler=cluster.scheduler_address,
                             function="dask_funcs:sleep_marked",
                             args=[300, str(marker)]).execute()
    wait_for(lambda: job.status == "Running" and marker.exists(), 60, "the call to run")
    call_pid = int(marker.read_text().split()[1])
    job.delete()
    assert manager.list_jobs() == [] and api.list_tasks(dsn) == []
    wait_for(lambda: not pid_alive(call_pid), 30, "the call's process to end")
